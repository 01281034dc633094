"""Players and the sandbox: every way an agent can fail becomes the right forfeit, and the arena survives it.

The agents under test are real agent packages written into ``tmp_path`` and run in real sandbox processes.
Only the timeout tests use small time limits (the others keep the defaults, so a loaded machine cannot fail
them); each asserts the call returned within the limit + 1 s, the bound the arena promises.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from agents.base import AgentPackageError, EnvSpaces, load_agent
from arena import isolation
from arena.launch import probe_agent, start_player
from arena.players import DEFAULT_LIMITS, AgentFailure, AgentRef, InProcessPlayer, Limits, check_action
from arena.results import Status
from arena.sandbox import SandboxPlayer

CARTPOLE = EnvSpaces(gym.spaces.Box(-np.inf, np.inf, (4,), np.float32), gym.spaces.Discrete(2), "CartPole-v1")
OBSERVATION = np.array([0.01, -0.02, 0.03, 0.04], dtype=np.float32)
FAST = Limits(move_time_s=0.5, match_time_s=60.0, startup_time_s=30.0)

BOT = """\
import os, sys, time
import numpy as np

class Bot:
    name = "bot"

    def __init__(self, spaces, **kwargs):
        self.spaces, self.kwargs = spaces, kwargs
{init}
    def reset(self, seed=None):
        self.moves = 0

    def act(self, observation, info):
        self.moves += 1
{act}

def make_agent(spaces, **kwargs):
{factory}    return Bot(spaces, **kwargs)
"""


def write_package(
    directory: Path, act: str = "return 0", *, init: str = "", factory: str = "", envs=("CartPole-v1",)
) -> Path:
    """An agent package whose ``Bot`` runs the given code in ``act`` (and ``__init__``, ``make_agent``)."""
    directory.mkdir()

    def body(code: str, indent: int) -> str:
        return textwrap.indent(textwrap.dedent(code).strip() + "\n", " " * indent) if code else ""

    source = BOT.format(init=body(init, 8), act=body(act, 8), factory=body(factory, 4))
    (directory / "bot.py").write_text(source)
    env_list = ", ".join(f'"{e}"' for e in envs)
    (directory / "agent.toml").write_text(
        f'name = "bot"\nversion = "1.0"\nentry_point = "bot:make_agent"\nenvs = [{env_list}]\n'
    )
    return directory


def failure_of(player, calls: int = 1) -> tuple[AgentFailure, float]:
    """Reset, then act until the player fails; the failure and how long the failing call took (s)."""
    player.reset(0)
    for _ in range(calls):
        start = time.monotonic()
        try:
            player.act(OBSERVATION, {})
        except AgentFailure as failure:
            return failure, time.monotonic() - start
    raise AssertionError(f"the agent did not fail within {calls} moves")


def sandboxed(tmp_path: Path, act: str, limits: Limits = DEFAULT_LIMITS, **package) -> SandboxPlayer:
    ref = AgentRef("bot", path=write_package(tmp_path / "bot", act, **package))
    return start_player(ref, CARTPOLE, limits)


def is_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs: no such process, or a zombie that is not ours to reap."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not isolation.running_as_root(), reason="an ordinary user's agent keeps the user's uid")
def test_a_package_other_users_cannot_read_is_refused_naming_the_file_and_the_fix(tmp_path):
    """As root, the arena plays an agent under a fresh uid, which cannot read a 0600 file (safetensors writes
    its files so) or enter a 0700 folder: the player fails before anything starts, and a submission's probe
    says the same as a package error."""
    package = write_package(tmp_path / "bot")
    weights = package / "weights" / "model.safetensors"
    weights.parent.mkdir()
    weights.write_bytes(b"")
    for path, mode, shown in ((weights, 0o600, "600"), (weights.parent, 0o700, "700")):
        path.chmod(mode)
        with pytest.raises(AgentFailure, match=rf"{path} \(mode {shown}\) is not readable") as failure:
            start_player(AgentRef("bot", path=str(package)), CARTPOLE)
        assert failure.value.status is Status.ERROR and f"chmod -R a+rX {package}" in failure.value.reason
        with pytest.raises(AgentPackageError, match="is not readable by other users"):
            probe_agent(package)
        path.chmod(0o755)
    (package / "gone").symlink_to(tmp_path / "nowhere")  # a dangling link is left to the agent, not followed
    assert isolation.unreadable_by_others(package) is None


# ---- what a player is and how it is chosen


def test_agent_ref_needs_exactly_one_source_and_only_directories_are_untrusted():
    with pytest.raises(ValueError, match="exactly one of builtin"):
        AgentRef("x")
    with pytest.raises(ValueError, match="exactly one of builtin"):
        AgentRef("x", builtin="random", path="somewhere")
    assert AgentRef("x", builtin="random").trusted
    assert not AgentRef("x", path="somewhere").trusted
    with pytest.raises(ValueError, match="memory_mb"):
        Limits(memory_mb=10)
    with pytest.raises(ValueError, match="move_time_s"):
        Limits(move_time_s=0)
    with pytest.raises(ValueError, match="always runs sandboxed"):
        start_player(AgentRef("x", path="somewhere"), CARTPOLE, sandbox=False)


def test_sandboxed_and_in_process_random_agents_with_one_seed_play_the_same_actions():
    """The sandbox changes where an agent runs, not what it does: same seed, same action sequence."""
    ref = AgentRef("random", builtin="random")
    inside = start_player(ref, CARTPOLE)
    assert isinstance(inside, InProcessPlayer)
    with start_player(ref, CARTPOLE, sandbox=True) as outside:
        assert isinstance(outside, SandboxPlayer)
        inside.reset(7)
        outside.reset(7)
        ours = [inside.act(OBSERVATION, {}) for _ in range(50)]
        theirs = [outside.act(OBSERVATION, {}) for _ in range(50)]
    assert ours == theirs
    assert all(type(a) is int and a in (0, 1) for a in theirs)
    assert 0 < sum(ours) < 50  # a random agent, not a constant one


def test_well_behaved_package_plays_a_cartpole_episode_exactly_as_it_does_in_process(tmp_path):
    """A deterministic policy (push towards the pole's lean) returns the same episode whether sandboxed or
    loaded directly, and its prints (``print`` and ``os.write(1, ...)``) do not disturb the protocol."""
    act = """
        print("thinking about", observation)
        os.write(1, b"\\x00\\xffnot a frame\\n")
        return np.int64(1 if observation[2] + 0.5 * observation[3] > 0 else 0)
    """
    directory = write_package(tmp_path / "bot", act)

    def episode(agent) -> list[int]:
        env = gym.make("CartPole-v1")
        observation, info = env.reset(seed=3)
        agent.reset(3)
        actions, done = [], False
        while not done:
            action = agent.act(observation, info)
            actions.append(int(action))
            observation, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        return actions

    direct = episode(load_agent(directory, CARTPOLE))
    with start_player(AgentRef("bot", path=directory), CARTPOLE) as player:
        assert episode(player) == direct
    assert len(direct) > 100  # the policy balances the pole for a while: the actions carried information


def test_box_actions_round_trip_exactly_because_float32_values_are_float64_values(tmp_path):
    """float32 → JSON (a float64 repr, which round-trips) → float32 is the identity; the dtype is kept."""
    spaces = EnvSpaces(CARTPOLE.observation_space, gym.spaces.Box(-1.0, 1.0, (4,), np.float32))
    ref = AgentRef("bot", path=write_package(tmp_path / "bot", "return (observation / 3).astype(np.float32)"))
    with start_player(ref, spaces) as player:
        player.reset(0)
        action = player.act(OBSERVATION, {})
    assert action.dtype == np.float32 and action.shape == (4,)
    np.testing.assert_array_equal(action, (OBSERVATION / 3).astype(np.float32))


# ---- faults: each is a forfeit with the right status and reason


def test_raising_in_act_is_an_error_naming_the_exception_and_the_line(tmp_path):
    with sandboxed(tmp_path, "raise ValueError('boom')") as player:
        failure, _ = failure_of(player)
        assert failure.status is Status.ERROR
        assert "act raised ValueError: boom (at bot.py:" in failure.reason
        with pytest.raises(AgentFailure) as again:  # a forfeited player stays forfeited
            player.act(OBSERVATION, {})
        assert again.value is failure


def test_raising_in_the_factory_is_an_error_of_building(tmp_path):
    player = sandboxed(tmp_path, "return 0", factory="raise RuntimeError('no weights')")
    with player, pytest.raises(AgentFailure) as caught:
        player.reset(0)
    assert caught.value.status is Status.ERROR
    assert "building the agent raised RuntimeError: no weights" in caught.value.reason


def test_a_move_past_move_time_is_a_timeout_enforced_within_the_limit_plus_one_second(tmp_path):
    with sandboxed(tmp_path, "time.sleep(30)", FAST) as player:
        player.reset(0)
        pids = player.processes()
        failure, elapsed = failure_of(player)
        assert failure.status is Status.TIMEOUT
        assert "move_time_s=0.5" in failure.reason
        assert elapsed < FAST.move_time_s + 1.0
        assert pids and all(is_gone(pid) for pid in pids)  # killed and reaped at once, not at close


def test_thinking_time_past_match_time_is_a_timeout_at_the_first_move_that_crosses_it(tmp_path):
    """Moves of 0.3 s against match_time_s = 0.8 s: two fit (0.6 s), the third crosses and is cut off."""
    limits = Limits(move_time_s=1.0, match_time_s=0.8, startup_time_s=30.0)
    with sandboxed(tmp_path, "time.sleep(0.3); return 0", limits) as player:
        player.reset(0)
        assert [player.act(OBSERVATION, {}) for _ in range(2)] == [0, 0]
        start = time.monotonic()
        with pytest.raises(AgentFailure) as caught:
            player.act(OBSERVATION, {})
        assert time.monotonic() - start < 0.8 - 0.6 + 1.0
    assert caught.value.status is Status.TIMEOUT
    assert "match_time_s=0.8" in caught.value.reason


def test_building_past_startup_time_is_a_timeout(tmp_path):
    limits = Limits(move_time_s=0.5, startup_time_s=1.0)
    start = time.monotonic()
    player = sandboxed(tmp_path, "return 0", limits, factory="time.sleep(30)")
    with player, pytest.raises(AgentFailure) as caught:
        player.reset(0)
    assert time.monotonic() - start < 1.0 + 1.0
    assert caught.value.status is Status.TIMEOUT
    assert "startup_time_s=1" in caught.value.reason


def test_an_action_outside_the_space_is_invalid(tmp_path):
    with sandboxed(tmp_path, "return 7") as player:
        failure, _ = failure_of(player)
    assert failure.status is Status.INVALID
    assert "action 7 is not in Discrete(2)" in failure.reason


def test_an_action_that_cannot_be_encoded_is_invalid(tmp_path):
    with sandboxed(tmp_path, "return object()") as player:
        failure, _ = failure_of(player)
    assert failure.status is Status.INVALID
    assert "cannot be sent" in failure.reason


def test_os_exit_is_an_error_with_the_exit_code(tmp_path):
    with sandboxed(tmp_path, "sys.stderr.write('leaving now\\n'); os._exit(3)") as player:
        failure, elapsed = failure_of(player)
    assert failure.status is Status.ERROR
    assert "exited with code 3" in failure.reason
    assert "leaving now" in failure.reason  # the tail of the agent's log explains it
    assert elapsed < 1.0


def test_a_segfault_is_an_error_naming_the_signal(tmp_path):
    with sandboxed(tmp_path, "import ctypes; ctypes.string_at(0)") as player:
        failure, _ = failure_of(player)
    assert failure.status is Status.ERROR
    assert "killed by signal SIGSEGV" in failure.reason


@pytest.mark.parametrize(
    ("memory_mb", "factory", "act"),
    [
        (512, "", "hoard = np.ones(2 * 1024**3, dtype=np.uint8)"),
        (1024, "import torch", "import torch; hoard = torch.ones(4 * 1024**3, dtype=torch.uint8)"),
    ],
    ids=["numpy", "torch"],
)
def test_allocating_beyond_memory_mb_is_an_error_naming_the_memory_limit(tmp_path, memory_mb, factory, act):
    """Four times the address space allowed: RLIMIT_AS refuses it (numpy raises MemoryError, torch a
    RuntimeError saying it cannot allocate) and the agent forfeits."""
    with sandboxed(tmp_path, act + "; return 0", Limits(memory_mb=memory_mb), factory=factory) as player:
        failure, _ = failure_of(player)
    assert failure.status is Status.ERROR
    assert f"memory limit (memory_mb={memory_mb})" in failure.reason


def test_garbage_written_on_the_protocol_pipe_is_an_error_quoting_it(tmp_path):
    """The agent hunts for the reply pipe (any writable FIFO) and writes text on it instead of a frame."""
    act = """
        import stat
        for fd in range(3, 64):
            try:
                if stat.S_ISFIFO(os.fstat(fd).st_mode):
                    os.write(fd, b"hello arena, this is not a frame")
            except OSError:
                pass
        time.sleep(0.2)
        return 0
    """
    with sandboxed(tmp_path, act) as player:
        failure, _ = failure_of(player)
    assert failure.status is Status.ERROR
    assert "protocol error" in failure.reason and "hell" in failure.reason


def test_opening_a_socket_to_a_local_listener_fails_in_the_sandbox(tmp_path):
    """seccomp answers socket(AF_INET, ...) with EAFNOSUPPORT: only AF_UNIX sockets exist in the sandbox."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        act = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=1); return 0"
        with sandboxed(tmp_path, act) as player:
            failure, _ = failure_of(player)
        listener.settimeout(0.0)
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert failure.status is Status.ERROR
    assert "Address family not supported" in failure.reason


def test_a_libc_socket_reaches_nothing_from_the_network_namespace(tmp_path):
    """Calling libc directly gets the same refusal; behind it the network namespace has no interface up."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        act = f"""
            import ctypes, socket, struct
            libc = ctypes.CDLL(None)
            fd = libc.socket(2, 1, 0)
            port = struct.pack(">H", {port})
            address = struct.pack("=H", 2) + port + socket.inet_aton("127.0.0.1") + bytes(8)
            return int(fd >= 0 and libc.connect(fd, address, 16) == 0)
        """
        with sandboxed(tmp_path, act) as player:
            player.reset(0)
            connected = player.act(OBSERVATION, {})
        listener.settimeout(0.0)
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert connected == 0


def test_the_agent_starts_in_an_empty_home_without_the_arenas_environment(tmp_path, monkeypatch):
    """Each flag is 1 when it holds inside the sandbox: an empty fresh working directory that is also HOME,
    and no trace of a variable the arena's process has (it could leak into a stored error message)."""
    monkeypatch.setenv("ARENA_TEST_SECRET", "s3cret")
    act = f"""
        fresh = os.listdir(".") == [] and os.getcwd() != {str(Path.cwd())!r}
        return np.array([fresh, os.environ.get("HOME") == os.getcwd(), "ARENA_TEST_SECRET" not in os.environ])
    """
    spaces = EnvSpaces(CARTPOLE.observation_space, gym.spaces.MultiBinary(3))
    with start_player(AgentRef("bot", path=write_package(tmp_path / "bot", act)), spaces) as player:
        player.reset(0)
        assert player.act(OBSERVATION, {}).tolist() == [1, 1, 1]


def test_closing_kills_what_the_agent_started_and_leaves_no_process(tmp_path):
    """A child, and a grandchild that left the session by double fork + setsid, die with the match."""
    init = """
        import subprocess
        subprocess.Popen(["sleep", "60"])
        subprocess.Popen(["setsid", "sh", "-c", "sleep 60 &"])
        time.sleep(0.3)
    """
    with sandboxed(tmp_path, "return 0", init=init) as player:
        player.reset(0)
        assert player.act(OBSERVATION, {}) == 0
        pids = player.processes()
    assert len(pids) >= 3  # the worker, the sleep and the detached sleep
    assert all(is_gone(pid) for pid in pids)


def test_an_agent_busy_in_act_dies_soon_after_its_arena_is_killed(tmp_path):
    """An arena process is SIGKILLed while its agent sleeps inside ``act``: the agent's pipe gives it no
    news there, so only bubblewrap's --die-with-parent can end it, at once."""
    directory = write_package(tmp_path / "bot", "time.sleep(60); return 0")
    arena = f"""
import sys, threading, time
import gymnasium as gym, numpy as np
from agents.base import EnvSpaces
from arena.launch import start_player
from arena.players import AgentRef, Limits
spaces = EnvSpaces(gym.spaces.Box(-1.0, 1.0, (4,), np.float32), gym.spaces.Discrete(2))
player = start_player(AgentRef("bot", path={str(directory)!r}), spaces, Limits(move_time_s=120.0))
player.reset(0)
threading.Timer(0.3, lambda: print(*player.processes(), flush=True)).start()
player.act(np.zeros(4, np.float32), {{}})
"""
    process = subprocess.Popen([sys.executable, "-c", arena], stdout=subprocess.PIPE, text=True)
    try:
        agent_pids = [int(pid) for pid in process.stdout.readline().split()]
    finally:
        process.kill()
        process.wait()
    deadline = time.monotonic() + 2.0
    while not all(is_gone(pid) for pid in agent_pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert agent_pids and all(is_gone(pid) for pid in agent_pids)


def test_an_agent_importing_torch_fits_the_default_limits_and_may_answer_with_a_tensor(tmp_path):
    """torch maps ~0.7 GiB of address space on import, well inside the default 4 GiB RLIMIT_AS. It is
    imported while building (the start-up limit), as an agent module's imports are."""
    act = "import torch; return torch.tensor(1)"
    with sandboxed(tmp_path, act, Limits(), factory="import torch") as player:
        player.reset(0)
        assert player.act(OBSERVATION, {}) == 1


# ---- in-process players judge the same things after the fact


def test_in_process_player_turns_failures_into_forfeits_after_the_fact(tmp_path):
    with pytest.raises(AgentFailure) as caught:
        start_player(AgentRef("random", builtin="random", kwargs={"bogus": 1}), CARTPOLE)
    assert caught.value.status is Status.ERROR and "TypeError" in caught.value.reason

    slow = AgentRef("bot", path=write_package(tmp_path / "slow", "time.sleep(0.3); return 0"))
    player = InProcessPlayer(slow, CARTPOLE, Limits(move_time_s=0.1))
    failure, elapsed = failure_of(player)
    assert failure.status is Status.TIMEOUT and "move_time_s=0.1" in failure.reason
    assert elapsed >= 0.3  # it could not be pre-empted, only judged

    wrong = AgentRef("bot", path=write_package(tmp_path / "wrong", "return 2"))
    failure, _ = failure_of(InProcessPlayer(wrong, CARTPOLE))
    assert failure.status is Status.INVALID


# ---- checking actions


def test_check_action_casts_to_the_space_and_rejects_what_is_outside_it():
    discrete = gym.spaces.Discrete(3)
    assert check_action(np.int64(2), discrete) == 2 and type(check_action(2.0, discrete)) is int
    box = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    assert check_action([0.5, -0.5], box).dtype == np.float32
    for action, space in [
        (1.5, discrete),
        (3, discrete),
        ([0.5], box),
        ([np.nan, 0.0], box),
        ([2.0, 0.0], box),
        ("a", discrete),
        ([1, 2], gym.spaces.MultiDiscrete([2, 2])),
        ([0.5, 1.0], gym.spaces.MultiDiscrete([2, 2])),
        ([1.5], gym.spaces.Box(0, 5, (1,), np.int64)),
    ]:
        with pytest.raises(AgentFailure) as caught:
            check_action(action, space)
        assert caught.value.status is Status.INVALID
    with pytest.raises(AgentFailure, match="masked out"):
        check_action(1, discrete, {"action_mask": np.array([1, 0, 1], dtype=np.int8)})
    assert check_action(2, discrete, {"action_mask": np.array([1, 0, 1], dtype=np.int8)}) == 2


# ---- probing a submission


def test_probe_accepts_a_good_package_on_single_and_multi_agent_envs(tmp_path, registered_test_envs):
    ids = [registered_test_envs["cartpole"], registered_test_envs["pennies"]]
    directory = write_package(tmp_path / "bot", "return self.spaces.action_space.n - 1", envs=ids)
    assert probe_agent(directory) == ids


def test_probe_reports_a_bad_manifest_by_field(tmp_path):
    directory = write_package(tmp_path / "bot")
    (directory / "agent.toml").write_text('name = "bot"\nversion = "1.0"\nenvs = ["CartPole-v1"]\n')
    with pytest.raises(AgentPackageError, match="field 'entry_point': is required"):
        probe_agent(directory)


def test_probe_reports_an_unknown_env(tmp_path):
    directory = write_package(tmp_path / "bot", envs=["arena/NoSuchEnv-v0"])
    with pytest.raises(AgentPackageError, match="'arena/NoSuchEnv-v0' is not a registered env"):
        probe_agent(directory)


def test_probe_reports_an_import_error_as_a_package_error_naming_the_env(tmp_path, registered_test_envs):
    env_id = registered_test_envs["cartpole"]
    directory = write_package(tmp_path / "bot", envs=[env_id])
    (directory / "bot.py").write_text("import no_such_module_anywhere\n" + (directory / "bot.py").read_text())
    with pytest.raises(AgentPackageError) as caught:
        probe_agent(directory)
    assert str(caught.value).startswith(f"{env_id}: ")
    assert "no_such_module_anywhere" in str(caught.value)


@pytest.mark.parametrize(
    ("act", "factory", "limits", "status", "reason"),
    [
        (
            "return 0",
            "raise RuntimeError('no weights')",
            DEFAULT_LIMITS,
            Status.ERROR,
            "RuntimeError: no weights",
        ),
        ("return -1", "", DEFAULT_LIMITS, Status.INVALID, "action -1 is not in Discrete(2)"),
        ("time.sleep(30)", "", FAST, Status.TIMEOUT, "move_time_s=0.5"),
    ],
    ids=["factory-crash", "wrong-action", "too-slow"],
)
def test_probe_reports_a_misbehaving_agent_with_its_status_and_the_env(
    tmp_path, registered_test_envs, act, factory, limits, status, reason
):
    env_id = registered_test_envs["cartpole"]
    directory = write_package(tmp_path / "bot", act, factory=factory, envs=[env_id])
    with pytest.raises(AgentFailure) as caught:
        probe_agent(directory, limits=limits)
    assert caught.value.status is status
    assert caught.value.reason.startswith(f"{env_id}: ") and reason in caught.value.reason

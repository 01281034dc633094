"""Every registered env renders in each mode it declares, as Gymnasium's (and PettingZoo's) conventions say.

For each single-agent id and declared mode: Gymnasium's own render check passes (the check ``check_env`` runs
on the declared modes), ``rgb_array`` gives an (H, W, 3) uint8 frame and ``ansi`` a string, the frame
changes when the state does, the same seed and actions give the same frame, and an unknown mode is refused
naming the allowed ones. The text renderings are compared with the env's own info (a known answer), and the
Werewolf transcript is checked to be exactly the public lines of the game log.
"""

import functools
import os
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import load_env_creator
from gymnasium.utils.passive_env_checker import env_render_passive_checker

import envs
from envs import mask_for_space

SINGLE = [r.id for r in envs.list_envs(kind="single")]
DECLARED = {i: load_env_creator(gym.spec(i).entry_point).metadata["render_modes"] for i in SINGLE}
MODES = [(env_id, mode) for env_id, modes in DECLARED.items() for mode in modes if mode != "human"]
MUJOCO = {r.id for r in envs.list_envs(domain="qd")} - {"arena/QDPointMaze-v0"}
# Ids whose single env is our class; the classic-control ids play Gymnasium's own, which only warns about an
# unknown render mode.
OURS = [i for i in SINGLE if str(gym.spec(i).entry_point).startswith("envs.")]
STEPS = 5


@pytest.fixture(autouse=True)
def headless_mujoco(monkeypatch):
    """MuJoCo's offscreen EGL backend when no backend is chosen (its default, GLFW, needs a display)."""
    monkeypatch.setenv("MUJOCO_GL", os.environ.get("MUJOCO_GL", "egl"))


@functools.cache
def _mujoco_render_error() -> str | None:
    """Why MuJoCo cannot render offscreen on this machine (no working OpenGL backend), or None."""
    try:
        env = gym.make("Hopper-v5", render_mode="rgb_array", width=32, height=32)
        env.reset(seed=0)
        env.render()
        env.close()
    except Exception as error:  # MuJoCo's FatalError, Gymnasium's RuntimeError, PyOpenGL's errors
        return f"MUJOCO_GL={os.environ['MUJOCO_GL']}: {type(error).__name__}: {error}"
    return None


def _make(env_id: str, mode: str | None):
    """``gym.make`` with ``render_mode``; a MuJoCo id is skipped, naming why, where MuJoCo cannot render."""
    if mode is not None and env_id in MUJOCO and _mujoco_render_error():
        pytest.skip(f"MuJoCo cannot render here ({_mujoco_render_error()})")
    return gym.make(env_id, render_mode=mode)


def _play(env, seed: int, steps: int = STEPS):
    """Reset with ``seed`` and take ``steps`` seeded actions (legal ones under a mask; a search call for the
    text interface); returns the frame after the reset and after the steps."""
    _, info = env.reset(seed=seed)
    first = env.render()
    space = env.action_space
    space.seed(seed)
    for _ in range(steps):
        if isinstance(space, gym.spaces.Text):
            action = f"search[{info['question']['subject']}]"
        else:
            action = space.sample(mask=mask_for_space(space, info.get("action_mask")))
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    return first, env.render()


def _same(a, b) -> bool:
    return a == b if isinstance(a, str) else np.array_equal(a, b)


@pytest.mark.parametrize(("env_id", "mode"), MODES)
def test_declared_render_mode_returns_its_type_and_passes_gymnasiums_render_check(env_id, mode):
    """rgb_array: an (H, W, 3) uint8 array; ansi: a non-empty str; render_fps declared and > 0 (Gymnasium's
    passive render checker, as ``check_env`` runs it on every declared mode)."""
    env = _make(env_id, mode)
    env.reset(seed=0)
    frame = env_render_passive_checker(env.unwrapped)
    if mode == "rgb_array":
        assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
        assert frame.ndim == 3 and frame.shape[2] == 3 and min(frame.shape[:2]) >= 100
    else:
        assert isinstance(frame, str) and frame
    assert env.unwrapped.metadata["render_fps"] > 0
    env.close()


@pytest.mark.parametrize(("env_id", "mode"), MODES)
def test_frame_changes_when_the_state_changes(env_id, mode):
    env = _make(env_id, mode)
    before, after = _play(env, seed=0)
    env.close()
    assert not _same(before, after)


@pytest.mark.parametrize(("env_id", "mode"), MODES)
def test_same_seed_and_actions_give_the_same_frame(env_id, mode):
    first, second = _make(env_id, mode), _make(env_id, mode)
    frames = [_play(env, seed=3) for env in (first, second)]
    for env in (first, second):
        env.close()
    assert _same(frames[0][0], frames[1][0]) and _same(frames[0][1], frames[1][1])


@pytest.mark.parametrize("env_id", OURS)
def test_unknown_render_mode_is_refused_naming_the_allowed_ones(env_id):
    allowed = DECLARED[env_id]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # gym.make's own warning about the mode
        with pytest.raises(ValueError, match=rf"render_mode='cinema'.*{allowed[0]!r}"):
            gym.make(env_id, render_mode="cinema")


def test_envs_made_without_render_mode_never_import_matplotlib():
    """Rendering costs nothing when not asked for: every id stepped without a render mode leaves
    matplotlib unimported (a fresh interpreter, since other tests import it)."""
    script = (
        "import sys, gymnasium as gym, envs\n"
        "for r in envs.list_envs(kind='single'):\n"
        "    env = gym.make(r.id)\n"
        "    _, info = env.reset(seed=0)\n"
        "    space = env.action_space\n"
        "    action = 'search[x]' if isinstance(space, gym.spaces.Text) else space.sample(\n"
        "        mask=envs.mask_for_space(space, info.get('action_mask')))\n"
        "    env.step(action)\n"
        "    assert env.render() is None\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
    )
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_motor_ansi_line_shows_the_info_states_and_references_in_si_units():
    env = _make("arena/PMSMCurrent-v0", "ansi")
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.zeros(3, dtype=np.float32))
    line = env.render()
    assert line.startswith("t=0.0001 s  ")  # one step of tau = 1e-4 s
    for name in ("omega", "i_d", "i_q", "u_d", "u_q"):
        assert f"{name}={info[name]:.4g}" in line
    for name, value in info["reference"].items():
        assert f"{name}_ref={value:.4g}" in line


def test_inventory_ansi_table_shows_the_stock_and_demand_of_the_info():
    env = _make("arena/InventoryWarehouseStores-v0", "ansi")
    env.reset(seed=0)
    orders = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)  # per edge: warehouse -> store 0..2, supplier
    _, _, _, _, info = env.step(orders)
    rows = env.render().splitlines()
    assert rows[0] == "period 1"
    for i, row in enumerate(rows[2:]):
        name, on_hand, demand, ordered, _ = row.split(maxsplit=4)
        assert name == ("warehouse0" if i == 3 else f"store{i}")
        assert float(on_hand) == pytest.approx(info["on_hand"][i], rel=1e-3)  # 4 significant digits
        assert demand == ("-" if i == 3 else f"{info['demand'][i]:.4g}")
        assert float(ordered) == orders[i]  # each node has one incoming edge, in node order


def test_iot_ansi_table_shows_each_nodes_queue_of_the_info():
    env = _make("arena/IoTScheduling-v0", "ansi")
    _, info = env.reset(seed=0)
    for _ in range(40):  # everything to the slowest node builds a queue there
        _, _, _, _, info = env.step(0)
    rows = env.render().splitlines()
    table = rows[rows.index(next(r for r in rows if r.startswith("node "))) + 1 :]
    assert [int(row.split()[3]) for row in table] == [len(q) for q in info["node_queue"]]
    assert int(table[0].split()[3]) > 0


def test_search_ansi_shows_question_calls_results_and_answer_but_never_the_gold_answer():
    env = _make("arena/SearchQAText-v0", "ansi")
    _, info = env.reset(seed=0)
    question = env.unwrapped.question
    env.step(f"search[{info['question']['subject']}]")
    _, _, _, _, info = env.step("answer[nobody]")
    text = env.render()
    assert text.startswith(f"Question: {question.text}\nAction: search[{info['question']['subject']}]\n")
    score = f"exact match {info['em']:g}, F1 {info['f1']:.2f}"
    ending = "Action: answer[nobody]\nObservation: Answer submitted.\n"
    assert text.endswith(f"{ending}Answer: nobody ({score})\n")
    if question.hops >= 2:  # one search never shows a multi-hop answer (the corpus guarantees it)
        assert not any(answer in text for answer in question.answers)


def test_search_human_mode_prints_each_part_once_and_returns_none(capsys):
    env = _make("arena/SearchQA-v0", "human")
    env.reset(seed=0)
    env.step(0)  # search the question's text
    assert env.render() is None  # nothing new: prints nothing
    printed = capsys.readouterr().out
    twin = _make("arena/SearchQA-v0", "ansi")
    twin.reset(seed=0)
    twin.step(0)
    assert printed == twin.render()


def test_search_vector_env_renders_each_copy():
    vector = gym.make_vec("arena/SearchQA-v0", num_envs=2, render_mode="ansi")
    vector.reset(seed=0)
    texts = vector.render()
    assert [t.splitlines()[0] for t in texts] == [f"Question: {e.question.text}" for e in vector.envs]


def test_pointmaze_ansi_map_puts_the_point_where_it_is():
    env = _make("arena/QDPointMaze-v0", "ansi")
    env.reset(seed=0, options={"start": (0.0, -1.0)})
    rows = env.render().splitlines()
    assert rows[20][20] == "@"  # bottom row (y = -1), middle column (x = 0) of the 21 x 41 map
    env.step(np.array([1.0, 1.0], dtype=np.float32))  # to (0.1, -0.9); columns are 0.05 m, rows 0.1 m
    rows = env.render().splitlines()
    assert rows[19][22] == "@" and rows[0].count("G") == 0 and rows[2][10] == "G"


def test_motor_rgb_array_plot_is_drawn_on_one_reused_figure():
    """Frames after the first only update data: the figure object is made once."""
    env = _make("arena/DCMotorSpeed-v0", "rgb_array")
    env.reset(seed=0)
    env.render()
    figure = env.unwrapped._figure
    env.step(np.ones(1, dtype=np.float32))
    frame = env.render()
    assert env.unwrapped._figure is figure and frame.shape == (480, 640, 3)


def _werewolf_game(env, seed: int):
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for agent in env.agent_iter():
        _, _, terminated, truncated, info = env.last()
        if terminated or truncated:
            env.step(None)
            continue
        space = env.action_space(agent)
        space.seed(int(rng.integers(2**31)))
        env.step(space.sample(mask=mask_for_space(space, info["action_mask"])))


@pytest.mark.parametrize("seed", range(5))
def test_werewolf_ansi_transcript_is_exactly_the_public_lines_of_the_game_log(seed):
    """No role, night chat, check or protection: only lines every player saw, in order."""
    env = envs.make_multi("werewolf", render_mode="ansi")
    _werewolf_game(env, seed)
    log = env.unwrapped.game.log
    public = [line for audience, line in log if audience == "everyone"]
    private = [line for audience, line in log if audience != "everyone"]
    text = env.unwrapped.render()
    assert private and text.splitlines() == public
    assert not any(line in text for line in private)


def test_werewolf_human_mode_prints_each_public_line_once(capsys):
    env = envs.make_multi("werewolf", render_mode="human")
    _werewolf_game(env, seed=0)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [line for audience, line in env.unwrapped.game.log if audience == "everyone"]


def test_record_video_writes_an_mp4_of_a_motor_episode(tmp_path):
    pytest.importorskip("moviepy", reason="gymnasium.wrappers.RecordVideo needs moviepy")
    env = gym.wrappers.RecordVideo(
        gym.make("arena/DCMotorCurrent-v0", render_mode="rgb_array", max_episode_steps=20),
        str(tmp_path / "videos"),
    )
    env.reset(seed=0)
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(np.zeros(1, dtype=np.float32))
        done = terminated or truncated
    env.close()
    videos = list((tmp_path / "videos").glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 0

"""TextArena games as PettingZoo envs (AEC and parallel), deterministic and isolated from global RNGs.

TextArena (an optional dependency, the ``text`` extra) plays text games turn by turn: one player at a time
reads its accumulated observation string and answers with a string. TextArena draws from Python's global
``random`` (its states call ``random.seed``); this adapter gives each env its own ``random`` and
``numpy.random`` states, swapped in around every call into TextArena and swapped out afterwards, so a seed
replays a game exactly while other games or code use the global generators.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, NamedTuple

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils import wrappers

CHARSET = "".join(chr(c) for c in range(32, 127)) + "\n"
_TO_ASCII = {ord("\t"): " ", ord("\r"): None}


def to_charset(text: str) -> str:
    """``text`` in printable ASCII and newlines: tabs become spaces, other characters become '?'."""
    text = text.translate(_TO_ASCII)
    return "".join(c if (" " <= c <= "~" or c == "\n") else "?" for c in text)


class _Ending(NamedTuple):
    """What TextArena reports when it ends a game, keyed by player index."""

    rewards: dict
    game_info: dict


class _TextArenaBase:
    """A TextArena game with PettingZoo's API.

    ## Description

    Any TextArena environment id (default ``SecretMafia-v0``: Mafia with villagers, mafia, a doctor and a
    detective, discussion rounds and votes) for ``num_players`` players, ``player_0`` ... ``player_{n-1}``
    being TextArena's players 0 ... n-1. Only one player moves at a time (``agent_selection``; in the
    parallel API, ``infos[agent]["acting"]``).

    ## Action space

    ``Text(max_action_length)`` over printable ASCII and newlines: the player's answer, as TextArena expects
    it (e.g. ``"[3]"`` to vote for player 3 in SecretMafia). Anything but a string counts as an empty answer.

    ## Observation space

    ``Dict(text=Text(max_observation_length))`` (a Dict, as PettingZoo's checks want array-like or dict
    observations): TextArena's observation string for that player (its role prompt and everything it has
    been shown), in printable ASCII and newlines (other characters become '?'); when longer than the bound,
    its head and its tail are kept. A player's observation is refreshed when it is to move.

    ## Rewards

    TextArena's final rewards (win +1, loss -1 in SecretMafia); 0 before the end and for a truncated game.
    The final ``infos[agent]`` hold TextArena's game info for that player (``role``, ``invalid_move``,
    ``turn_count``).

    ## Episode end

    Terminated when TextArena says the game is done; truncated after ``max_cycles`` moves.

    ## Arguments

    ``env_id`` (a TextArena id), ``num_players`` (as the game allows), ``max_cycles`` (1..100000, default
    500), ``max_observation_length`` and ``max_action_length`` (characters), ``render_mode`` (None or "ansi").

    ## Version history

    * v0: initial version.
    """

    metadata = {"name": "textarena_v0", "render_modes": ["ansi"], "is_parallelizable": False}
    # infos are empty (AEC) or ``acting`` (parallel) during the game; the final ones hold TextArena's game
    # info for that seat only (its own role, its counters, the public reason the game ended)
    privileged_info_keys: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        env_id: str = "SecretMafia-v0",
        num_players: int = 6,
        max_cycles: int = 500,
        max_observation_length: int = 20_000,
        max_action_length: int = 1_000,
        render_mode: str | None = None,
    ):
        import textarena

        for field, value, low, high in (
            ("num_players", num_players, 1, 64),
            ("max_cycles", max_cycles, 1, 100_000),
            ("max_observation_length", max_observation_length, 200, 10_000_000),
            ("max_action_length", max_action_length, 1, 100_000),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{field}={value!r} must be an integer in [{low}, {high}]")
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode={render_mode!r} must be None or 'ansi'")
        self.env_id = env_id
        self.max_cycles = max_cycles
        self.render_mode = render_mode
        self._py_state: Any = None
        self._np_state: Any = None
        with self._own_random():
            self._game = textarena.make(env_id)
        self.possible_agents = [f"player_{i}" for i in range(num_players)]
        self._action_spaces = {
            a: spaces.Text(max_action_length, min_length=0, charset=CHARSET) for a in self.possible_agents
        }
        self._observation_spaces = {
            a: spaces.Dict({"text": spaces.Text(max_observation_length, min_length=0, charset=CHARSET)})
            for a in self.possible_agents
        }
        self._rng: np.random.Generator | None = None

    def observation_space(self, agent: str) -> spaces.Dict:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Text:
        return self._action_spaces[agent]

    @contextmanager
    def _own_random(self) -> Iterator[None]:
        """Run TextArena on this env's own ``random`` and ``numpy.random`` states; restore the global ones."""
        saved_py, saved_np = random.getstate(), np.random.get_state()  # noqa: NPY002
        if self._py_state is not None:
            random.setstate(self._py_state)
            np.random.set_state(self._np_state)  # noqa: NPY002
        try:
            yield
        finally:
            self._py_state, self._np_state = random.getstate(), np.random.get_state()  # noqa: NPY002
            random.setstate(saved_py)
            np.random.set_state(saved_np)  # noqa: NPY002

    def _start(self, seed: int | None) -> None:
        if seed is not None or self._rng is None:
            self._rng, _ = seeding.np_random(seed)
        game_seed = int(self._rng.integers(2**31 - 1))
        self._py_state = random.Random(game_seed).getstate()
        self._np_state = np.random.RandomState(game_seed).get_state()
        with self._own_random():
            self._game.reset(num_players=len(self.possible_agents), seed=game_seed)
            player, text = self._game.get_observation()
        self._observations = {a: "" for a in self.possible_agents}
        self._moves = 0
        self._finished: _Ending | None = None
        self._current = self._note(player, text)

    def _note(self, player: int, text: Any) -> str:
        """Store the observation TextArena gave ``player``; return that player's agent name."""
        agent = self.possible_agents[player]
        text = to_charset(text if isinstance(text, str) else str(text))
        limit = self._observation_spaces[agent]["text"].max_length
        if len(text) > limit:
            head = limit // 4
            text = text[:head] + "\n...\n" + text[-(limit - head - 5) :]
        self._observations[agent] = text
        return agent

    def _move(self, action: Any) -> None:
        """Play the current player's answer; then either the next player is current or the game is over."""
        with self._own_random():
            done, _ = self._game.step(action=action if isinstance(action, str) else "")
            if done:
                rewards, game_info = self._game.close()
                self._finished = _Ending(rewards=rewards or {}, game_info=game_info or {})
            else:
                self._current = self._note(*self._game.get_observation())
        self._moves += 1

    @property
    def _over(self) -> bool:
        """TextArena ended the game, or ``max_cycles`` moves were played (a truncation)."""
        return self._finished is not None or self._moves >= self.max_cycles

    def _outcome(self, agents: list[str]) -> tuple[dict[str, float], dict[str, bool], dict[str, bool]]:
        """The reward, terminated and truncated flags of ``agents`` now: 0 and False while the game goes on;
        at the end TextArena's final rewards (0 for a truncated game), terminated if TextArena ended it."""
        if not self._over:
            return dict.fromkeys(agents, 0.0), dict.fromkeys(agents, False), dict.fromkeys(agents, False)
        done = self._finished is not None
        final = self._finished.rewards if done else {}
        rewards = {a: float(final.get(self.possible_agents.index(a), 0.0)) for a in agents}
        return rewards, dict.fromkeys(agents, done), dict.fromkeys(agents, not done)

    def _final_infos(self, agents: list[str]) -> dict[str, dict]:
        """TextArena's game info for each of ``agents`` (empty after a truncation)."""
        game_info = self._finished.game_info if self._finished is not None else {}
        return {a: dict(game_info.get(self.possible_agents.index(a), {})) for a in agents}

    def observe(self, agent: str) -> dict[str, str]:
        return {"text": self._observations[agent]}

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._observations[self._current]
        return None

    def close(self) -> None:
        pass


class raw_env(_TextArenaBase, AECEnv):
    __doc__ = _TextArenaBase.__doc__

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        self._start(seed)
        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos = {a: {} for a in self.agents}
        self.agent_selection = self._current

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        self._cumulative_rewards[agent] = 0.0
        self._move(action)
        if self._over:
            self.rewards, self.terminations, self.truncations = self._outcome(self.agents)
            self.infos = self._final_infos(self.agents)
            self.agent_selection = self.agents[0]
        else:
            self.agent_selection = self._current
        self._accumulate_rewards()


class TextArenaParallelEnv(_TextArenaBase, ParallelEnv):
    """The same game with PettingZoo's parallel API: each step plays the action of the player to move
    (``infos[agent]["acting"]``) and ignores the others'.

    Written here rather than ``aec_to_parallel(raw_env())``: that conversion steps every agent once per
    parallel step, while TextArena moves one player at a time.
    """

    def reset(self, seed: int | None = None, options: dict | None = None):
        self._start(seed)
        self.agents = list(self.possible_agents)
        return {a: self.observe(a) for a in self.agents}, self._infos()

    def _infos(self) -> dict[str, dict]:
        return {a: {"acting": a == self._current} for a in self.agents}

    def step(self, actions: dict[str, Any]):
        self._move(actions.get(self._current, ""))
        observations = {a: self.observe(a) for a in self.agents}
        rewards, terminations, truncations = self._outcome(self.agents)
        if not self._over:
            return observations, rewards, terminations, truncations, self._infos()
        infos, self.agents = self._final_infos(self.agents), []
        return observations, rewards, terminations, truncations, infos


def env(**kwargs: Any) -> AECEnv:
    """A TextArena game as a PettingZoo AEC env (in the order enforcing wrapper)."""
    return wrappers.OrderEnforcingWrapper(raw_env(**kwargs))


def parallel_env(**kwargs: Any) -> TextArenaParallelEnv:
    """A TextArena game with PettingZoo's parallel API."""
    return TextArenaParallelEnv(**kwargs)

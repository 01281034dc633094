"""Werewolf, the social deduction game, as a PettingZoo AEC env and a parallel env over one rules engine."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils import wrappers

from envs.werewolf.game import (
    OBSERVATION_CHARSET,
    PHASES,
    ROLES,
    TEAMS,
    TEXT_CHARSET,
    Rules,
    WerewolfGame,
    team_of,
)


class _WerewolfBase:
    """What the AEC and parallel versions share: rules, spaces, seeding, observations, infos, rewards, render.

    ## Description

    Werewolves (a hidden minority) kill one player each night; the village talks by day and votes to exile
    whom it suspects. The seer checks one player's side each night, the doctor protects one player. Players
    speak in free text, and every move also carries a structured target (and a bid where bidding applies), so
    language agents and non-language agents play the same game.

    | Import             | `envs.make_multi("werewolf")`                              |
    |--------------------|------------------------------------------------------------|
    | Actions            | Dict: text, target (and bid with bidding)                  |
    | Parallel API       | Yes (`envs.make_multi("werewolf", parallel=True)`)         |
    | Agents             | `agents = ['player_0', ..., 'player_6']` (num_players)     |
    | Roles (default)    | by size (7: 2 werewolves, seer, doctor, 3 villagers)       |
    | Action masks       | `infos[agent]["action_mask"]`, a dict matching the action  |
    | Observation        | Dict: text (transcript + own facts) and structured fields  |

    A round is: night (the werewolves talk among themselves, one after another, then werewolves vote for a
    victim while the seer checks and the doctor protects, all at once), dawn (the death, if any, is
    announced), day discussion (each living player speaks ``discussion_rounds`` times, round-robin starting
    one seat later each day; or, with ``speaking_order="bidding"``, all living players bid 0..max_bid before
    each speech and the highest bidder speaks, ties broken at random), day vote (all living players vote at
    once).
    With ``vote_rule="majority"`` a player is exiled only with more than half of the living players' votes;
    with ``"plurality"`` the most-voted player is exiled and a tie exiles nobody (``tie_rule="no_exile"``) or
    one of the tied at random (``"random"``). The villagers win when no werewolf lives; the werewolves win as
    soon as they are at least as many as the others. Killed and exiled players stay in ``agents`` without
    moves (``infos[agent]["alive"]`` is False) until the game ends, so that every seat gets its final reward.

    ## Action space

    ``Dict(text=Text(max_text_length, printable ASCII), target=Discrete(num_players + 1)[, bid=Discrete(
    max_bid + 1)])``; ``target == num_players`` means none (abstain), the bid key exists only with bidding.
    Text is read in night chat (werewolves only) and speeches; target is the suggested victim (chat), the
    victim/checked/protected player (night), the accused player (speech) or the vote; bid is read in bidding.
    The mask in ``infos[agent]["action_mask"]`` is a dict with the same keys: ``text`` is ``None`` when
    speaking and ``(0, None)`` (empty text only) otherwise, ``target`` and ``bid`` are int8 vectors. Parts of
    an action that the phase does not read are ignored; an action whose read parts are illegal (a masked
    target, text too long or not printable ASCII, a bid out of range, not a dict) counts as no action
    (silence, no target, bid 0) and is counted in ``infos[agent]["invalid_actions"]``.

    ## Observation space

    ``Dict`` of
    - ``text``: ``Text`` (printable ASCII and newlines) -- own seat and role, own private facts (werewolf
      partners, the seer's checks), the role counts, who is alive, the phase and what to do now, then the last
      ``transcript_window`` lines this player may see: public announcements, speeches, votes, and its own
      private lines (night chat for werewolves, its check for the seer, its protection for the doctor).
    - ``seat`` ``Discrete(n)``, ``role`` ``Discrete(4)`` (villager, werewolf, seer, doctor: own role only),
      ``phase`` ``Discrete(5)`` (night_chat, night, bid, speech, vote), ``day`` ``Discrete(max_cycles + 2)``,
    - ``alive`` ``MultiBinary(n)``, ``accused`` ``MultiDiscrete([n + 1] * n)`` (today's latest accusation of
      each player, n: none), ``votes`` ``MultiDiscrete([n + 1] * n)`` (each player's last day vote),
    - ``known_team`` ``MultiDiscrete([3] * n)``: what this player knows of each side, 0 unknown, 1 villagers,
      2 werewolves (own seat; all seats for a werewolf, who knows its partners; the seer's checks).

    No observation or info holds another player's private facts (roles, night chat, werewolf votes, checks,
    protections) before the game ends; ``tests/envs/werewolf`` checks this over thousands of random games.

    ## Rewards

    0 during the game. At the end each seat of the winning side gets +1 and each seat of the losing side -1,
    dead or alive; a game stopped by ``max_cycles`` is a draw, 0 for all. Every ``infos[agent]`` holds the
    seat's own ``role`` and ``team`` ("villagers" or "werewolves") from the reset on, so a tournament can
    seat agents by side; the final ones also ``winner`` ("villagers", "werewolves", or None for a draw).

    ## Starting state

    Roles are dealt to seats by a seeded shuffle, or taken from ``roles`` (a role name per seat, with exactly
    the configured counts) so that a tournament can rotate roles through seats deterministically. The game
    opens with night 1.

    ## Episode end

    Terminated when one side wins. Truncated (a draw) after ``max_cycles`` rounds of moves, a round being one
    resolution of a set of simultaneous moves (a night, a bidding round, a speech, a chat message, a vote).

    ## Win rates (default rules, 7 players, 2,000 games each, 95 % Wilson intervals)

    | players               | villagers win        | werewolves win       | moves/game |
    |-----------------------|----------------------|----------------------|------------|
    | scripted (balanced)   | 52.2 % [50.0, 54.4]  | 47.8 % [45.6, 50.0]  | 45.4       |
    | scripted (aggressive) | 32.9 % [30.8, 34.9]  | 67.2 % [65.1, 69.2]  | 38.5       |
    | scripted (cautious)   | 54.0 % [51.9, 56.2]  | 46.0 % [43.8, 48.1]  | 56.0       |
    | random (masked)       | 1.1 % [0.7, 1.6]     | 99.0 % [98.4, 99.3]  | 48.2       |

    Scripted: ``werewolf/scripted`` with that style in every seat; random: ``random`` (uniform legal moves).
    Measured with ``benchmarks.werewolf.play_werewolf(2000, seed=10_000, ...)``; no game was a draw. Random
    villagers almost never reach a majority against the werewolves' coordinated kills (as in other Werewolf
    and Mafia games under random play), while scripted play is close to even.

    ## Default roster by size

    ``num_werewolves``, ``num_seers``, ``num_doctors`` and ``doctor_self_protect`` left out take the roster of
    ``num_players`` from this table (``envs.werewolf.game.ROSTERS``); each one given explicitly is kept. Each
    roster is the one whose villagers' win rate, with balanced scripted players in every seat under the
    default rules, came closest to one half on tuning games (200 to 3,000 per roster, seeded as ``arena bench
    werewolf --seeds 0-9`` seeds them). The rate shown is from 1,000 other games (``--seeds 10-19``, 95 %
    Wilson interval). No roster tried at 4 or 8 players lands in [45 %, 55 %] (at 8: 2 werewolves give the
    villagers 57 %, 3 give 36 %, 2 with a doctor who may not protect itself 43 %). docs/werewolf-balance.md
    has the rates under plurality voting and without a doctor, and those of the one roster every size had
    before.

    | players | werewolves | seers | doctors | doctor protects itself | villagers win        |
    |---------|------------|-------|---------|------------------------|----------------------|
    | 4       | 1          | 1     | 1       | no                     | 41.2 % [38.2, 44.3]  |
    | 5       | 1          | 1     | 1       | no                     | 52.5 % [49.4, 55.6]  |
    | 6       | 2          | 1     | 1       | yes                    | 46.0 % [42.9, 49.1]  |
    | 7       | 2          | 1     | 1       | yes                    | 52.5 % [49.4, 55.6]  |
    | 8       | 2          | 1     | 1       | yes                    | 56.9 % [53.8, 59.9]  |
    | 9       | 3          | 1     | 1       | yes                    | 47.6 % [44.5, 50.7]  |
    | 10      | 3          | 1     | 1       | yes                    | 52.5 % [49.4, 55.6]  |
    | 11      | 3          | 1     | 1       | yes                    | 47.7 % [44.6, 50.8]  |
    | 12      | 3          | 1     | 1       | yes                    | 52.7 % [49.6, 55.8]  |
    | 13      | 4          | 1     | 1       | yes                    | 50.2 % [47.1, 53.3]  |
    | 14      | 5          | 1     | 1       | yes                    | 45.0 % [41.9, 48.1]  |
    | 15      | 4          | 1     | 1       | yes                    | 52.2 % [49.1, 55.3]  |
    | 16      | 4          | 1     | 1       | yes                    | 52.4 % [49.3, 55.5]  |
    | 17      | 4          | 1     | 1       | yes                    | 51.5 % [48.4, 54.6]  |
    | 18      | 4          | 1     | 1       | yes                    | 49.2 % [46.1, 52.3]  |
    | 19      | 4          | 1     | 1       | yes                    | 50.7 % [47.6, 53.8]  |
    | 20      | 4          | 1     | 1       | yes                    | 53.5 % [50.4, 56.6]  |

    ## Arguments

    ``num_players`` (4..20, default 7), ``num_werewolves`` (1..(num_players-1)//2), ``num_seers`` and
    ``num_doctors`` (0 or 1), ``doctor_self_protect`` (default for these four: the roster of ``num_players``,
    above), ``roles`` (list of role names per seat, default None: shuffled), ``speaking_order``
    ("round_robin" or "bidding"), ``discussion_rounds`` (0..10, default 1), ``vote_rule`` ("majority" or
    "plurality"), ``tie_rule`` ("no_exile" or "random"), ``wolf_chat`` (default True), ``max_bid`` (1..10,
    default 4), ``max_text_length`` (1..2000 characters, default 200), ``transcript_window`` (1..500 lines,
    default 30), ``max_cycles`` (1..100000, default 500), ``render_mode`` (None, "human" or "ansi"),
    ``reveal_roles`` (render roles and private lines, default False). The same seed replays a game byte for
    byte; the env draws only from its own generator.

    ## Version history

    * v1: the role counts and the doctor's self-protection default to the roster of the game's size (the
      6- to 8-player games are unchanged; every size had 2 werewolves, a seer and a self-protecting doctor).
    * v0: initial version.
    """

    metadata = {
        "name": "werewolf_v1",
        "render_modes": ["human", "ansi"],
        "render_fps": 1,
        "is_parallelizable": False,
    }
    # each seat's info holds only that seat's own facts (its role and team, mask, counters) and, at the end,
    # the winner; other seats' roles live only in ``self.game``
    privileged_info_keys: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        num_players: int = 7,
        num_werewolves: int | None = None,
        num_seers: int | None = None,
        num_doctors: int | None = None,
        roles: list[str] | None = None,
        speaking_order: str = "round_robin",
        discussion_rounds: int = 1,
        vote_rule: str = "majority",
        tie_rule: str = "no_exile",
        wolf_chat: bool = True,
        doctor_self_protect: bool | None = None,
        max_bid: int = 4,
        max_text_length: int = 200,
        transcript_window: int = 30,
        max_cycles: int = 500,
        render_mode: str | None = None,
        reveal_roles: bool = False,
    ):
        self.rules = Rules(
            num_players=num_players,
            num_werewolves=num_werewolves,
            num_seers=num_seers,
            num_doctors=num_doctors,
            speaking_order=speaking_order,
            discussion_rounds=discussion_rounds,
            vote_rule=vote_rule,
            tie_rule=tie_rule,
            wolf_chat=bool(wolf_chat),
            doctor_self_protect=None if doctor_self_protect is None else bool(doctor_self_protect),
            max_bid=max_bid,
            max_text_length=max_text_length,
            transcript_window=transcript_window,
        )
        self.fixed_roles = None if roles is None else self.rules.check_roles(list(roles))
        if isinstance(max_cycles, bool) or not isinstance(max_cycles, int) or not 1 <= max_cycles <= 100_000:
            raise ValueError(f"max_cycles={max_cycles!r} must be an integer in [1, 100000]")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode={render_mode!r} must be None, 'human' or 'ansi'")
        self.max_cycles = max_cycles
        self.render_mode = render_mode
        self.reveal_roles = bool(reveal_roles)
        n = num_players
        self.possible_agents = [f"player_{i}" for i in range(n)]
        self._seat = {agent: i for i, agent in enumerate(self.possible_agents)}
        self._day_cap = max_cycles + 1
        self._action_spaces = {agent: self._make_action_space() for agent in self.possible_agents}
        self._observation_spaces = {agent: self._make_observation_space() for agent in self.possible_agents}
        self._bidding = speaking_order == "bidding"
        self._idle_mask = self._mask(np.zeros(n + 1, dtype=np.int8), text=False, bids=False)
        self._idle_mask["target"][n] = 1
        self._rng: np.random.Generator | None = None
        self.game: WerewolfGame | None = None

    def _make_action_space(self) -> spaces.Dict:
        parts = {
            "text": spaces.Text(self.rules.max_text_length, min_length=0, charset=TEXT_CHARSET),
            "target": spaces.Discrete(self.rules.num_players + 1),
        }
        if self.rules.speaking_order == "bidding":
            parts["bid"] = spaces.Discrete(self.rules.max_bid + 1)
        return spaces.Dict(parts)

    def _make_observation_space(self) -> spaces.Dict:
        n = self.rules.num_players
        return spaces.Dict(
            {
                "text": spaces.Text(
                    self.rules.observation_text_length(), min_length=0, charset=OBSERVATION_CHARSET
                ),
                "seat": spaces.Discrete(n),
                "role": spaces.Discrete(len(ROLES)),
                "phase": spaces.Discrete(len(PHASES)),
                "day": spaces.Discrete(self._day_cap + 1),
                "alive": spaces.MultiBinary(n),
                "accused": spaces.MultiDiscrete([n + 1] * n),
                "votes": spaces.MultiDiscrete([n + 1] * n),
                "known_team": spaces.MultiDiscrete([3] * n),
            }
        )

    def observation_space(self, agent: str) -> spaces.Dict:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Dict:
        return self._action_spaces[agent]

    def _new_game(self, seed: int | None) -> None:
        if seed is not None or self._rng is None:
            self._rng, _ = seeding.np_random(seed)
        if self.fixed_roles is not None:
            roles = self.fixed_roles
        else:
            roles = [self.rules.default_roles()[i] for i in self._rng.permutation(self.rules.num_players)]
            roles = [ROLES.index(r) for r in roles]
        self.game = WerewolfGame(self.rules, roles, self._rng)
        self._printed = 0  # characters of the log already printed by "human" rendering

    def observe(self, agent: str) -> dict[str, Any]:
        game, seat = self.game, self._seat[agent]
        public = game.public_arrays()
        text = game.observation_text(seat)
        limit = self._observation_spaces[agent]["text"].max_length
        return {
            "text": text if len(text) <= limit else text[-limit:],
            "seat": seat,
            "role": game.roles[seat],
            "phase": game.phase,
            "day": min(game.day, self._day_cap),
            "alive": public["alive"],
            "accused": public["accused"],
            "votes": public["votes"],
            "known_team": game.known_array(seat),
        }

    def _mask(self, targets: np.ndarray, *, text: bool, bids: bool) -> dict[str, Any]:
        mask: dict[str, Any] = {"text": None if text else (0, None), "target": targets}
        if self._bidding:
            mask["bid"] = np.ones(self.rules.max_bid + 1, dtype=np.int8)
            if not bids:
                mask["bid"][1:] = 0
        return mask

    def action_mask(self, agent: str) -> dict[str, Any]:
        """The legal actions of ``agent`` now, as a dict matching its action space (idle: only no action)."""
        game, seat = self.game, self._seat[agent]
        if not game.is_waiting_for(seat):
            return self._idle_mask
        uses_text, uses_bid = game.uses(seat)
        targets = np.array(game.legal_targets(seat), dtype=np.int8)
        return self._mask(targets, text=uses_text, bids=uses_bid)

    def _info(self, agent: str) -> dict[str, Any]:
        game, seat = self.game, self._seat[agent]
        info = {
            "action_mask": self.action_mask(agent),
            "acting": game.is_waiting_for(seat),
            "alive": game.alive[seat],
            "role": ROLES[game.roles[seat]],
            "team": TEAMS[team_of(game.roles[seat])],
            "invalid_actions": game.invalid[seat],
        }
        if game.over:
            info["winner"] = None if game.winner is None else TEAMS[game.winner]
        return info

    def _act(self, seat: int, action: Any) -> None:
        """Play ``seat``'s move; stop the game (a draw) once ``max_cycles`` rounds of moves are played."""
        game = self.game
        game.act(seat, action)
        if not game.over and game.cycles >= self.max_cycles:
            game.stop()

    def _outcome(self, agents: list[str]) -> tuple[dict[str, float], dict[str, bool], dict[str, bool]]:
        """The reward, terminated and truncated flags of ``agents`` now: 0 and False while the game goes on;
        at the end +1/-1 by side (0 for a draw), terminated on a win, truncated on a draw."""
        game = self.game
        if not game.over:
            return dict.fromkeys(agents, 0.0), dict.fromkeys(agents, False), dict.fromkeys(agents, False)
        if game.winner is None:
            return dict.fromkeys(agents, 0.0), dict.fromkeys(agents, False), dict.fromkeys(agents, True)
        rewards = {a: 1.0 if team_of(game.roles[self._seat[a]]) == game.winner else -1.0 for a in agents}
        return rewards, dict.fromkeys(agents, True), dict.fromkeys(agents, False)

    def render(self) -> str | None:
        """The game log (public lines; roles and private lines too with ``reveal_roles``): returned whole
        (``"ansi"``), or the lines added since the last call printed (``"human"``, rendered every move)."""
        if self.render_mode is None or self.game is None:
            return None
        text = self.game.transcript(reveal_roles=self.reveal_roles)
        if self.render_mode == "ansi":
            return text
        if len(text) > self._printed:
            print(text[self._printed :].lstrip("\n"))
        self._printed = len(text)
        return None

    def close(self) -> None:
        pass


class raw_env(_WerewolfBase, AECEnv):
    __doc__ = _WerewolfBase.__doc__

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        self._new_game(seed)
        self.agents = list(self.possible_agents)
        self.rewards = {agent: 0.0 for agent in self.agents}
        self._cumulative_rewards = {agent: 0.0 for agent in self.agents}
        self.terminations = {agent: False for agent in self.agents}
        self.truncations = {agent: False for agent in self.agents}
        self.infos = {agent: self._info(agent) for agent in self.agents}
        self.agent_selection = self.possible_agents[self.game.next_actor()]

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        self._cumulative_rewards[agent] = 0.0
        game = self.game
        living, cycles = sum(game.alive), game.cycles
        self._act(self._seat[agent], action)
        if game.over:
            self.rewards, self.terminations, self.truncations = self._outcome(self.agents)
            self.agent_selection = self.agents[0]
            self.infos = {a: self._info(a) for a in self.agents}
        else:
            self.agent_selection = self.possible_agents[game.next_actor()]
            if sum(game.alive) != living:
                self.infos = {a: self._info(a) for a in self.agents}
            else:  # only the mover's info and, after a resolution, the new pending seats' infos change
                changed = [agent] + (
                    [self.possible_agents[s] for s in game.pending] if game.cycles != cycles else []
                )
                self.infos = {**self.infos, **{a: self._info(a) for a in changed}}
        self._accumulate_rewards()
        if self.render_mode == "human":
            self.render()


class WerewolfParallelEnv(_WerewolfBase, ParallelEnv):
    """Werewolf with PettingZoo's parallel API: each step takes the moves of the seats now pending (listed by
    ``infos[agent]["acting"]``) and ignores the others'; a pending seat without an action counts as no
    action. See ``raw_env`` for the rules, spaces and rewards.

    Written here rather than ``aec_to_parallel(raw_env())``: that conversion steps every agent once per
    parallel step, while here only the pending seats move (the night roles, one speaker at a time by day).
    """

    def reset(self, seed: int | None = None, options: dict | None = None):
        self._new_game(seed)
        self.agents = list(self.possible_agents)
        return {a: self.observe(a) for a in self.agents}, {a: self._info(a) for a in self.agents}

    def step(self, actions: dict[str, Any]):
        game = self.game
        for seat in [s for s in game.pending if game.is_waiting_for(s)]:
            self._act(seat, actions.get(self.possible_agents[seat]))
        observations = {a: self.observe(a) for a in self.agents}
        infos = {a: self._info(a) for a in self.agents}
        rewards, terminations, truncations = self._outcome(self.agents)
        if game.over:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos


def env(**kwargs: Any) -> AECEnv:
    """The AEC game in PettingZoo's order enforcing wrapper (illegal moves are absorbed, not fatal)."""
    return wrappers.OrderEnforcingWrapper(raw_env(**kwargs))


def parallel_env(**kwargs: Any) -> WerewolfParallelEnv:
    """The game with PettingZoo's parallel API."""
    return WerewolfParallelEnv(**kwargs)

"""Ratings against known answers: simulated Bradley–Terry worlds, analytic OpenSkill updates, exact suites."""

import math
from dataclasses import replace

import numpy as np
import pytest
from openskill.models import PlackettLuce

from arena.ratings import (
    ELO_PER_NAT,
    BootstrapRatings,
    bootstrap_ratings,
    bradley_terry,
    fit_bradley_terry,
    openskill_ratings,
    pairwise_outcomes,
    studentized_interval,
)
from arena.results import MatchResult, Participant, Status
from arena.suite_scores import suite_scores


def _duel(match_id, first, second, first_score, sides=("first", "second"), status=Status.OK):
    """A two-seat match; ``first_score`` is 1 (first wins), 0.5 (tie) or 0; ``status`` is ``second``'s."""
    first_rank, second_rank = {1.0: (0, 1), 0.5: (0, 0), 0.0: (1, 0)}[first_score]
    return MatchResult(
        match_id=match_id,
        scenario="test",
        env_id="duel",
        seed=0,
        participants=(
            Participant(agent=first, seat="p0", team=sides[0], rank=first_rank, score=0.0),
            Participant(agent=second, seat="p1", team=sides[1], rank=second_rank, score=0.0, status=status),
        ),
    )


def _simulate(rng, strengths, matches, side_advantage=0.0, first_side_preference=None):
    """Duels between random pairs from a Bradley–Terry world with log-strengths ``strengths`` (nats).

    The seat "first" adds ``side_advantage`` nats; agent i takes it against j with probability
    pref_i / (pref_i + pref_j) (equal preferences: fair rotation).
    """
    k = len(strengths)
    preference = np.ones(k) if first_side_preference is None else np.asarray(first_side_preference)
    log = []
    for m in range(matches):
        i, j = rng.choice(k, 2, replace=False)
        if rng.random() >= preference[i] / (preference[i] + preference[j]):
            i, j = j, i
        p_first = 1.0 / (1.0 + math.exp(-(strengths[i] - strengths[j] + side_advantage)))
        log.append(_duel(f"m{m:05d}", f"a{i}", f"a{j}", float(rng.random() < p_first)))
    return log


def _true_elo(strengths):
    strengths = np.asarray(strengths, dtype=float)
    return 1000.0 + ELO_PER_NAT * (strengths - strengths.mean())


def test_bradley_terry_recovers_simulated_strengths_within_twice_the_bootstrap_half_width():
    """3,000 duels among 6 agents (about 1,000 games each): standard error ~ 1/sqrt(1000 * 0.22) = 0.07 nats
    = 12 Elo. Twice the 95 % half-width is ~3.9 standard errors: each agent misses with probability ~1e-4."""
    strengths = [-1.0, -0.5, 0.0, 0.2, 0.5, 1.0]
    log = _simulate(np.random.default_rng(11), strengths, 3000, side_advantage=0.3)
    rows = {row.agent: row for row in bradley_terry(log, bootstrap=100)}
    for i, truth in enumerate(_true_elo(strengths)):
        row = rows[f"a{i}"]
        half_width = (row.high - row.low) / 2
        assert 5.0 < half_width < 40.0
        assert abs(row.rating - truth) < 2 * half_width, (row, truth)
    assert np.mean([row.rating for row in rows.values()]) == pytest.approx(1000.0)
    _, sides = fit_bradley_terry(pairwise_outcomes(log))
    assert sides["first"] - sides["second"] == pytest.approx(0.3, abs=4 * 0.04)  # se ~ 1/sqrt(3000 * 0.22)


def test_standard_error_and_interval_of_two_agents_match_the_binomial_answer():
    """x beats y in 300 of 400 duels on one side: the MLE of d = s_x - s_y is ln 3 with variance
    1 / (400 * 0.75 * 0.25); x's centred strength is d / 2, its standard error half that of d (10.03 Elo).
    With 400 games t is close to normal, so the 95 % bootstrap-t interval is about rating +- 1.96 se."""
    log = [_duel(f"m{k:03d}", "x", "y", 1.0 if k < 300 else 0.0, sides=("all", "all")) for k in range(400)]
    fit = bootstrap_ratings(pairwise_outcomes(log), bootstrap=400, seed=1)
    se = ELO_PER_NAT * 0.5 / math.sqrt(400 * 0.75 * 0.25)
    assert fit.rating[0] == pytest.approx(1000.0 + ELO_PER_NAT * math.log(3.0) / 2, rel=1e-5)
    assert fit.se == pytest.approx([se, se], rel=1e-4)
    low, high = studentized_interval(fit, 0.95)
    assert fit.rating[0] - low[0] == pytest.approx(1.96 * se, rel=0.15)
    assert high[0] - fit.rating[0] == pytest.approx(1.96 * se, rel=0.15)


def test_pairs_of_one_match_count_as_one_outcome_in_the_interval_though_not_in_the_standard_error():
    """The same 300 results as duels and as 3-against-3 team games (each agent plays a whole team): a team
    game gives 9 pairs with one outcome, so the model-based standard error shrinks by 3 (a Wald interval would
    be 3 times too narrow), but resampling whole matches gives t statistics 3 times as wide, and the
    studentised interval is that of the duels."""
    duels, teams = [], []
    rng = np.random.default_rng(6)
    for k in range(300):
        x_wins, x_side, y_side = rng.random() < 0.6, "AB"[k % 2], "BA"[k % 2]  # the sides alternate
        duels.append(_duel(f"m{k:03d}", "x", "y", float(x_wins), sides=(x_side, y_side)))
        seats = [
            Participant(
                agent=agent, seat=f"{team}{s}", team=team, rank=int(x_wins != (agent == "x")), score=0.0
            )
            for agent, team in (("x", x_side), ("y", y_side))
            for s in range(3)
        ]
        teams.append(
            MatchResult(match_id=f"m{k:03d}", scenario="t", env_id="g", seed=0, participants=tuple(seats))
        )
    one, nine = (bootstrap_ratings(pairwise_outcomes(log), bootstrap=200, seed=2) for log in (duels, teams))
    assert nine.se == pytest.approx(one.se / 3, rel=1e-3)
    assert np.allclose(studentized_interval(nine, 0.95), studentized_interval(one, 0.95), rtol=1e-5)


def _fixed_replicates(t, informed=True):
    """Rating 1000 with standard error 10, and replicates whose t statistics are ``t`` (NaN: agent absent)."""
    t = np.asarray(t, dtype=float)[:, None]
    return BootstrapRatings(
        agents=("x",),
        rating=np.array([1000.0]),
        se=np.array([10.0 if informed else np.inf]),
        informed=np.array([informed]),
        replicates=np.where(np.isnan(t), np.nan, 1000.0 + 5.0 * t),
        replicate_se=np.where(np.isnan(t), np.nan, 5.0),
    )


def test_studentized_interval_takes_the_k_th_extreme_t_with_k_floor_of_b_plus_1_times_the_tail():
    """B = 79, 95 %: k = floor(80 * 0.025) = 2, the second smallest and largest t (-38 and 38 of -39..39);
    the interval is 1000 - t * se, i.e. [620, 1380]. Two absent replicates count as t = +-inf and open both
    ends, one does not; B = 38 gives k = 0 and no bounded end; an agent never compared gets (-inf, inf)."""
    t = np.arange(-39, 40)
    assert studentized_interval(_fixed_replicates(t), 0.95) == ([620.0], [1380.0])
    one_absent = np.where(t == 0, np.nan, t)
    assert studentized_interval(_fixed_replicates(one_absent), 0.95) == ([610.0], [1390.0])
    two_absent = np.where(np.abs(t) == 1, np.nan, t)
    assert studentized_interval(_fixed_replicates(two_absent), 0.95) == ([-math.inf], [math.inf])
    assert studentized_interval(_fixed_replicates(t[:38]), 0.95) == ([-math.inf], [math.inf])
    assert studentized_interval(_fixed_replicates(t, informed=False), 0.95) == ([-math.inf], [math.inf])


def test_shuffling_the_log_leaves_every_rating_interval_and_record_unchanged():
    """BT is fitted on the whole log, matches are resampled by sorted id, OpenSkill runs in match-id order."""
    log = _simulate(np.random.default_rng(3), [0.0, 0.4, 0.8, 1.2], 400, side_advantage=0.2)
    shuffled = [log[k] for k in np.random.default_rng(4).permutation(len(log))]
    assert bradley_terry(shuffled, bootstrap=50, seed=7) == bradley_terry(log, bootstrap=50, seed=7)


def test_virtual_side_absorbs_an_80_percent_side_advantage_so_equal_agents_stay_tied():
    """Four equal agents; the first seat wins 80 % (log-odds ln 4 = 1.386) whoever sits there, and a0 takes
    it 9 times as often as a3. The side parameter recovers ln 4 (se ~ 1/sqrt(2000 * 0.16) = 0.06) and every
    agent stays at 1000 within twice its half-width; the same log with one team name for both seats (no side
    parameter) credits the side to a0 and rates it far above a3."""
    log = _simulate(np.random.default_rng(5), [0.0] * 4, 2000, math.log(4.0), [0.9, 0.5, 0.5, 0.1])
    _, sides = fit_bradley_terry(pairwise_outcomes(log))
    assert sides["first"] - sides["second"] == pytest.approx(math.log(4.0), abs=0.2)
    rows = {row.agent: row for row in bradley_terry(log, bootstrap=100)}
    for row in rows.values():
        assert abs(row.rating - 1000.0) < (row.high - row.low), row
    assert max(row.low for row in rows.values()) < min(row.high for row in rows.values())

    one_side = [replace(r, participants=tuple(replace(p, team="all") for p in r.participants)) for r in log]
    naive = {row.agent: row for row in bradley_terry(one_side, bootstrap=100)}
    assert naive["a0"].low > naive["a3"].high
    assert naive["a0"].rating - naive["a3"].rating > 3 * (rows["a0"].high - rows["a0"].low)


def test_two_equal_random_agents_are_statistically_tied_while_a_stronger_agent_is_separated():
    """Two equal agents and one 2 nats (347 Elo) stronger, 600 round-robin duels: equal agents' intervals fail
    to overlap only when their gap exceeds ~2.8 sd (p ~ 0.005); the strong agent sits ~8 sd above."""
    log = _simulate(np.random.default_rng(8), [0.0, 0.0, 2.0], 600)
    rows = {row.agent: row for row in bradley_terry(log, bootstrap=200)}
    random_a, random_b, strong = rows["a0"], rows["a1"], rows["a2"]
    assert random_a.low < random_b.high and random_b.low < random_a.high
    assert strong.low > max(random_a.high, random_b.high)
    assert bradley_terry(log, bootstrap=20)[0].agent == "a2"


def _werewolf(match_id, wolves, villagers, wolves_win, forfeiter=None):
    """Seven seats, 2 wolves vs 5 villagers; ``forfeiter`` (a villager seat index) crashed: it ranks last,
    everybody else shares rank 0, as the match runner records forfeits."""
    seats = []
    for k, agent in enumerate(wolves):
        seats.append(
            Participant(agent=agent, seat=f"w{k}", team="wolves", rank=0 if wolves_win else 1, score=0.0)
        )
    for k, agent in enumerate(villagers):
        seats.append(
            Participant(agent=agent, seat=f"v{k}", team="village", rank=1 if wolves_win else 0, score=0.0)
        )
    if forfeiter is not None:
        crashed = f"v{forfeiter}"
        seats = [
            replace(p, rank=1, status=Status.ERROR) if p.seat == crashed else replace(p, rank=0)
            for p in seats
        ]
    return MatchResult(
        match_id=match_id, scenario="test", env_id="werewolf", seed=0, participants=tuple(seats)
    )


def test_two_against_five_pairs_every_wolf_with_every_villager_and_no_teammates():
    """A decided 2 vs 5 game gives 2 x 5 = 10 cross-team pairs, all won by the winning side."""
    game = _werewolf("g", ["w1", "w2"], ["v1", "v2", "v3", "v4", "v5"], wolves_win=True)
    pairs = pairwise_outcomes([game])
    assert len(pairs.score) == 10
    first_is_wolf = np.isin(np.array(pairs.agents)[pairs.first], ["w1", "w2"])
    assert np.all(pairs.score == np.where(first_is_wolf, 1.0, 0.0))
    assert {pairs.sides[s] for s in pairs.first_side} | {pairs.sides[s] for s in pairs.second_side} == {
        "wolves",
        "village",
    }


def _free_for_all(match_id, agents, forfeiter):
    """One seat per agent, each its own team; ``forfeiter`` crashed and ranks last while every other seat
    shares first place, as the match runner records a forfeit."""
    seats = tuple(
        Participant(
            agent=agent,
            seat=f"p{k}",
            team=f"p{k}",
            rank=int(agent == forfeiter),
            score=0.0,
            status=Status.ERROR if agent == forfeiter else Status.OK,
        )
        for k, agent in enumerate(agents)
    )
    return MatchResult(match_id=match_id, scenario="test", env_id="ffa", seed=0, participants=seats)


def test_a_forfeit_is_a_loss_to_every_other_agent_and_no_draw_between_them():
    """Three agents, c forfeits: two pairs, c losing both, and nothing between a and b (their shared first
    place is no result). A forfeiting villager loses to all 6 other seats, teammates too, and the other seats
    form no pair. In duels, x wins 5 and forfeits 5 against y: 5-5, so BT rates them equal."""
    pairs = pairwise_outcomes([_free_for_all("g", ["a", "b", "c"], forfeiter="c")])
    named = sorted(
        (pairs.agents[i], pairs.agents[j], s)
        for i, j, s in zip(pairs.first, pairs.second, pairs.score, strict=True)
    )
    assert named == [("a", "c", 1.0), ("b", "c", 1.0)]

    game = _werewolf("g", ["w1", "w2"], ["v1", "v2", "v3", "v4", "crash"], wolves_win=False, forfeiter=4)
    pairs = pairwise_outcomes([game])
    crash = pairs.agents.index("crash")
    assert len(pairs.score) == 6 and np.all((pairs.first == crash) | (pairs.second == crash))
    assert np.all(np.where(pairs.first == crash, pairs.score, 1 - pairs.score) == 0.0)

    log = [_duel(f"win{k}", "x", "y", 1.0) for k in range(5)]
    log += [_duel(f"forfeit{k}", "y", "x", 1.0, status=Status.TIMEOUT) for k in range(5)]
    rows = {row.agent: row for row in bradley_terry(log, bootstrap=20)}
    assert (rows["x"].games, rows["x"].wins, rows["x"].losses, rows["x"].forfeits) == (10, 5, 5, 5)
    assert (rows["y"].games, rows["y"].wins, rows["y"].losses, rows["y"].forfeits) == (10, 5, 5, 0)
    assert rows["x"].rating == pytest.approx(rows["y"].rating, abs=1e-6)


def test_a_three_agent_forfeit_records_wins_for_the_others_and_no_draws():
    """W-D-L of a forfeited match: a loss for the offender, a win for each other agent, never a draw; the
    fit sees only the two losses, so a and b stay level and c ends below them."""
    rows = {row.agent: row for row in bradley_terry([_free_for_all("g", ["a", "b", "c"], "c")], bootstrap=5)}
    assert [(rows[x].wins, rows[x].draws, rows[x].losses, rows[x].forfeits) for x in "abc"] == [
        (1, 0, 0, 0),
        (1, 0, 0, 0),
        (0, 0, 1, 1),
    ]
    assert (
        rows["a"].rating == pytest.approx(rows["b"].rating, abs=1e-9) and rows["c"].rating < rows["a"].rating
    )


def test_openskill_reads_a_three_agent_forfeit_as_two_duels_lost_by_the_offender():
    """Weng & Lin's Plackett–Luce for two one-player teams (mu 25, sigma 25/3, beta 25/6, tau 25/300): with
    v = sigma^2 + tau^2 the winner gains v / (2 sqrt(2 (v + beta^2))). a beats the fresh offender first, then
    b beats the updated offender; a and b never meet, so the match equals those two duels in that order."""
    forfeit = openskill_ratings([_free_for_all("g", ["b", "a", "c"], "c")])
    v, beta2 = (25 / 3) ** 2 + (25 / 300) ** 2, (25 / 6) ** 2
    assert forfeit["a"].mu - 25.0 == pytest.approx(v / (2 * math.sqrt(2 * (v + beta2))), rel=1e-12)
    model = PlackettLuce()
    a, b, c = model.rating(), model.rating(), model.rating()
    [[a], [c]] = model.rate([[a], [c]], ranks=[0, 1])
    [[b], [c]] = model.rate([[b], [c]], ranks=[0, 1])
    for name, expected in zip("abc", (a, b, c), strict=True):
        assert forfeit[name] == pytest.approx((expected.mu, expected.sigma), rel=1e-12)
    alone = openskill_ratings([_free_for_all("solo", ["c"], "c")])
    assert alone["c"] == (25.0, 25 / 3)  # nobody to lose to: no update


def test_an_agent_without_games_against_others_gets_a_row_with_an_infinite_interval():
    """Self-play tells nothing about an agent's strength: rating 1000 (no evidence), interval (-inf, inf). An
    agent in 1 of 200 matches is absent from a bootstrap replicate with probability (1 - 1/200)^200 = 0.37
    > 2.5 %, so its interval is infinite too."""
    log = _simulate(np.random.default_rng(9), [0.0, 0.5], 199)
    log += [_duel("self", "mirror", "mirror", 1.0), _duel("once", "rare", "a0", 1.0)]
    rows = {row.agent: row for row in bradley_terry(log, bootstrap=100)}
    assert (rows["mirror"].rating, rows["mirror"].low, rows["mirror"].high) == (1000.0, -math.inf, math.inf)
    assert (rows["mirror"].games, rows["mirror"].wins, rows["mirror"].losses) == (1, 0, 0)
    assert (rows["rare"].low, rows["rare"].high) == (-math.inf, math.inf)
    assert math.isfinite(rows["a0"].low) and math.isfinite(rows["a1"].high)


def test_openskill_side_player_takes_half_of_a_two_seat_team_update():
    """Plackett–Luce (Weng & Lin 2011, alg. 4), two teams, default mu = 25, sigma = 25/3, beta = 25/6, and the
    additive dynamic tau = 25/300: with variance v = sigma^2 + tau^2 per player the winner's mean moves by
    v_member / v_team * v_team / (2 c), c = sqrt(sum over teams of (v_team + beta^2)). With a side player per
    team, v_team = 2 v: the agent gains v / (2 sqrt(2 (2 v + beta^2)))."""
    v, beta2 = (25 / 3) ** 2 + (25 / 300) ** 2, (25 / 6) ** 2
    (mu_winner, _), (mu_loser, _) = (openskill_ratings([_duel("g", "x", "y", 1.0)])[a] for a in "xy")
    gain = v / (2 * math.sqrt(2 * (2 * v + beta2)))
    assert mu_winner - 25.0 == pytest.approx(gain, rel=1e-12)
    assert 25.0 - mu_loser == pytest.approx(gain, rel=1e-12)


def test_openskill_side_player_keeps_equal_agents_close_when_one_plays_the_strong_side_more():
    """The world of the BT side test (first seat wins 80 %, a0 takes it 9 times as often as a3). Without side
    players a0 collects the side's wins; with them the side player does, and a0 and a3 end much closer."""
    log = _simulate(np.random.default_rng(5), [0.0] * 4, 2000, math.log(4.0), [0.9, 0.5, 0.5, 0.1])
    corrected = openskill_ratings(log)
    model = PlackettLuce()
    plain = {f"a{i}": model.rating() for i in range(4)}
    for match in log:
        first, second = match.participants
        [[plain[first.agent]], [plain[second.agent]]] = model.rate(
            [[plain[first.agent]], [plain[second.agent]]], ranks=[first.rank, second.rank]
        )
    corrected_gap = corrected["a0"][0] - corrected["a3"][0]
    plain_gap = plain["a0"].mu - plain["a3"].mu
    assert plain_gap > 3.0
    assert abs(corrected_gap) < plain_gap / 3


def _episodes(env_id, agent, returns, start=0):
    return [
        MatchResult(
            match_id=f"{env_id}-{agent}-{k}",
            scenario="suite",
            env_id=env_id,
            seed=start + k,
            participants=(Participant(agent=agent, seat="solo", team=agent, rank=0, score=r),),
        )
        for k, r in enumerate(returns)
    ]


def _suite_log():
    log = _episodes("envA", "random", [0.0, 2.0, 4.0]) + _episodes("envA", "expert", [10.0, 12.0, 14.0])
    log += _episodes("envA", "mid", [5.0, 7.0, 9.0]) + _episodes("envA", "novice", [1.0, 3.0])
    log += _episodes("envB", "random", [-100.0, -300.0]) + _episodes("envB", "expert", [100.0, 300.0, 200.0])
    log += _episodes("envB", "mid", [0.0, 0.0, 0.0, 0.0])
    return log


def test_suite_references_score_exactly_zero_and_one_and_the_halfway_agent_half():
    """envA: random mean 2, expert 12, mid 7 -> (7 - 2) / 10 = 0.5 exactly; envB: -200, 200, 0 -> 0.5.
    The references' replicates normalise with the same draw, so their intervals are exactly [0, 0], [1, 1].
    'overall' is the mean over envs, only for agents that played every env (novice skipped envB)."""
    table = suite_scores(_suite_log(), low_ref="random", high_ref="expert", bootstrap=200)
    rows = {(row.agent, row.env_id): row for row in table}
    for env_id in ("envA", "envB", "overall"):
        assert (rows["random", env_id].score, rows["random", env_id].low, rows["random", env_id].high) == (
            0,
            0,
            0,
        )
        assert (rows["expert", env_id].score, rows["expert", env_id].low, rows["expert", env_id].high) == (
            1,
            1,
            1,
        )
        assert rows["mid", env_id].score == 0.5
        assert rows["mid", env_id].low < 0.5 < rows["mid", env_id].high
    assert rows["novice", "envA"].score == pytest.approx(0.0)
    assert ("novice", "overall") not in rows
    assert (rows["mid", "envA"].mean_return, rows["mid", "envA"].episodes) == (7.0, 3)
    assert rows["mid", "overall"].episodes == 7 and math.isnan(rows["mid", "overall"].mean_return)
    ordered = suite_scores(_suite_log(), low_ref="random", high_ref="expert", bootstrap=10)
    assert [row.env_id for row in ordered][-3:] == ["overall"] * 3
    assert [row.agent for row in ordered if row.env_id == "overall"] == ["expert", "mid", "random"]


def test_suite_interval_matches_the_normal_theory_interval_of_a_mean():
    """With constant references (0 and 10) the score is mean / 10, whose 95 % interval has half-width
    1.96 s / sqrt(n) / 10 (s with divisor n, as the bootstrap's plug-in). With n = 400 normal returns and
    1,000 replicates the percentile ends carry Monte-Carlo error ~0.09 s/sqrt(n) each: tolerance 10 %."""
    returns = np.random.default_rng(12).normal(5.0, 2.0, 400)
    log = _episodes("env", "agent", returns.tolist())
    log += _episodes("env", "low", [0.0] * 5) + _episodes("env", "high", [10.0] * 5)
    row = next(
        r
        for r in suite_scores(log, low_ref="low", high_ref="high")
        if r.agent == "agent" and r.env_id == "env"
    )
    expected = 1.96 * returns.std() / math.sqrt(400) / 10.0
    assert (row.high - row.low) / 2 == pytest.approx(expected, rel=0.10)
    assert row.low < returns.mean() / 10 < row.high


def test_suite_intervals_are_deterministic_for_a_seed_and_independent_of_log_order():
    log = _suite_log()
    shuffled = [log[k] for k in np.random.default_rng(1).permutation(len(log))]
    first = suite_scores(log, low_ref="random", high_ref="expert", bootstrap=100, seed=3)
    assert suite_scores(shuffled, low_ref="random", high_ref="expert", bootstrap=100, seed=3) == first
    other = suite_scores(log, low_ref="random", high_ref="expert", bootstrap=100, seed=4)
    assert [r.low for r in other] != [r.low for r in first]


def test_empty_logs_give_empty_tables():
    assert bradley_terry([]) == []
    assert openskill_ratings([]) == {}
    assert suite_scores([], low_ref="random", high_ref="expert") == []


def _one(agent, rank=0, status=Status.OK):
    seat = Participant(agent=agent, seat="p0", team="a", rank=rank, score=0.0, status=status)
    return [MatchResult(match_id="m", scenario="s", env_id="duel", seed=0, participants=(seat,))]


def _suite(*episodes, **kwargs):
    log = [e for env_id, agent, returns in episodes for e in _episodes(env_id, agent, returns)]
    return lambda: suite_scores(log, **{"low_ref": "random", "high_ref": "expert", **kwargs})


_DUEL = [_duel("m", "x", "y", 1.0)]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: bradley_terry(_DUEL, bootstrap=0), "bootstrap"),
        (lambda: bradley_terry(_DUEL, confidence=1.0), "confidence"),
        (lambda: bradley_terry([*_DUEL, _duel("m", "y", "x", 1.0)]), "match_id"),
        (lambda: bradley_terry(_one("x", rank=-1)), "rank"),
        (lambda: bradley_terry([_duel("m", "x", "y", 0.5, status=Status.ERROR)]), "rank"),
        (
            lambda: bradley_terry(
                [MatchResult(match_id="m", scenario="s", env_id="duel", seed=0, participants=())]
            ),
            "participants",
        ),
        (lambda: openskill_ratings(_one("x", status="OK")), "status"),
        (lambda: bradley_terry(["not a match"]), "results"),
        (_suite(("e", "random", [0.0])), "high_ref"),
        (_suite(("e", "expert", [1.0])), "low_ref"),
        (_suite(("e", "random", [1.0]), ("e", "expert", [1.0])), "high_ref"),
        (_suite(("e", "random", [0.0]), high_ref="random"), "high_ref"),
        (lambda: suite_scores(_DUEL, low_ref="x", high_ref="y"), "participants"),
        (_suite(("e", "random", [math.nan])), "score"),
        (_suite(("overall", "random", [0.0])), "env_id"),
        (_suite(("e", "random", [0.0]), bootstrap=-1), "bootstrap"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_field(call, field):
    with pytest.raises(ValueError, match=rf"^{field}:"):
        call()

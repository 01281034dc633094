"""The LSPO-style Werewolf player: its latent strategy space, its legality and privacy, and its win rate."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from sklearn.metrics import homogeneity_score
from werewolf_play import play_checking_every_move

import agents
import envs
from agents.base import EnvSpaces
from agents.baselines.werewolf import ScriptedWerewolfPlayer
from agents.trained import SHIPPED_DIR
from agents.werewolf.features import SIDES
from agents.werewolf.games import compare_with_pool, paired_comparison
from agents.werewolf.policy import lspo
from agents.werewolf.strategies import StrategySpace, Utterance, mention, template_of
from agents.werewolf.training import SideEnv, scripted_corpus

N = 7
PACKAGE = SHIPPED_DIR / "werewolf-lspo"  # the shipped werewolf/lspo
# Deals per side for the acceptance test. Measured over 2,000 deals (agents.werewolf.training's docstring) the
# paired margins are +0.228 (villagers) and +0.368 (werewolves), and the widths of their intervals give a
# per-deal standard deviation of the difference of about 0.38 and 0.48: these counts give 95 % half-widths
# near 0.06 and 0.105, so the interval clears 0 even if the true margins were a third of the measured ones.
DEALS = {"villagers": 160, "werewolves": 80}


def spaces() -> EnvSpaces:
    env = envs.make_multi("werewolf")
    return EnvSpaces(env.observation_space("player_0"), env.action_space("player_0"), "werewolf", {})


def intent(utterance) -> str:
    """What the speaker's structured move did with its words: a night-chat suggestion, an accusation of the
    player named, naming a player without accusing (clearing), or naming nobody."""
    if utterance.chat:
        return "suggest"
    if utterance.accuses:
        return "accuse"
    return "name" if mention(utterance.text) is not None else "no-name"


@pytest.fixture(scope="module")
def corpus():
    return scripted_corpus(120, seed=7)


def test_kmeans_strategies_each_hold_one_intent_of_the_scripted_speakers(corpus):
    """Clusters are fitted on text only; the intents come from the speakers' structured moves (chat or day,
    the accusation), so a homogeneity of 1 means k-means kept apart what the moves tell apart -- notably
    "Player 4 is a werewolf" (accusing) from "Player 4 is not a werewolf" (clearing), one word apart."""
    space = StrategySpace.fit(corpus, seed=0)
    labels = [intent(u) for u in corpus]
    clusters = [space.encode(u.text) for u in corpus]
    assert homogeneity_score(labels, clusters) == pytest.approx(1.0)
    assert len(set(labels)) == 4 and space.k >= 4


def test_each_cluster_accusation_flag_matches_what_its_speakers_did(corpus):
    """A strategy accuses when most of its utterances came with an accusation of the named player."""
    space = StrategySpace.fit(corpus, seed=0)
    for strategy in range(space.k):
        members = [u for u in corpus if space.encode(u.text) == strategy]
        assert space.accuses[strategy] == (2 * sum(u.accuses for u in members) > len(members))


def test_encoding_a_rendered_strategy_gives_the_strategy_back_for_every_target():
    space = StrategySpace.from_json(PACKAGE / "space.json")
    for strategy in range(space.k):
        for target in range(N):
            text = space.render(strategy, target)
            assert space.encode(text) == strategy
            assert "{target}" not in text and (mention(text) in (None, target))


def test_templates_replace_every_player_name_by_the_slot():
    assert template_of("I am the seer:  Player 12 is not a werewolf.") == (
        "I am the seer: Player {target} is not a werewolf."
    )
    assert mention("Let us take Player 3, then Player 5.") == 3


def test_space_survives_a_json_round_trip(tmp_path, corpus):
    space = StrategySpace.fit(corpus, seed=0)
    space.to_json(tmp_path / "space.json")
    again = StrategySpace.from_json(tmp_path / "space.json")
    assert again.templates == space.templates and again.accuses == space.accuses
    assert [again.encode(u.text) for u in corpus[:200]] == [space.encode(u.text) for u in corpus[:200]]


def test_refit_on_a_grown_corpus_keeps_the_previous_strategy_numbers(corpus):
    """When a re-clustered corpus holds the same strategies in other proportions, each keeps its number
    (so a policy trained on the old space still means the same strategies); without ``like`` the numbers
    follow the new frequencies."""
    space = StrategySpace.fit(corpus, seed=0)
    rarest = space.templates[-1][0].replace("{target}", "1")
    grown = corpus + [Utterance(rarest, accuses=False)] * (2 * max(space.counts))
    kept = StrategySpace.fit(grown, seed=0, like=space)
    assert [t[0] for t in kept.templates] == [t[0] for t in space.templates]
    assert StrategySpace.fit(grown, seed=0).templates[0][0] == space.templates[-1][0]


def test_fit_rejects_a_k_larger_than_the_number_of_templates(corpus):
    with pytest.raises(ValueError, match="k=99"):
        StrategySpace.fit(corpus, k=99)


@pytest.mark.parametrize("side", SIDES)
def test_side_env_passes_gymnasium_checks_and_rewards_only_the_outcome(side):
    """The single-agent view the PG core trains on is a valid Gymnasium env with its legal moves in
    ``info["action_mask"]`` and ``action_masks()``, and its only reward is the game's outcome for the side (+1
    win, -1 loss, 0 draw) on the last step."""
    space = StrategySpace.from_json(PACKAGE / "space.json")
    env = SideEnv(space, side)
    check_env(env, skip_render_check=True)
    _, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    rewards, done = [], False
    while not done:
        mask = info["action_mask"]
        assert np.array_equal(env.action_masks(), mask)
        action = [rng.choice(np.flatnonzero(mask[: space.k])), rng.choice(np.flatnonzero(mask[space.k :]))]
        _, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        done = terminated or truncated
    outcome = 0.0 if info["winner"] is None else (1.0 if info["winner"] == side else -1.0)
    assert all(r == 0 for r in rewards[:-1]) and rewards[-1] == outcome


def test_lspo_refuses_a_game_size_its_weights_were_not_trained_for():
    env = envs.make_multi("werewolf", num_players=9)
    nine = EnvSpaces(env.observation_space("player_0"), env.action_space("player_0"), "werewolf", {})
    with pytest.raises(ValueError, match="play 7-player games, not num_players=9"):
        lspo(nine, agent_dir=PACKAGE)


def test_lspo_needs_a_package_or_weights_folder():
    with pytest.raises(ValueError, match=r"agent_dir=.*or weights="):
        lspo(spaces())


def test_lspo_moves_are_always_legal_on_both_sides():
    """Every move is inside the mask (the env counts none invalid), over games on each side."""
    env = envs.make_multi("werewolf")
    for game in range(6):
        env.reset(seed=game)
        side = SIDES[game % 2]
        players = {
            a: agents.make("werewolf/lspo", spaces())
            if env.infos[a]["team"] == side
            else ScriptedWerewolfPlayer(spaces(), style="balanced")
            for a in env.possible_agents
        }
        for index, player in enumerate(players.values()):
            player.reset(seed=index)
        play_checking_every_move(env, players)


def test_lspo_action_is_a_function_of_its_own_observations_only():
    """Each seat's moves are replayed from the observations it was given alone and its action masks (no
    other info), by a fresh agent with the same seed: nothing else (other seats' roles, the env, the rest
    of the info) can have entered its choices."""
    env = envs.make_multi("werewolf")
    env.reset(seed=3)
    players = {a: lspo(spaces(), seed=i, agent_dir=PACKAGE) for i, a in enumerate(env.possible_agents)}
    seen = {a: [] for a in env.possible_agents}
    for agent in env.agent_iter():
        observation, _, terminated, truncated, info = env.last()
        if terminated or truncated:
            env.step(None)
            continue
        move = players[agent].act(observation, info)
        seen[agent].append((observation, info, move))
        env.step(move)
    for i, stream in enumerate(seen.values()):
        fresh = lspo(spaces(), seed=i, agent_dir=PACKAGE)
        replayed = [fresh.act(o, {"action_mask": info["action_mask"]}) for o, info, _ in stream]
        assert replayed == [m for _, _, m in stream]


@pytest.mark.parametrize("side", SIDES)
def test_lspo_beats_the_scripted_pool_on_the_same_deals(side):
    """Acceptance: over the same deals against the same scripted opponents, the LSPO side wins more often
    than the scripted pool in its seats (the mean over its three styles), the 95 % bootstrap interval of the
    paired difference above 0 (see DEALS for the margin and the number of deals)."""
    result = compare_with_pool(side, DEALS[side], seed=50_000, weights=PACKAGE)
    assert result["difference_ci95"][0] > 0, result


def test_pool_interval_resamples_deals_so_styles_that_agree_on_a_deal_count_once():
    """The pool's rate is a mean over its styles on the same deals: when the three styles always agree, the
    per-deal outcome is one Bernoulli(0.5) trial, and the 95 % interval over 400 deals must be about
    +-1.96 x 0.5 / sqrt(400) = +-0.049 (bootstrap noise a few thousandths), not the +-0.028 that treating
    1,200 games as independent would give."""
    outcome = np.tile([0.0, 1.0], 200)
    result = paired_comparison(np.ones(400), outcome)
    low, high = result["baseline_ci95"]
    assert (high - low) / 2 == pytest.approx(1.96 * 0.5 / np.sqrt(400), abs=0.006)
    assert result["difference_ci95"][0] == pytest.approx(1 - high, abs=1e-12)


def test_lspo_with_language_says_its_strategies_in_the_models_words_and_replays_from_seeds():
    """With a language model, the model writes every speech (none is a strategy's template rendering), the
    moves stay legal, and the same seeds give the same game: the speaker samples from its own generator."""
    from agents.language import TINY

    def speeches():
        env = envs.make_multi("werewolf", num_players=7)
        players = {
            seat: agents.make("werewolf/lspo", EnvSpaces.of(env, seat), language_model=TINY)
            for seat in env.possible_agents
        }
        said = []
        for i, player in enumerate(players.values()):
            player.reset(seed=i)
            act = player.act
            player.act = lambda o, info, act=act: said.append(act(o, info)) or said[-1]
        env.reset(seed=2)
        play_checking_every_move(env, players)
        return [move["text"] for move in said if move["text"]], players["player_0"].space

    texts, space = speeches()
    renderings = {space.render(s, t) for s in range(space.k) for t in range(7)}
    assert texts and not renderings & set(texts)
    assert speeches()[0] == texts

"""A Werewolf game played to the end by given players, checking every move: what tests of players share."""


def play_checking_every_move(env, players: dict) -> None:
    """Play the reset AEC ``env`` to its end with ``players`` (seat -> agent); every move must be inside the
    action space and the mask's legal targets, and no seat may end with an invalid action counted."""
    for agent in env.agent_iter():
        observation, _, terminated, truncated, info = env.last()
        if terminated or truncated:
            assert info["invalid_actions"] == 0
            env.step(None)
            continue
        move = players[agent].act(observation, info)
        assert info["action_mask"]["target"][move["target"]] == 1
        assert env.action_space(agent).contains(move)
        env.step(move)

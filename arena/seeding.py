"""Keyed seeds: what an env and each agent are reset with, derived from a board's secret.

A scenario's seeds (``header.seed + k``) are small public integers, the *logical* seeds that match ids,
results and Swiss rounds are keyed by. Neither the env nor any agent is reset with one. Each is given an
HMAC-SHA256 of the board's 32-byte secret over a message that names what is seeded:

- :func:`env_seed` over the scenario's hash, the env (its id and kwargs) and the logical seed. It does not
  depend on the roster, so seeds are common random numbers: every agent of a suite plays the same episodes at
  logical seed k, every pairing of a game the same deals, and both games of a mirrored couple the same deal.
- :func:`agent_seed` over the match id and the seat, so each seat's player gets a seed of its own.

Without the secret, neither can be computed from what is public (the scenario, the logical seed, the match
id) nor told from the other: an agent's seed says nothing about the env's. The env seed keeps 63 bits of the
digest (a non-negative signed 64-bit integer), too many to recover by trying seeds against what an agent
observes. An agent's seed keeps 32 bits, the most that numpy's legacy seeding (``np.random.seed``,
``RandomState``) accepts; it does not need to be hard to guess, only independent of the env's.
"""

from __future__ import annotations

import hashlib
import hmac

SECRET_BYTES = 32
ENV_SEED_BITS = 63
AGENT_SEED_BITS = 32


def env_seed(secret: bytes, scenario_hash: str, env_key: str, logical_seed: int) -> int:
    """The seed an env is reset with at ``logical_seed`` (``env_key``: the env id and its kwargs as JSON)."""
    return _keyed(secret, ("env", scenario_hash, env_key, str(logical_seed)), ENV_SEED_BITS)


def agent_seed(secret: bytes, match_id: str, seat: str) -> int:
    """The seed the player on ``seat`` of match ``match_id`` is reset with."""
    return _keyed(secret, ("agent", match_id, seat), AGENT_SEED_BITS)


def _keyed(secret: bytes, fields: tuple[str, ...], bits: int) -> int:
    if len(secret) < SECRET_BYTES:
        raise ValueError(f"secret has {len(secret)} bytes; at least {SECRET_BYTES} are needed")
    # Each field is prefixed with its length, so distinct field tuples always give distinct messages.
    message = b"".join(len(data).to_bytes(4, "big") + data for data in (f.encode() for f in fields))
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - bits)

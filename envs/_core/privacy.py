"""Which parts of an env's ``info`` an agent may see.

An env's ``info`` serves two readers: the agent that acts, and the code around it (benchmarks, tests,
scripted reference players, loggers). Some of it must never reach an agent: gold answers and gold chains,
other players' hidden roles, internal simulator state that would let an agent predict the future (future
demand, the env's generator state or seed). So every env class declares the top-level ``info`` keys that
carry such data::

    class MyEnv(gym.Env):
        privileged_info_keys: ClassVar[frozenset[str]] = frozenset({"gold"})

(``frozenset()`` when nothing is privileged; a multi-agent env declares the keys of every seat's info). A
privileged value never shares a top-level key with public data: an env splits it out under its own key
(``gold``, ``question_private``, ...), so that dropping top-level keys is all the filtering there is.

:func:`privileged_info_keys` reads the declaration from a Gymnasium env or a PettingZoo AEC or parallel env,
wrapped or not; an env class without one is an error, never silently public. :func:`public_info` is what
an agent gets: a shallow copy of ``info`` without those keys.

Built-in oracles. A built-in reference player that needs privileged data (e.g. ``search/oracle``, which
follows the gold chain) sets the class attribute ``uses_privileged_info = True``. Only an agent that the
arena runs in its own process (a built-in of ``agents``) and that sets this attribute receives the full
``info``; every other agent, and every agent in a sandbox, receives :func:`public_info` of it. Such an agent
is a reference point (an upper bound), not a competitor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

ATTRIBUTE = "privileged_info_keys"


class UndeclaredPrivateInfoError(TypeError):
    """An env class that does not declare ``privileged_info_keys``."""


def _declared(cls: type) -> Any:
    return getattr(cls, ATTRIBUTE, None)


def _base_env(env: Any) -> Any:
    """The innermost env: follow ``.unwrapped`` (Gymnasium and PettingZoo wrappers and conversions), then
    ``.aec_env``/``.env`` for a wrapper whose ``unwrapped`` stops short."""
    seen: set[int] = set()
    while id(env) not in seen:
        seen.add(id(env))
        inner = getattr(env, "unwrapped", env)
        if inner is not env:
            env = inner
            continue
        if _declared(type(env)) is not None:
            return env
        for name in ("aec_env", "env"):
            inner = getattr(env, name, None)
            if inner is not None and inner is not env and not isinstance(inner, type):
                env = inner
                break
    return env


def privileged_info_keys(env: Any) -> frozenset[str]:
    """The top-level ``info`` keys that ``env`` (an instance, wrapped or not, or an env class) declares
    privileged. An env class of this project (module ``envs.*``) that declares nothing raises
    :class:`UndeclaredPrivateInfoError`; an env from elsewhere (e.g. Gymnasium's own ``CartPole-v1``) that
    declares nothing has no privileged keys: its info passes as its authors made it. ``TypeError`` when the
    declaration is not a frozenset of strings. Every env under ``envs/`` declares its keys
    (``tests/envs/test_privileged_info.py`` checks each id)."""
    cls = env if isinstance(env, type) else type(_base_env(env))
    keys = _declared(cls)
    if keys is None and cls.__module__.split(".")[0] != "envs":
        keys = frozenset()
    if keys is None:
        raise UndeclaredPrivateInfoError(
            f"{cls.__module__}.{cls.__qualname__} does not declare {ATTRIBUTE}: set the class attribute "
            f"{ATTRIBUTE}: ClassVar[frozenset[str]] to the info keys an agent must not see "
            "(frozenset() if none)"
        )
    if not isinstance(keys, frozenset) or not all(isinstance(k, str) for k in keys):
        raise TypeError(f"{cls.__qualname__}.{ATTRIBUTE} must be a frozenset of str, got {keys!r}")
    return keys


def public_info(info: Mapping[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    """A shallow copy of ``info`` without the privileged ``keys``: what an agent may see."""
    return {k: v for k, v in info.items() if k not in keys}


def agent_view(env: Any, agent: Any) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """What ``agent`` sees of each ``info`` of ``env``: all of it for an agent whose ``uses_privileged_info``
    is True (a trusted built-in; a sandboxed player never is), else :func:`public_info`."""
    if getattr(agent, "uses_privileged_info", False):
        return dict
    keys = privileged_info_keys(env)
    return lambda info: public_info(info, keys)

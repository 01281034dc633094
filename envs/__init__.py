"""pg-arena's environments. Importing this package registers every id.

Single-agent envs: ``gym.make("arena/<Name>-v<k>")`` (or ``gym.make("envs:arena/<Name>-v<k>")`` without an
explicit import). Multi-agent games: ``envs.make_multi(name, **kwargs)`` gives a PettingZoo AEC env and
``parallel=True`` the parallel one. ``envs.list_envs()`` describes what is there.

Every env class declares the ``info`` keys an agent must never see (``privileged_info_keys``);
``envs.privileged_info_keys(env)`` reads them and ``envs.public_info(info, keys)`` drops them.

Each family registers its ids in its own ``__init__`` with string entry points, so importing ``envs`` stays
cheap: an env's module is imported when the env is made.
"""

from envs._core.privacy import UndeclaredPrivateInfoError, agent_view, privileged_info_keys, public_info
from envs._core.registry import (
    EnvRecord,
    UnknownEnvError,
    get_record,
    list_envs,
    make_multi,
    register_multi,
    register_single,
    unregister,
)

__all__ = [
    "EnvRecord",
    "UndeclaredPrivateInfoError",
    "UnknownEnvError",
    "agent_view",
    "get_record",
    "list_envs",
    "make_multi",
    "privileged_info_keys",
    "public_info",
    "register_multi",
    "register_single",
    "unregister",
]

from envs import inventory, iot, motor, qd, search, textarena, werewolf  # noqa: F401  (each family registers its ids)

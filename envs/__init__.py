"""pg-arena's environments. Importing this package registers every id.

Single-agent envs: ``gym.make("arena/<Name>-v<k>")`` (or ``gym.make("envs:arena/<Name>-v<k>")`` without an
explicit import). Multi-agent games: ``envs.make_multi(name, **kwargs)`` gives a PettingZoo AEC env and
``parallel=True`` the parallel one. ``envs.list_envs()`` describes what is there.

Every env class declares the ``info`` keys an agent must never see (``privileged_info_keys``);
``envs.privileged_info_keys(env)`` reads them and ``envs.public_info(info, keys)`` drops them.

Each family registers its ids in its own ``__init__`` with string entry points, so importing ``envs`` stays
cheap: an env's module is imported when the env is made.

The face (what agents and the arena use; ``envs._core`` and the families' modules are private):

- the registry: ``list_envs``, ``get_record``, ``EnvRecord``, ``make_multi`` (and ``multi_agent_spec``, the
  name and kwargs a game was made with), ``register_single``,
  ``register_multi``, ``unregister``, ``UnknownEnvError`` and ``unknown_message`` (its "did you mean" text);
- the privacy contract: ``privileged_info_keys``, ``public_info``, ``agent_view``,
  ``UndeclaredPrivateInfoError``;
- space helpers: ``mask_for_space`` (an ``info["action_mask"]`` in the form ``space.sample(mask=...)`` takes)
  and ``resolve_device`` (``"auto"`` -> CUDA when present; loads torch on first use).

Each family's own face is its package (``envs.inventory``, ``envs.qd``, ...).
"""

from typing import TYPE_CHECKING

from envs._core import lazy_exports
from envs._core.privacy import UndeclaredPrivateInfoError, agent_view, privileged_info_keys, public_info
from envs._core.registry import (
    EnvRecord,
    UnknownEnvError,
    get_record,
    list_envs,
    make_multi,
    multi_agent_spec,
    register_multi,
    register_single,
    unknown_message,
    unregister,
)
from envs._core.spaces import mask_for_space

if TYPE_CHECKING:
    from envs._core.torch_vector import resolve_device

__getattr__ = lazy_exports(__name__, {"resolve_device": "_core.torch_vector"})

__all__ = [
    "EnvRecord",
    "UndeclaredPrivateInfoError",
    "UnknownEnvError",
    "agent_view",
    "get_record",
    "list_envs",
    "make_multi",
    "mask_for_space",
    "multi_agent_spec",
    "privileged_info_keys",
    "public_info",
    "register_multi",
    "register_single",
    "resolve_device",
    "unknown_message",
    "unregister",
]

from envs import classic, inventory, iot, motor, qd, search, textarena, werewolf  # noqa: F401  (each family registers its ids)

"""Tool-use question answering over a generated multi-hop corpus (needs ``bm25s``, the ``text`` extra).

Ids (both take the keyword arguments of :class:`envs.search.env.SearchQAEnv`; ``gym.make_vec`` gives
:class:`envs.search.vector_env.SearchQAVectorEnv`):

* ``arena/SearchQA-v0``: the structured interface (``Dict`` observation, masked ``Discrete`` tool calls over
  the items seen so far), for small policies and Stable-Baselines3.
* ``arena/SearchQAText-v0``: the text interface (transcript in, tool call string out), as ReAct and
  Search-R1. Stable-Baselines3 cannot train on it: its ``check_env`` requires array observations.

The face (what agents use; loaded on first use): ``SearchQAVectorEnv``, the batched env that the GRPO-family
learners roll out groups of episodes in.
"""

from typing import TYPE_CHECKING

from envs._core import lazy_exports
from envs._core.registry import register_single

if TYPE_CHECKING:
    from envs.search.vector_env import SearchQAVectorEnv

__all__ = ["SearchQAVectorEnv"]
__getattr__ = lazy_exports(__name__, {"SearchQAVectorEnv": "vector_env"})

_ENTRY = "envs.search.env:SearchQAEnv"
_VECTOR_ENTRY = "envs.search.vector_env:SearchQAVectorEnv"

register_single(
    "arena/SearchQA-v0",
    _ENTRY,
    domain="search",
    summary="Multi-hop questions over a generated corpus: search/open/answer over seen items (structured).",
    action_kind="Discrete",
    observation_kind="Dict",
    max_episode_steps=64,
    vector_entry_point=_VECTOR_ENTRY,
    kwargs={"interface": "structured"},
)
register_single(
    "arena/SearchQAText-v0",
    _ENTRY,
    domain="search",
    summary="Multi-hop questions over a generated corpus: tool calls as text (search, open, lookup, ...).",
    action_kind="Text",
    observation_kind="Text",
    max_episode_steps=64,
    vector_entry_point=_VECTOR_ENTRY,
    kwargs={"interface": "text"},
)

"""pg-arena's agents: the Agent protocol, built-in agents by name, and agent packages from directories.

The face (what the arena uses; the modules below it are private):

- the protocol (:mod:`agents.base`): ``Agent``, ``EnvSpaces``, ``RandomAgent``;
- agent packages: ``MANIFEST`` (the manifest's file name), ``AgentManifest``, ``TrainingRecord`` (its
  ``[training]`` table), ``read_manifest``, ``write_manifest``, ``content_hash``, ``load_agent``,
  ``AgentPackageError``;
- learners by name (what ``arena train`` runs): ``learner``, ``list_learners``, ``register_learner``,
  ``LearnerRecord``, ``UnknownLearnerError``;
- built-in agents by name: ``make``, ``list_agents``, ``register_agent``, ``AgentRecord``,
  ``UnknownAgentError``;
- labels that name agents in results: ``validate_label``, ``label_problem``, ``label_directory_name`` (its
  name on disk), ``slug`` (a name part for runs and files), ``RULES`` (what a label may hold, in words),
  ``BIDI_CONTROLS``.

Each family's own face is its package (``agents.pg``, ``agents.baselines``, ``agents.qd``, ...).
"""

from agents.base import (
    MANIFEST,
    Agent,
    AgentManifest,
    AgentPackageError,
    EnvSpaces,
    RandomAgent,
    TrainingRecord,
    content_hash,
    load_agent,
    read_manifest,
    write_manifest,
)
from agents.labels import BIDI_CONTROLS, RULES, label_directory_name, label_problem, slug, validate_label
from agents.learners import LearnerRecord, UnknownLearnerError, learner, list_learners, register_learner
from agents.registry import AgentRecord, UnknownAgentError, list_agents, make, register_agent

register_agent(
    "random",
    "agents.base:RandomAgent",
    domain="any",
    summary="Uniformly random legal actions (respects info['action_mask']), seeded.",
)

import agents.baselines  # noqa: E402, F401  (registers each domain's baselines)
from agents.trained import register_shipped  # noqa: E402

register_shipped()  # the learned agents shipped as packages: motor/ppo, inventory/hdpo_gnn, ...

__all__ = [
    "BIDI_CONTROLS",
    "MANIFEST",
    "RULES",
    "Agent",
    "AgentManifest",
    "AgentPackageError",
    "AgentRecord",
    "EnvSpaces",
    "LearnerRecord",
    "RandomAgent",
    "TrainingRecord",
    "UnknownAgentError",
    "UnknownLearnerError",
    "content_hash",
    "label_directory_name",
    "label_problem",
    "learner",
    "list_agents",
    "list_learners",
    "load_agent",
    "make",
    "read_manifest",
    "register_agent",
    "register_learner",
    "slug",
    "validate_label",
    "write_manifest",
]

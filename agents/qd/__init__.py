"""Quality-diversity learners on ribs archives: MAP-Elites, PGA-ME, DCG-ME and DCG-ME's distilled policy.

The learners need pyribs (the ``mujoco`` extra); the shipped players (``qd/distilled``, ``qd/elite``) need
only torch, so the learners are imported on first use and a plain install plays the point-maze suite.
"""

import importlib

_LEARNERS = {
    "DCGME": "agents.qd.dcg_me",
    "DCGConfig": "agents.qd.dcg_me",
    "dcg_similarity": "agents.qd.dcg_me",
    "MapElites": "agents.qd.map_elites",
    "MEConfig": "agents.qd.map_elites",
    "PGAME": "agents.qd.pga_me",
    "PGAConfig": "agents.qd.pga_me",
    "QDRun": "agents.qd.runner",
    "cpu_config": "agents.qd.runner",
    "make_algorithm": "agents.qd.runner",
    "run_qd": "agents.qd.runner",
}


def __getattr__(name: str):
    if name in _LEARNERS:
        return getattr(importlib.import_module(_LEARNERS[name]), name)
    raise AttributeError(f"module 'agents.qd' has no attribute {name!r}")


__all__ = sorted(_LEARNERS)

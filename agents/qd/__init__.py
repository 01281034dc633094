"""Quality-diversity learners on ribs archives: MAP-Elites, PGA-ME, DCG-ME and DCG-ME's distilled policy."""

from agents.qd.dcg_me import DCGME, DCGConfig, dcg_similarity
from agents.qd.map_elites import MapElites, MEConfig
from agents.qd.pga_me import PGAME, PGAConfig
from agents.qd.runner import QDRun, cpu_config, make_algorithm, run_qd

__all__ = [
    "DCGME",
    "PGAME",
    "DCGConfig",
    "MEConfig",
    "MapElites",
    "PGAConfig",
    "QDRun",
    "cpu_config",
    "dcg_similarity",
    "make_algorithm",
    "run_qd",
]

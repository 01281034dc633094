"""Each domain's classical agents, registered by name with ``agents.make``.

The face (what other agent families build on):

- werewolf: ``ScriptedWerewolfPlayer`` and its ``STYLES`` (by name);
- iot: ``Scheduler`` (the heuristics' base class), ``Pheromone`` (the ant colony's trail on task kind x
  node), ``completion_s`` (each node's estimated completion time of the offered task, from ``info``) and
  ``TASK_KINDS``.
"""

from agents.baselines.iot import TASK_KINDS, Pheromone, Scheduler, completion_s
from agents.baselines.werewolf import STYLES, ScriptedWerewolfPlayer
from agents.registry import register_agent

__all__ = ["STYLES", "TASK_KINDS", "Pheromone", "Scheduler", "ScriptedWerewolfPlayer", "completion_s"]

register_agent(
    "motor/pi",
    "agents.baselines.motor:make_pi_agent",
    domain="motor",
    summary="Cascaded PI (symmetrical optimum) speed/current/torque control, tuned from info['plant'].",
)

register_agent(
    "werewolf/scripted",
    "agents.baselines.werewolf:scripted",
    domain="werewolf",
    summary="Rule-based Werewolf players for every role: seer claims, doctor saves, wolves coordinate.",
)

register_agent(
    "werewolf/lm",
    "agents.lm:lm_player",
    domain="werewolf",
    summary="The shipped small language model plays Werewolf; or model=<str -> str>, or base_url= (HTTP).",
)

register_agent(
    "inventory/base_stock",
    "agents.baselines.inventory:base_stock",
    domain="inventory",
    summary="Order up to a base-stock level on the inventory position; the optimal level by default.",
)

register_agent(
    "inventory/lost_sales_dp",
    "agents.baselines.inventory:lost_sales_optimal",
    domain="inventory",
    summary="Exact optimal lost-sales policy of a Poisson single store (relative value iteration, L <= 4).",
)

register_agent(
    "inventory/newsvendor",
    "agents.baselines.inventory:newsvendor",
    domain="inventory",
    summary="Myopic newsvendor order-up-to that ignores the lead time (optimal only at L = 0).",
)

for _name, _class, _summary in (
    ("random", "RandomScheduler", "A uniformly random legal node."),
    ("round_robin", "RoundRobin", "Nodes in turn, skipping illegal ones."),
    ("weighted_random", "WeightedRandom", "A random legal node, probability proportional to speed x cores."),
    ("jsq", "JoinShortestQueue", "Join the shortest queue: the node with the fewest tasks assigned."),
    ("least_loaded", "LeastLoaded", "The node with the least work left per unit of capacity."),
    (
        "least_work_left",
        "LeastWorkLeft",
        "The node with the least work left (M/G/c central queue on equals).",
    ),
    ("sed", "ShortestExpectedDelay", "Shortest expected delay: min (tasks + 1) / (speed x cores)."),
    ("mct", "MinimumCompletionTime", "Minimum completion time (earliest finish) from queue and transfer."),
    ("min_min", "MinMin", "Min-min batch mapping of each job's tasks (MCT for single tasks)."),
    ("max_min", "MaxMin", "Max-min batch mapping of each job's tasks (MCT for single tasks)."),
    ("edf", "EarliestDeadlineFirst", "Earliest finish assuming earliest-deadline-first node queues."),
    ("sjf", "ShortestJobFirst", "Earliest finish assuming shortest-job-first node queues."),
    ("heft", "HEFT", "HEFT for DAG jobs: upward-rank order, earliest-finish node."),
    ("aco", "AntColony", "Online ant colony: pheromone on task kind x node, heuristic 1 / completion."),
):
    register_agent(f"iot/{_name}", f"agents.baselines.iot:{_class}", domain="iot", summary=_summary)

register_agent(
    "search/oracle",
    "agents.baselines.search:oracle",
    domain="search",
    summary="Follows the gold chain of documents through the search tools: h searches, then the answer.",
)

register_agent(
    "search/retrieve_once",
    "agents.baselines.search:retrieve_once",
    domain="search",
    summary="Searches the question text once and answers from the top result.",
)

register_agent(
    "search/random",
    "agents.baselines.search:random_searcher",
    domain="search",
    summary="Random legal tool calls (structured) or random tools on random transcript words (text).",
)

register_agent(
    "iot/pg_aco",
    "agents.iot.pg_aco:pg_aco",
    domain="iot",
    summary="A trained PG scheduler (agent_dir=...) whose choices ant-colony pheromone refines.",
)

register_agent(
    "inventory/echelon_base_stock",
    "agents.baselines.inventory:echelon_base_stock",
    domain="inventory",
    summary="Echelon base-stock on a serial chain; the Clark-Scarf optimal levels by default (backlog).",
)

register_agent(
    "qd/elite",
    "agents.qd.elite:elite",
    domain="qd",
    summary="The fittest policy of a MAP-Elites archive on the point maze.",
)

register_agent(
    "search/lm",
    "agents.search.lm:lm_searcher",
    domain="search",
    summary="The shipped small language model writes each tool call ReAct-style (text interface), untrained.",
)

"""Scheduling heuristics and an ant-colony optimiser for ``arena/IoTScheduling-v0`` (``iot/<name>``).

Every scheduler reads only ``info`` (see :class:`envs.iot.env.IoTSchedulingEnv`) and picks a legal node
(``info["action_mask"]``). Where scores tie, the node with the most capacity (speed x cores) wins, then the
lowest index. The estimates they share:

* *completion* of the offered task on node n: ``max(transfer_s, start_delay_s) + size / speed`` (s from now);
* *fluid availability* for planning several tasks at once: a node's next start time grows by
  ``run time / cores`` per task planned on it.

Batch heuristics (min-min, max-min, HEFT) plan the whole job when its first task is offered and answer the
job's later tasks from that plan (tasks of a job are offered in index order at the same instant); for jobs of
one task they reduce to minimum completion time. Queue-order heuristics (SJF, EDF) estimate the start as if
the node served its queue shortest-first or earliest-deadline-first: pair them with the env's
``queue_discipline`` of the same name.
"""

from __future__ import annotations

import heapq

import numpy as np

from agents.base import EnvSpaces

TASK_KINDS = 4  # the env's task kinds: quartiles of the size distribution


class Scheduler:
    """Common parts: the node count, the agent's own generator, legal-node selection with tie-breaking."""

    name = "scheduler"

    def __init__(self, spaces: EnvSpaces, seed: int | None = None):
        self.n_nodes = int(spaces.action_space.n)
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)

    def act(self, observation, info: dict) -> int:
        return int(self.choose(info, np.asarray(info["action_mask"], dtype=bool)))

    def choose(self, info: dict, mask: np.ndarray) -> int:
        raise NotImplementedError

    @staticmethod
    def best(score: np.ndarray, mask: np.ndarray, info: dict) -> int:
        """The legal node with the lowest score; ties to the most capacity, then the lowest index."""
        capacity = np.asarray(info["node_speeds"]) * np.asarray(info["node_cores"])
        score = np.where(mask, score, np.inf)
        ties = np.flatnonzero(score <= score.min() + 1e-12 * max(1.0, abs(score.min())))
        return int(ties[np.argmax(capacity[ties])])


def completion_s(info: dict) -> np.ndarray:
    """Estimated completion (s from now) of the offered task on each node, FIFO queues assumed."""
    exec_s = info["task"]["size"] / np.asarray(info["node_speeds"])
    return np.maximum(info["transfer_s"], info["node_start_delay_s"]) + exec_s


class RandomScheduler(Scheduler):
    """A uniformly random legal node."""

    name = "iot/random"

    def choose(self, info, mask):
        return int(self.rng.choice(np.flatnonzero(mask)))


class RoundRobin(Scheduler):
    """Nodes in turn, 0, 1, ..., n - 1, 0, ...; an illegal node is skipped."""

    name = "iot/round_robin"

    def reset(self, seed=None):
        super().reset(seed)
        self._next = 0

    def choose(self, info, mask):
        order = (self._next + np.arange(self.n_nodes)) % self.n_nodes
        node = int(order[np.argmax(mask[order])])
        self._next = (node + 1) % self.n_nodes
        return node


class WeightedRandom(Scheduler):
    """A random legal node with probability proportional to its capacity (speed x cores)."""

    name = "iot/weighted_random"

    def choose(self, info, mask):
        weight = np.asarray(info["node_speeds"]) * np.asarray(info["node_cores"]) * mask
        return int(self.rng.choice(self.n_nodes, p=weight / weight.sum()))


class JoinShortestQueue(Scheduler):
    """The node with the fewest tasks assigned (moving, queued or running)."""

    name = "iot/jsq"

    def choose(self, info, mask):
        return self.best(np.asarray(info["node_tasks"]), mask, info)


class LeastLoaded(Scheduler):
    """The node with the least work left per unit of capacity: work / (speed x cores), in seconds."""

    name = "iot/least_loaded"

    def choose(self, info, mask):
        capacity = np.asarray(info["node_speeds"]) * np.asarray(info["node_cores"])
        return self.best(np.asarray(info["node_work"]) / capacity, mask, info)


class LeastWorkLeft(Scheduler):
    """The node with the least work left (work units). On identical FIFO servers this is the M/G/c queue
    with one central FCFS queue (the task waits exactly the least remaining work)."""

    name = "iot/least_work_left"

    def choose(self, info, mask):
        return self.best(np.asarray(info["node_work"]), mask, info)


class ShortestExpectedDelay(Scheduler):
    """SED: the node minimising (tasks + 1) / (speed x cores), the expected delay in mean task run times."""

    name = "iot/sed"

    def choose(self, info, mask):
        capacity = np.asarray(info["node_speeds"]) * np.asarray(info["node_cores"])
        return self.best((np.asarray(info["node_tasks"]) + 1) / capacity, mask, info)


class MinimumCompletionTime(Scheduler):
    """MCT (earliest finish): the node where the task is estimated to complete first."""

    name = "iot/mct"

    def choose(self, info, mask):
        return self.best(completion_s(info), mask, info)


class QueueOrderScheduler(Scheduler):
    """Minimum completion time, estimating the start as if each node served its queue by ``key``
    (non-preemptively, behind the running tasks and the queued tasks that come first)."""

    key_index = 0  # which field of a queued (size, time to deadline s, priority) tuple orders the queue

    def choose(self, info, mask):
        task = info["task"]
        key = (task["size"], task["deadline_s"], task["priority"])[self.key_index]
        speeds, cores = np.asarray(info["node_speeds"]), np.asarray(info["node_cores"])
        start = np.empty(self.n_nodes)
        for n in range(self.n_nodes):
            ready = info["node_awake_in_s"][n]
            free = [max(ready, r) for r in info["node_running_s"][n]]
            free += [ready] * (int(cores[n]) - len(free))
            heapq.heapify(free)
            for queued in info["node_queue"][n]:
                if queued[self.key_index] <= key:
                    heapq.heappush(free, heapq.heappop(free) + queued[0] / speeds[n])
            start[n] = free[0]
        return self.best(np.maximum(info["transfer_s"], start) + task["size"] / speeds, mask, info)


class ShortestJobFirst(QueueOrderScheduler):
    """SJF: minimum completion time where only the smaller queued tasks go first
    (``queue_discipline="sjf"``)."""

    name = "iot/sjf"
    key_index = 0


class EarliestDeadlineFirst(QueueOrderScheduler):
    """EDF: minimum completion time where only the queued tasks due earlier go first
    (``queue_discipline="edf"``)."""

    name = "iot/edf"
    key_index = 1


def legal_nodes(task: dict, info: dict) -> np.ndarray:
    """The nodes a task of the job may use: memory enough, and no cloud node for a private task."""
    mask = np.asarray(info["node_memory_mb"]) >= task["memory_mb"]
    if task["private"]:
        mask &= np.array([tier != "cloud" for tier in info["node_tiers"]])
    return mask


class JobPlanner(Scheduler):
    """Plans the whole job on its first task, then answers each of the job's tasks from the plan."""

    def reset(self, seed=None):
        super().reset(seed)
        self._plan: list[int] = []

    def choose(self, info, mask):
        task = info["task"]
        if task["index"] == 0:
            self._plan = self.plan(info)
        node = self._plan[task["index"]]
        return node if mask[node] else self.best(completion_s(info), mask, info)

    def plan(self, info: dict) -> list[int]:
        raise NotImplementedError


class MinMin(JobPlanner):
    """Min-min (Ibarra and Kim): repeatedly map the task whose best completion time is smallest."""

    name = "iot/min_min"
    pick = staticmethod(np.argmin)

    def plan(self, info):
        job, speeds = info["job"], np.asarray(info["node_speeds"])
        cores = np.asarray(info["node_cores"])
        avail = np.array(info["node_start_delay_s"], dtype=float)
        nodes, left = [0] * len(job), list(range(len(job)))
        while left:
            choices = []
            for j in left:
                finish = np.maximum(avail, job[j]["transfer_s"]) + job[j]["size"] / speeds
                node = self.best(finish, legal_nodes(job[j], info), info)
                choices.append((node, finish[node]))
            k = int(self.pick([f for _, f in choices]))
            j, node = left.pop(k), choices[k][0]
            nodes[j] = node
            avail[node] = (
                max(avail[node], job[j]["transfer_s"][node]) + job[j]["size"] / speeds[node] / cores[node]
            )
        return nodes


class MaxMin(MinMin):
    """Max-min: repeatedly map the task whose best completion time is largest (big tasks first)."""

    name = "iot/max_min"
    pick = staticmethod(np.argmax)


class HEFT(JobPlanner):
    """HEFT (Topcuoglu et al., 2002) for DAG jobs: tasks by decreasing upward rank (mean run time plus the
    longest mean path of run and transfer times to an exit task), each to the node of earliest finish,
    given its predecessors' planned finish times and the transfers of their outputs."""

    name = "iot/heft"

    def plan(self, info):
        job, speeds = info["job"], np.asarray(info["node_speeds"])
        cores = np.asarray(info["node_cores"])
        latency, s_per_mb = np.asarray(info["node_latency_s"]), np.asarray(info["node_s_per_mb"])
        off = ~np.eye(len(speeds), dtype=bool)
        mean_latency = latency[off].mean() if off.any() else 0.0
        mean_s_per_mb = s_per_mb[off].mean() if off.any() else 0.0
        succs = [[] for _ in job]
        for j, t in enumerate(job):
            for p in t["preds"]:
                succs[p].append(j)
        rank = [0.0] * len(job)
        for j in reversed(range(len(job))):  # index order is topological
            comm = mean_latency + job[j]["data_mb"] * mean_s_per_mb
            tail = max((comm + rank[k] for k in succs[j]), default=0.0)
            rank[j] = float(np.mean(job[j]["size"] / speeds)) + tail
        avail = np.array(info["node_start_delay_s"], dtype=float)
        nodes, finish = [0] * len(job), [0.0] * len(job)
        for j in sorted(range(len(job)), key=lambda j: -rank[j]):
            t = job[j]
            if t["preds"]:
                ready = np.max(
                    [
                        finish[p] + latency[nodes[p]] + job[p]["data_mb"] * s_per_mb[nodes[p]]
                        for p in t["preds"]
                    ],
                    axis=0,
                )
            else:
                ready = np.asarray(t["transfer_s"])
            start = np.maximum(avail, ready)
            node = self.best(start + t["size"] / speeds, legal_nodes(t, info), info)
            nodes[j], finish[j] = node, start[node] + t["size"] / speeds[node]
            avail[node] = start[node] + t["size"] / speeds[node] / cores[node]
        return nodes


class Pheromone:
    """Pheromone on (task kind x node), reinforced by how fast tasks finish.

    A finished task of kind k on node n deposits ``2 m_k / (m_k + response)`` (1 for a task as fast as the
    kind's running mean response ``m_k``, towards 2 for a fast one, towards 0 for a slow one):
    ``tau[k, n] <- (1 - rho) tau[k, n] + rho deposit``. Choosing node n for kind k evaporates it a little
    towards ``tau0`` (Ant Colony System's local update, which keeps the colony exploring).
    """

    def __init__(self, n_kinds: int, n_nodes: int, rho: float = 0.1, xi: float = 0.01, tau0: float = 1.0):
        if not (0 < rho <= 1 and 0 <= xi <= 1 and tau0 > 0):
            raise ValueError(f"need 0 < rho <= 1 (got {rho}), 0 <= xi <= 1 (got {xi}), tau0 > 0 (got {tau0})")
        self.rho, self.xi, self.tau0 = rho, xi, tau0
        self.tau = np.full((n_kinds, n_nodes), tau0)
        self.mean_response = np.full(n_kinds, np.nan)

    def chosen(self, kind: int, node: int) -> None:
        self.tau[kind, node] = (1 - self.xi) * self.tau[kind, node] + self.xi * self.tau0

    def deposit(self, finished) -> None:
        """Reinforce with ``info["finished"]``: ``(kind, node, response_s)`` tuples."""
        for kind, node, response in finished:
            mean = self.mean_response[kind]
            mean = response if np.isnan(mean) else 0.99 * mean + 0.01 * response
            self.mean_response[kind] = mean
            deposit = 2 * mean / (mean + response)
            self.tau[kind, node] = (1 - self.rho) * self.tau[kind, node] + self.rho * deposit


class AntColony(Scheduler):
    """Ant-colony scheduling (ACS rules, online): pheromone on task kind x node, heuristic
    ``eta = 1 / estimated completion``; the node maximising ``tau^alpha eta^beta`` with probability ``q0``,
    else a node drawn in proportion to it. Pheromone follows the response times observed as tasks finish
    (:class:`Pheromone`), so the colony learns which nodes serve which task sizes well."""

    name = "iot/aco"

    def __init__(
        self,
        spaces: EnvSpaces,
        seed: int | None = None,
        alpha: float = 1.0,
        beta: float = 2.0,
        q0: float = 0.9,
        rho: float = 0.1,
        xi: float = 0.01,
    ):
        if not (alpha >= 0 and beta >= 0 and 0 <= q0 <= 1):
            raise ValueError(
                f"need alpha >= 0 (got {alpha}), beta >= 0 (got {beta}), 0 <= q0 <= 1 (got {q0})"
            )
        self.alpha, self.beta, self.q0, self.rho, self.xi = alpha, beta, q0, rho, xi
        super().__init__(spaces, seed)

    def reset(self, seed=None):
        super().reset(seed)
        self.pheromone = Pheromone(TASK_KINDS, self.n_nodes, self.rho, self.xi)

    def choose(self, info, mask):
        self.pheromone.deposit(info["finished"])
        kind = int(info["task"]["kind"])
        eta = 1.0 / np.maximum(completion_s(info), 1e-9)
        score = np.where(mask, self.pheromone.tau[kind] ** self.alpha * eta**self.beta, 0.0)
        if self.rng.random() < self.q0:
            node = self.best(-score, mask, info)
        else:
            node = int(self.rng.choice(self.n_nodes, p=score / score.sum()))
        self.pheromone.chosen(kind, node)
        return node

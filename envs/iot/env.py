"""The IoT task-scheduling env: at each task's arrival, the agent picks the node that runs it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import networkx as nx
import numpy as np

from envs._core.render import AggFigure, Panel, StripChart, check_render_mode, warn_without_render_mode
from envs.iot.simulator import Cluster, PowerDown
from envs.iot.topology import NodeSpec, flat_topology, from_graph, standard_topology
from envs.iot.workload import ArrivalProcess, JobShape, SizeDistribution, Task, Workload

TASK_FEATURES = ("size", "data_mb", "deadline_s", "priority", "private", "kind")
NODE_FEATURES = ("work", "tasks", "start_delay_s", "transfer_s", "exec_s")
DEFAULT_SPEEDS = (1.0, 1.0, 2.0, 4.0)
RENDER_WINDOW = 200  # decisions shown by the rgb_array plot


class IoTSchedulingEnv(gym.Env):
    """Schedule IoT tasks on gateway, fog and cloud nodes, simulated event by event with SimPy.

    ## Description
    Jobs of one or more tasks arrive from IoT devices (Poisson, bursty MMPP or diurnal arrivals). Each
    task's input moves over the network to the node chosen for it (latency + size / bandwidth per link,
    :mod:`envs.iot.topology`), waits in that node's queue, runs ``size / speed`` seconds on one core, and
    leaves (:mod:`envs.iot.simulator`). A step is one decision: the node for the task that just arrived. The
    tasks of a job are offered one after the other at the same instant, in topological order for DAG jobs,
    where a task starts only once its predecessors' outputs have reached its node.

    ## Action Space
    ``Discrete(n_nodes)``: the node for the offered task. ``action_masks()`` and ``info["action_mask"]``
    mark the nodes that may take it: enough memory (``memory_mb`` >= the task's), and no cloud node for a
    private task. An action outside the mask raises ValueError.

    ## Observation Space
    ``Box(0, inf, (6 + 5 n_nodes,), float32)``: the task's ``size`` (work units), ``data_mb``, relative
    ``deadline_s``, ``priority``, ``private`` (0/1) and size ``kind`` (its quartile, 0-3); then per node its
    ``work`` left (work units of the tasks assigned to it, moving, queued or running), ``tasks`` assigned,
    ``start_delay_s`` (when a task joining its queue now would start), ``transfer_s`` (moving this task's
    input there) and ``exec_s`` (this task's run time there, size / speed).

    ``info`` repeats these (``task`` as a dict, ``node_work``, ``node_tasks``, ``node_start_delay_s``,
    ``transfer_s``) and adds: the static ``node_speeds``, ``node_cores``, ``node_tiers``, ``node_idle_w``,
    ``node_max_w``, ``node_memory_mb`` and paths between nodes (``node_latency_s``, ``node_s_per_mb``); per
    node the running tasks' remaining run times (``node_running_s``), the queue in service order
    (``node_queue``: ``(size, time to deadline s, priority)`` tuples) and the time until it can run
    anything (``node_awake_in_s``, 0 unless asleep or waking); the whole current job (``job``: per task
    ``size``, ``data_mb``, ``preds``, ``memory_mb``, ``private``, relative ``deadline_s``, ``transfer_s``
    from the job's device); ``time_s``; the tasks finished during the step (``finished``: ``(kind, node,
    response_s)`` tuples); the cumulative ``energy_j``, ``sla_misses``, ``tasks_finished``; and
    ``utilisation`` per node (busy core time over core time so far). At the episode's end it also holds,
    per task in arrival order, ``response_times`` (finish - arrival, s) and ``waiting_times`` (time in a
    node's queue, s), and ``cluster_utilisation`` (work done over the cluster's capacity times the elapsed
    time), ``mean_power_w``, ``mean_tasks_in_system`` and ``makespan_s``.

    ## Rewards
    ``-(integral of the number of tasks in the system over the step, task-seconds) - energy_weight x (energy
    drawn in the step, J) - sla_weight x (deadlines missed by tasks finishing in the step)``. The last step
    runs the system until every task has finished, so with zero weights the return is exactly minus the sum
    of all response times: an agent cannot end an episode early, and lateness is always paid for.

    ## Starting State
    Empty queues, every node awake and idle at time 0; the first job arrives after a random gap.

    ## Episode End
    Terminates once ``num_tasks`` tasks have arrived (or the next job would arrive after ``horizon_s``) and
    all have finished. Truncated by ``max_episode_steps`` (1 000 000 decisions as registered).

    ## Arguments
    ``gym.make("arena/IoTScheduling-v0", **kwargs)``:

    * cluster: ``node_speeds`` (work units/s per core, default ``[1, 1, 2, 4]``; tier ``"fog"``),
      ``node_cores`` (int or one per node, 1), ``node_memory_mb`` (float or one per node, inf),
      ``p_idle_w`` / ``p_max_w`` (W, one per node; default ``30 speed`` and ``60 speed^1.5``); or
      ``network``: a networkx graph (see :mod:`envs.iot.topology`) or ``"standard"``
      (:func:`envs.iot.topology.standard_topology`), whose nodes then carry all of these (leave them out).
    * ``queue_discipline``: ``"fifo"`` (default), ``"priority"``, ``"sjf"``, ``"edf"``.
    * ``power_down`` (False), ``idle_timeout_s`` (0), ``p_sleep_w`` (5 W), ``wake_up_s`` (1 s),
      ``wake_up_j`` (100 J).
    * workload: ``arrival_rate`` (tasks/s, 6.4: load 0.8 on the default cluster), ``arrival`` (``"poisson"``,
      ``"mmpp"``, ``"diurnal"``), ``burstiness`` (0.5) and ``switch_rate`` (0.1 /s) for MMPP,
      ``diurnal_amplitude`` (0.5) and ``diurnal_period_s`` (600) for diurnal; ``task_size``
      (``"exponential"``, ``"pareto"``, ``"deterministic"``), ``mean_task_size`` (1 work unit),
      ``pareto_alpha`` (1.5), ``pareto_ratio`` (max/min size, 1000); ``job`` (``"single"``, ``"bag"``,
      ``"dag"``), ``tasks_per_job`` (1), ``dag_edge_prob`` (0.3); ``mean_data_mb`` (0), ``max_task_memory_mb``
      (0), ``n_priorities`` (1), ``private_fraction`` (0), ``deadline_factor`` (relative deadline = factor x
      size / mean node speed, 10).
    * episode: ``num_tasks`` (1000), ``horizon_s`` (None).
    * reward: ``energy_weight`` (per J, 0), ``sla_weight`` (per missed deadline, 0).
    * ``render_mode``: None (default), ``"ansi"`` (the offered task and a table of the nodes: queued and
      running tasks, work left, utilisation so far) or ``"rgb_array"`` (a 640 x 480 plot of each node's queue
      length and busy fraction of its cores over the last ``RENDER_WINDOW`` decisions, sampled at each
      decision). A frame is one decision.

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 10}
    # all of it is the present or the past (tasks that have arrived, queues, finished tasks) or the static
    # cluster; the next arrival's time and size and the env's generator are not in info
    privileged_info_keys: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        node_speeds: Sequence[float] | None = None,
        node_cores: int | Sequence[int] = 1,
        node_memory_mb: float | Sequence[float] = math.inf,
        p_idle_w: Sequence[float] | None = None,
        p_max_w: Sequence[float] | None = None,
        network: nx.Graph | str | None = None,
        queue_discipline: str = "fifo",
        power_down: bool = False,
        idle_timeout_s: float = 0.0,
        p_sleep_w: float = 5.0,
        wake_up_s: float = 1.0,
        wake_up_j: float = 100.0,
        arrival_rate: float = 6.4,
        arrival: str = "poisson",
        burstiness: float = 0.5,
        switch_rate: float = 0.1,
        diurnal_amplitude: float = 0.5,
        diurnal_period_s: float = 600.0,
        task_size: str = "exponential",
        mean_task_size: float = 1.0,
        pareto_alpha: float = 1.5,
        pareto_ratio: float = 1000.0,
        job: str = "single",
        tasks_per_job: int = 1,
        dag_edge_prob: float = 0.3,
        mean_data_mb: float = 0.0,
        max_task_memory_mb: float = 0.0,
        n_priorities: int = 1,
        private_fraction: float = 0.0,
        deadline_factor: float = 10.0,
        num_tasks: int = 1000,
        horizon_s: float | None = None,
        energy_weight: float = 0.0,
        sla_weight: float = 0.0,
        render_mode: str | None = None,
    ):
        self.render_mode = check_render_mode(render_mode, self.metadata)
        if network is None:
            topology = flat_topology(_node_specs(node_speeds, node_cores, node_memory_mb, p_idle_w, p_max_w))
        else:
            given = dict(node_speeds=node_speeds, p_idle_w=p_idle_w, p_max_w=p_max_w)
            if any(v is not None for v in given.values()) or node_cores != 1 or node_memory_mb != math.inf:
                raise ValueError(
                    "node_speeds, node_cores, node_memory_mb, p_idle_w, p_max_w: leave them out "
                    "when a network is given (its nodes carry them)"
                )
            if isinstance(network, str) and network != "standard":
                raise ValueError(f"network={network!r}; allowed: None, 'standard' or a networkx graph")
            topology = from_graph(standard_topology() if network == "standard" else network)
        if not (isinstance(num_tasks, (int, np.integer)) and num_tasks >= 1):
            raise ValueError(f"num_tasks must be an integer >= 1, got {num_tasks!r}")
        if horizon_s is not None and not horizon_s > 0:
            raise ValueError(f"horizon_s must be > 0 or None, got {horizon_s}")
        if not (energy_weight >= 0 and sla_weight >= 0):
            raise ValueError(f"energy_weight and sla_weight must be >= 0, got {energy_weight}, {sla_weight}")
        shape = JobShape(job, tasks_per_job, dag_edge_prob)
        nodes = topology.nodes
        self.workload = Workload(
            ArrivalProcess(
                arrival,
                arrival_rate / tasks_per_job,
                burstiness,
                switch_rate,
                diurnal_amplitude,
                diurnal_period_s,
            ),
            SizeDistribution(task_size, mean_task_size, pareto_alpha, pareto_ratio),
            shape,
            n_devices=len(topology.devices),
            reference_speed=float(np.mean([n.speed for n in nodes])),
            deadline_factor=deadline_factor,
            mean_data_mb=mean_data_mb,
            max_task_memory_mb=max_task_memory_mb,
            n_priorities=n_priorities,
            private_fraction=private_fraction,
        )
        edge_memory = max((n.memory_mb for n in nodes if n.tier != "cloud"), default=0.0)
        if max_task_memory_mb > max(n.memory_mb for n in nodes) or (
            private_fraction > 0 and max_task_memory_mb > edge_memory
        ):
            raise ValueError(
                f"max_task_memory_mb={max_task_memory_mb} leaves tasks without a node (largest node memory "
                f"{max(n.memory_mb for n in nodes)} MB, largest non-cloud {edge_memory} MB)"
            )
        power = PowerDown(idle_timeout_s, p_sleep_w, wake_up_s, wake_up_j) if power_down else None
        self.cluster = Cluster(topology, queue_discipline, power)
        self.topology, self.num_tasks, self.horizon_s = topology, int(num_tasks), horizon_s
        self.energy_weight, self.sla_weight = float(energy_weight), float(sla_weight)
        n = len(nodes)
        self.action_space = gym.spaces.Discrete(n)
        size = len(TASK_FEATURES) + len(NODE_FEATURES) * n
        self.observation_space = gym.spaces.Box(0.0, np.inf, (size,), np.float32)
        self._speeds = np.array([s.speed for s in nodes])
        self._static = {
            "node_speeds": self._speeds,
            "node_cores": np.array([s.cores for s in nodes]),
            "node_tiers": tuple(s.tier for s in nodes),
            "node_idle_w": np.array([s.idle_w for s in nodes]),
            "node_max_w": np.array([s.max_w for s in nodes]),
            "node_memory_mb": np.array([s.memory_mb for s in nodes]),
            "node_latency_s": topology.node_latency_s,
            "node_s_per_mb": topology.node_s_per_mb,
        }
        self._memory = self._static["node_memory_mb"]
        self._edge = np.array([s.tier != "cloud" for s in nodes])
        self._capacity = float(sum(s.speed * s.cores for s in nodes))
        names = tuple(s.name for s in nodes)
        self._chart = (
            StripChart(
                [Panel("queued tasks", names), Panel("busy cores (fraction)", names)],
                RENDER_WINDOW,
                xlabel="simulated time (s)",
                steps=True,
            )
            if render_mode == "rgb_array"
            else None
        )
        self._figure: AggFigure | None = None

    # -- Gymnasium API ---------------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.cluster.reset()
        self.cluster.start_power_down()
        self.workload.arrivals.reset(self.np_random)
        self._arrived, self._jobs = 0, 0
        self._next_job()
        self._step_area, self._step_energy, self._step_misses = 0.0, self.cluster.energy_j(), 0
        if self._chart is not None:
            self._chart.clear()
            self._record()
        return self._observation(), self._info(done=False)

    def step(self, action):
        action = int(action)
        mask = self.action_masks()
        if not (0 <= action < len(mask) and mask[action]):
            raise ValueError(
                f"action={action} is not a legal node for this task; legal: {np.flatnonzero(mask).tolist()}"
            )
        cluster = self.cluster
        cluster.dispatch(self._job[self._index], action, self._job)
        self._index += 1
        done = False
        if self._index == len(self._job):
            done = not self._next_job()
            if done:
                cluster.drain()
        area, energy, misses = cluster.area_now(), cluster.energy_j(), cluster.sla_misses
        reward = -(area - self._step_area)
        reward -= self.energy_weight * (energy - self._step_energy) + self.sla_weight * (
            misses - self._step_misses
        )
        self._step_area, self._step_energy, self._step_misses = area, energy, misses
        observation = self._observation() if not done else np.zeros(self.observation_space.shape, np.float32)
        if self._chart is not None:
            self._record()
        return observation, float(reward), done, False, self._info(done)

    def action_masks(self) -> np.ndarray:
        """Nodes that may take the offered task: memory enough, and not the cloud for a private task."""
        if self._index >= len(self._job):
            return np.ones(len(self._memory), dtype=bool)
        task = self._job[self._index]
        mask = self._memory >= task.memory_mb
        return mask & self._edge if task.private else mask

    def render(self) -> str | np.ndarray | None:
        """The offered task and the nodes now as text (``"ansi"``), or their recent queue lengths and busy
        fractions as an RGB plot (``"rgb_array"``, (480, 640, 3) uint8); None without a render mode."""
        if self.render_mode is None:
            warn_without_render_mode(self.metadata)
            return None
        if self.render_mode == "ansi":
            return self._table()
        if self._figure is None:
            self._figure = AggFigure(2)
        self._chart.draw(self._figure.axes)
        self._figure.axes[0].set_title(
            f"t = {self.cluster.now:.2f} s, {self._arrived} tasks arrived", fontsize="small"
        )
        return self._figure.to_rgb()

    # -- internals -------------------------------------------------------------------------------------------
    def _next_job(self) -> bool:
        """Draw the next job and run the clock to its arrival; False when the episode has no more tasks."""
        if self._arrived >= self.num_tasks:
            return False
        tasks = self.workload.next_job(self.cluster.now, self.np_random, self._arrived, self._jobs)
        if self.horizon_s is not None and self._jobs > 0 and tasks[0].arrival_s > self.horizon_s:
            return False
        tasks = tasks[: self.num_tasks - self._arrived]  # a DAG cut short keeps its first (topological) tasks
        self.cluster.run_until(tasks[0].arrival_s)
        self.cluster.arrive(tasks)
        self._job, self._index = tasks, 0
        topo = self.topology
        transfer = topo.device_latency_s[tasks[0].source]
        self._job_info = [
            {
                "size": t.size,
                "data_mb": t.data_mb,
                "preds": t.preds,
                "memory_mb": t.memory_mb,
                "private": t.private,
                "deadline_s": t.deadline_s - t.arrival_s,
                "transfer_s": tuple((transfer + t.data_mb * topo.device_s_per_mb[t.source]).tolist()),
            }
            for t in tasks
        ]
        self._arrived += len(tasks)
        self._jobs += 1
        return True

    def _record(self) -> None:
        nodes = self.cluster.nodes
        queued = [len(n.queue) for n in nodes]
        self._chart.append(self.cluster.now, queued, [len(n.running) / n.cores for n in nodes])

    def _table(self) -> str:
        cluster, now = self.cluster, self.cluster.now
        lines = [f"t={now:.3f} s  arrived {self._arrived}  finished {cluster.finished}"]
        if self._index < len(self._job):
            task = self._job[self._index]
            lines.append(
                f"offered task {task.id}: size {task.size:.3g}, deadline in {task.deadline_s - now:.3g} s, "
                f"priority {task.priority}{', private' if task.private else ''}"
            )
        lines.append(
            f"{'node':<12}{'tier':<9}{'speed':>6}{'queued':>8}{'running':>9}{'work left':>11}{'util':>7}"
        )
        for n in cluster.nodes:
            utilisation = n.busy_s(now) / (n.cores * now) if now > 0 else 0.0
            lines.append(
                f"{n.spec.name:<12}{n.spec.tier:<9}{n.speed:>6.3g}{len(n.queue):>8}"
                f"{f'{len(n.running)}/{n.cores}':>9}{n.work_left(now):>11.3g}{utilisation:>7.2f}"
            )
        return "\n".join(lines)

    def _transfer_s(self, task: Task) -> np.ndarray:
        topo = self.topology
        if not task.preds:
            return topo.device_latency_s[task.source] + task.data_mb * topo.device_s_per_mb[task.source]
        return np.max(
            [
                topo.node_latency_s[p.node] + p.data_mb * topo.node_s_per_mb[p.node]
                for p in (self._job[i] for i in task.preds)
            ],
            axis=0,
        )

    def _node_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        now, wake = self.cluster.now, self.cluster.wake_up_s
        nodes = self.cluster.nodes
        work = np.array([n.work_left(now) for n in nodes])
        tasks = np.array([n.assigned for n in nodes], dtype=float)
        delay = np.array([n.start_delay_s(now, wake) for n in nodes])
        return work, tasks, delay

    def _observation(self) -> np.ndarray:
        task = self._job[self._index]
        work, tasks, delay = self._node_state()
        self._state = (work, tasks, delay, self._transfer_s(task))
        head = [
            task.size,
            task.data_mb,
            task.deadline_s - task.arrival_s,
            task.priority,
            task.private,
            task.kind,
        ]
        nodes = np.stack([work, tasks, delay, self._state[3], task.size / self._speeds], axis=1)
        return np.concatenate([head, nodes.ravel()]).astype(np.float32)

    def _info(self, done: bool) -> dict[str, Any]:
        cluster, now = self.cluster, self.cluster.now
        finished = [(t.kind, t.node, t.finish_s - t.arrival_s) for t in cluster.recent]
        cluster.recent = []
        info: dict[str, Any] = {  # fresh arrays every call: a caller may keep and change what it gets
            **{k: v.copy() if isinstance(v, np.ndarray) else v for k, v in self._static.items()},
            "time_s": now,
            "action_mask": self.action_masks(),
            "finished": finished,
            "energy_j": cluster.energy_j(),
            "sla_misses": cluster.sla_misses,
            "tasks_finished": cluster.finished,
            "utilisation": np.array(
                [n.busy_s(now) / (n.cores * now) if now > 0 else 0.0 for n in cluster.nodes]
            ),
        }
        if not done:
            task = self._job[self._index]
            work, tasks, delay, transfer = self._state
            info.update(
                task={
                    "id": task.id,
                    "job": task.job,
                    "index": task.index,
                    "size": task.size,
                    "data_mb": task.data_mb,
                    "memory_mb": task.memory_mb,
                    "deadline_s": task.deadline_s - task.arrival_s,
                    "priority": task.priority,
                    "private": task.private,
                    "kind": task.kind,
                    "preds": task.preds,
                },
                job=[dict(t) for t in self._job_info],
                node_work=work,
                node_tasks=tasks,
                node_start_delay_s=delay,
                transfer_s=transfer,
                node_running_s=[[f - now for _, f in n.running.values()] for n in cluster.nodes],
                node_queue=[
                    [(t.size, t.deadline_s - now, t.priority) for _, _, t in sorted(n.queue)]
                    for n in cluster.nodes
                ],
                node_awake_in_s=[n.ready_in_s(now, cluster.wake_up_s) for n in cluster.nodes],
            )
            return info
        tasks_all = cluster.tasks
        work_done = sum(t.size for t in tasks_all)
        info.update(
            response_times=np.array([t.finish_s - t.arrival_s for t in tasks_all]),
            waiting_times=np.array([t.start_s - t.ready_s for t in tasks_all]),
            cluster_utilisation=work_done / (self._capacity * now),
            mean_power_w=cluster.energy_j() / now,
            mean_tasks_in_system=cluster.area_now() / now,
            makespan_s=now,
        )
        return info


def _per_node(name: str, value, n: int) -> list:
    values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value] * n
    if len(values) != n:
        raise ValueError(f"{name} must be a single value or one per node ({n}), got {len(values)}")
    return values


def _node_specs(speeds, cores, memory_mb, p_idle_w, p_max_w) -> list[NodeSpec]:
    speeds = list(DEFAULT_SPEEDS if speeds is None else speeds)
    if not speeds:
        raise ValueError("node_speeds must list at least one node")
    n = len(speeds)
    columns = zip(
        speeds,
        _per_node("node_cores", cores, n),
        _per_node("node_memory_mb", memory_mb, n),
        _per_node("p_idle_w", p_idle_w, n),
        _per_node("p_max_w", p_max_w, n),
        strict=True,
    )
    return [
        NodeSpec(f"node{i}", "fog", float(s), c, float(m), pi, pm)
        for i, (s, c, m, pi, pm) in enumerate(columns)
    ]

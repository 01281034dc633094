"""``arena bench inventory``: HDPO against REINFORCE and PPO, GNN against MLP, and simulator throughput.

Every training run is repeated on each seed of ``--seeds`` (default 10-19) and the comparisons are paired by
seed (:func:`agents.stats.paired_comparison`: wins out of the seeds, sign test and Wilcoxon p, mean difference
with its 95 % t interval). It measures

* on one setting (a single store, Poisson(5) demand, lead time 2, h = 1, p = 9, backlog; the optimum is the
  base-stock level 20 at 7.1230 per period), at each training budget of ``--budget`` (s of wall time), the
  test gap of HDPO, REINFORCE and PPO (the PG core, on the batched env), HDPO against each PG learner. HDPO
  stops once its dev cost is within 0.5 % of the optimum, so its wall time is its time to the 1 % gap when
  that comes within the budget;
* the simulator's throughput in scenario-periods per second at several batch sizes on the device;
* the data-efficiency comparison: GNN and MLP policies trained by HDPO on one warehouse and N lost-sales
  stores (``--gnn-stores``) from the same 16 training scenarios, for each budget of ``--gnn-steps`` gradient
  steps, costs per store on fresh test scenarios, GNN against MLP, beside the installation base-stock
  heuristic and a lower bound (each store's exact lost-sales optimum with a warehouse that never runs out).

Measured on seeds 10-19 on an Intel Xeon with 2 logical cores shared with other work; wall-time budgets buy
less training when the machine is busy, so the load is given. A full run (10 and 30 s, N = 3, 10, 20 at 100
and 300 steps) takes over an hour there, so two smaller runs:

``arena bench inventory --device cpu --budget 2 --budget 6 --gnn-stores 3 --gnn-steps 30 --gnn-steps 100
--gnn-test-scenarios 256 --seeds 10-19`` (load about 5.5):

* 2 s (HDPO 10-20 steps): no run within 1 %; HDPO's median gap 73 % (two seeds at 22x and 712x the
  optimum), REINFORCE 69 %, PPO 205 %: HDPO beats REINFORCE on 4/10 seeds (p = 0.75 / 0.43), PPO on 7/10
  (p = 0.34 / 0.49).
* 6 s (HDPO 30-50 steps): HDPO 11-18 %, REINFORCE 14-110 %, PPO 52-135 %: HDPO beats REINFORCE on 9/10 seeds
  (p = 0.021 / 0.0039) and PPO on 10/10 (p = 0.002 / 0.002).
* Throughput: 1.4k scenario-periods/s for one scenario, 308k at 256, 5.0M at 4096, 7.1M at 65536.
* One warehouse + 3 stores, 256 test paths x 300 periods, cost per period and store (gap to the bound 6.010;
  base-stock 8.085, +34.5 %): after 30 steps GNN 6.672 (+11.0 %), MLP 10.125 (+68.5 %; two seeds at 13.8 and
  30.3), GNN better on 9/10 seeds (p = 0.021 / 0.0059), difference -3.45 [-8.78, +1.88]; after 100 steps GNN
  6.423 (+6.9 %), MLP 6.604 (+9.9 %), GNN better on 10/10 (p = 0.002 / 0.002), difference -0.181
  [-0.235, -0.127].

The single-store learners alone (:func:`learners_at_budgets`, what ``--budget 6 --budget 20`` runs) at load
1 to 3:

* 6 s (HDPO 80-130 steps): HDPO 0.9-6.2 % (mean 3.4 %), REINFORCE 3.2-26 % (9.0 %), PPO 2.4-9.1 % (4.6 %):
  HDPO beats REINFORCE on 9/10 seeds (p = 0.021 / 0.0059), PPO on 6/10 only (p = 0.75 / 0.28; difference
  -1.2 points [-3.3, +0.9]).
* 20 s: HDPO within 1 % on 9/10 seeds (0.45-1.02 %, after 6.7-20.7 s), REINFORCE 2.3-12 % with one run
  diverged (gap 473x), PPO 4.8-9.8 %: HDPO beats both on 10/10 seeds (p = 0.002 / 0.002); against PPO by
  -6.2 points [-7.2, -5.1].

Not rerun on fresh seeds: N = 10 and 20 (measured on seeds 0-2 at 300 steps, 1024 test paths: GNN 6.179 and
6.129 per store against the MLP's 6.851 and 8.300, bounds 6.046 and 6.052; a GNN run at N = 10 takes about
2.5 min on the busy machine). There the MLP overfit its 16 training paths (training cost below the lower
bound) and generalised worse as N grew; the GNN, with the same weights for any N, trained and tested alike.
Before the GNN's features were scaled per node (see :mod:`agents.inventory.policies`), its N = 10 run stalled
at three times the MLP's cost.

Writes ``inventory.json`` and ``inventory_hdpo.png`` (dev cost against wall time) to ``out_dir``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import torch
import typer
from rich.console import Console
from rich.table import Table

from agents.stats import paired_comparison
from arena.cli import output
from benchmarks import BenchOut, Seeds, benchmark, parse_seeds, seeds_text
from benchmarks._machine import cpu_name, device_name

SETTING = {"demand": "poisson", "demand_mean": 5.0, "lead_time": 2, "holding_cost": 1.0, "underage_cost": 9.0}


def optimal_cost(setting: dict[str, Any]) -> float:
    """The known optimum of a single-store setting: base-stock (backlog) or the lost-sales DP."""
    from agents.baselines.inventory import base_stock_poisson, lost_sales_dp

    args = (setting["demand_mean"], setting["lead_time"], setting["holding_cost"], setting["underage_cost"])
    if setting.get("lost_sales"):
        return lost_sales_dp(*args).cost
    return base_stock_poisson(*args)[1]


def simulator_throughput(device: torch.device, batch_sizes=(1, 256, 4096, 65536), periods: int = 200) -> dict:
    """Scenario-periods per second of the simulator stepping base-stock orders (no gradient), per batch."""
    from envs.inventory.simulator import make_simulator

    simulator = make_simulator(**SETTING, device=device)
    generator = torch.Generator(device=device).manual_seed(0)
    rates = {}
    for n in batch_sizes:
        steps = max(20, min(periods, 2_000_000 // n))
        demand = simulator.sample_demand(n, steps, generator)
        state = simulator.initial_state(n)
        with torch.no_grad():
            _sync(device)
            start = time.perf_counter()
            for t in range(steps):
                orders = (20.0 - simulator.inventory_position(state)).clamp_min(0.0)
                state, _, _ = simulator.step(state, orders, demand[:, t])
            _sync(device)
        rates[str(n)] = n * steps / (time.perf_counter() - start)
    return rates


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def hdpo_time_to_gap(
    setting: dict[str, Any], gap: float = 0.01, budget_s: float = 120.0, seed: int = 0
) -> dict:
    """Train HDPO in 10-step pieces until the test cost is within ``gap`` of the optimum (or the budget)."""
    from agents.inventory.hdpo import HDPOConfig, evaluate_cost, train_hdpo

    optimum = optimal_cost(setting)
    config = HDPOConfig(batch=256, steps=10_000, eval_every=10, dev_scenarios=512, patience=10_000)
    config.time_budget_s = budget_s
    result = train_hdpo(setting, config, seed=seed, target_cost=optimum * (1 + gap / 2))
    test = evaluate_cost(result.policy, setting)
    return {
        "optimal_cost": optimum,
        "test_cost": test,
        "gap": test / optimum - 1,
        "wall_time_s": result.wall_time_s,
        "steps": result.steps,
        "log": result.log,
    }


# What REINFORCE and PPO train on: the same store, with orders capped at 10 (twice the mean demand) so that
# their tanh-squashed Gaussian starts centred on the mean demand, the base-stock policy's mean order, instead
# of at 30 (half the default cap of 60, which drowns the store in stock), and rewards scaled by 0.1 so that
# the critic's discounted returns are of order 10, not 700. The cap costs the optimal base-stock policy
# 0.2 % (7.133 against 7.118 simulated). Measured on the busy 2-core machine: with the default cap and no
# scaling REINFORCE ended at 600 times the optimal cost after 128k env steps; capped at 15, PPO reached
# 0.5 % in 128k steps and REINFORCE stayed above 30 times; capped at 10, REINFORCE 3.8 % after 256k steps
# (25 s) and PPO 3.1 % after 77k (35 s).
PG_CAPACITY, PG_REWARD_SCALE = 10.0, 0.1


def pg_gap_at_budget(algo: str, setting: dict[str, Any], budget_s: float, seed: int = 0) -> dict:
    """Train ``algo`` (reinforce, ppo) from the PG core on the batched env (orders capped at
    :data:`PG_CAPACITY`, rewards scaled by :data:`PG_REWARD_SCALE`) for ``budget_s`` seconds of training;
    the gap of its deterministic policy (the Gaussian's mean) on fresh test scenarios."""
    from agents.inventory.hdpo import evaluate_cost
    from agents.pg import ppo, reinforce
    from agents.pg.trainer import Learner

    module = {"reinforce": reinforce, "ppo": ppo}[algo]
    config = (
        reinforce.ReinforceConfig(
            num_envs=64, num_steps=50, normalize_obs=True, learning_rate=3e-3, action_bound="tanh"
        )
        if algo == "reinforce"
        else ppo.PPOConfig.continuous(
            num_envs=64, num_steps=50, num_minibatches=8, normalize_obs=True, action_bound="tanh"
        )
    )
    config.anneal_lr, config.torch_threads = False, 1
    capped = {**setting, "order_capacity": PG_CAPACITY}
    learner = Learner(
        algo,
        module.update,
        "arena/InventorySingleStore-v0",
        config,
        total_steps=10**9,
        seed=seed,
        device="cpu",
        env_kwargs={**capped, "reward_scale": PG_REWARD_SCALE},
    )
    try:
        while learner.train_time_s < budget_s:
            learner.train(learner.steps_per_update)
        policy = learner.policy

        def act(simulator, state):
            obs = simulator.observation(state).to(torch.float32)
            return policy.action.to_env(policy.distribution(obs).mode())

        test = evaluate_cost(act, capped)
    finally:
        learner.close()
    optimum = optimal_cost(setting)
    return {
        "test_cost": test,
        "gap": test / optimum - 1,
        "env_steps": learner.global_step,
        "wall_time_s": learner.train_time_s,
    }


def warehouse_stores_setting(num_stores: int) -> dict[str, Any]:
    """One warehouse (lead time 2, h = 0.5) and ``num_stores`` lost-sales stores (lead time 2, h = 1, p = 9)
    with Poisson demand, means spread evenly from 3 to 7."""
    means = [3.0 + 4.0 * i / max(num_stores - 1, 1) for i in range(num_stores)]
    return {
        "topology": "warehouse_stores",
        "num_stores": num_stores,
        "demand": "poisson",
        "demand_mean": means,
        "lead_time": 2,
        "warehouse_lead_time": 2,
        "underage_cost": 9.0,
        "lost_sales": True,
    }


def store_lower_bound(setting: dict[str, Any]) -> float:
    """Mean over stores of each store's exact lost-sales optimum when its warehouse never runs out (the
    lost-sales DP with the store's own lead time): no policy of the network does better per store, since the
    warehouse only limits what stores receive and its holding cost is >= 0."""
    from agents.baselines.inventory import lost_sales_dp

    means = setting["demand_mean"]
    holding, lead = setting.get("holding_cost", 1.0), setting["lead_time"]
    costs = [lost_sales_dp(m, lead, holding, setting["underage_cost"]).cost for m in means]
    return sum(costs) / len(costs)


def gnn_vs_mlp(
    num_stores: int,
    *,
    train_scenarios: int = 16,
    budgets=(100, 300),
    seeds=(10, 11),
    test_scenarios: int = 1024,
) -> dict[str, Any]:
    """GNN and MLP policies trained by HDPO on the same ``train_scenarios`` demand paths (50 periods each;
    early stopping on as many other paths) of :func:`warehouse_stores_setting`, one run per seed and budget of
    gradient steps, scored on ``test_scenarios`` fresh paths of 300 periods. Costs are per period and per
    store; per budget the GNN against the MLP paired by seed (two or more seeds); beside them the installation
    base-stock heuristic and :func:`store_lower_bound`."""
    from agents.baselines.inventory import installation_levels
    from agents.inventory.hdpo import HDPOConfig, evaluate_cost, train_hdpo
    from envs.inventory.simulator import make_simulator

    setting = warehouse_stores_setting(num_stores)
    row: dict[str, Any] = {"lower_bound": store_lower_bound(setting), "budgets": {}}
    for steps in budgets:
        runs = {}
        for policy in ("gnn", "mlp"):
            config = HDPOConfig(
                policy=policy,
                train_scenarios=train_scenarios,
                dev_scenarios=train_scenarios,
                steps=steps,
                eval_every=10,
                patience=10,
            )
            runs[policy] = [
                evaluate_cost(
                    train_hdpo(setting, config, seed=seed).policy, setting, scenarios=test_scenarios
                )
                / num_stores
                for seed in seeds
            ]
        row["budgets"][str(steps)] = {
            **{f"{policy}_runs": costs for policy, costs in runs.items()},
            **{policy: sum(costs) / len(costs) for policy, costs in runs.items()},
            **_paired("GNN", runs["gnn"], "MLP", runs["mlp"]),
        }
    simulator = make_simulator(**setting)
    levels = torch.tensor(installation_levels(simulator.problem())[0])
    targets = torch.tensor([d for _, d in simulator.network.edges])

    def base_stock(sim, state):
        return (levels - sim.inventory_position(state)).clamp_min(0.0)[:, targets]

    row["base_stock"] = evaluate_cost(base_stock, setting, scenarios=test_scenarios) / num_stores
    return row


def _paired(a: str, a_costs, b: str, b_costs) -> dict[str, Any]:
    """``{"comparison": ...}``: A against B paired by seed on a cost (lower is better), as
    :meth:`agents.stats.PairedComparison.as_dict` plus its summary line; empty with fewer than two seeds."""
    if len(a_costs) < 2:
        return {}
    comparison = paired_comparison(a_costs, b_costs, higher_is_better=False)
    return {"comparison": {**comparison.as_dict(), "summary": comparison.summary(a, b)}}


def learners_at_budgets(setting: dict[str, Any], budgets, seeds) -> dict[str, Any]:
    """HDPO, REINFORCE and PPO on ``setting`` at each training budget (s of wall time), one run per seed:
    each run's test gap, and HDPO against each PG learner paired by seed on the gap (two or more seeds).
    HDPO stops once its dev cost is within 0.5 % of the optimum, so its wall time is its time to the 1 % gap
    when that comes within the budget; the PG learners train for the whole budget."""
    results = {}
    for budget in budgets:
        runs = {"hdpo": [hdpo_time_to_gap(setting, budget_s=budget, seed=seed) for seed in seeds]}
        for algo in ("reinforce", "ppo"):
            runs[algo] = [pg_gap_at_budget(algo, setting, budget, seed=seed) for seed in seeds]
        gaps = {learner: [run["gap"] for run in learner_runs] for learner, learner_runs in runs.items()}
        results[f"{budget:g}"] = {
            "runs": runs,
            "comparisons": {
                algo: _paired("HDPO", gaps["hdpo"], algo, gaps[algo]).get("comparison")
                for algo in ("reinforce", "ppo")
            },
        }
    return results


def run_inventory_bench(
    device: str = "auto",
    budgets=(10.0, 30.0),
    seeds="10-19",
    gnn_stores=(3, 10, 20),
    gnn_budgets=(100, 300),
    gnn_test_scenarios: int = 1024,
    out_dir: Path = Path("results/bench"),
    console: Console | None = None,
) -> dict[str, Any]:
    """Measure and print the tables; write inventory.json and inventory_hdpo.png to ``out_dir``.

    ``budgets``: training seconds for the single-store learners; ``gnn_budgets``: HDPO gradient steps for the
    GNN and MLP, scored on ``gnn_test_scenarios`` paths; ``seeds`` (e.g. ``"10-19"``) for every training run,
    paired by seed in the comparisons."""
    from envs._core.torch_vector import resolve_device

    if not budgets or min(budgets) <= 0:
        raise ValueError(f"budgets={budgets} must be training seconds > 0")
    seeds = parse_seeds(seeds)
    console = console or Console()
    torch_device = resolve_device(device)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    load_average = os.getloadavg()[0]  # wall-time budgets buy less training on a busy machine
    learners = learners_at_budgets(SETTING, budgets, seeds)
    results: dict[str, Any] = {
        "device": str(torch_device),
        "device_name": device_name(torch_device),
        "cpu": cpu_name(),
        "load_average_at_start": load_average,
        "seeds": list(seeds),
        "setting": SETTING,
        "optimal_cost": optimal_cost(SETTING),
        "learners": learners,
        "throughput_scenario_periods_per_s": simulator_throughput(torch_device),
        "gnn_vs_mlp": {
            str(n): gnn_vs_mlp(n, budgets=gnn_budgets, seeds=seeds, test_scenarios=gnn_test_scenarios)
            for n in gnn_stores
        },
    }
    first_hdpo = learners[f"{max(budgets):g}"]["runs"]["hdpo"][0]
    _plot(first_hdpo["log"], results["optimal_cost"], out_dir / "inventory_hdpo.png")
    (out_dir / "inventory.json").write_text(json.dumps(results, indent=2))
    _print(console, results)
    return results


def _plot(log: list[dict], optimum: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot([r["time_s"] for r in log], [r["dev_cost"] for r in log], label="HDPO dev cost")
    axes.axhline(optimum, color="black", linestyle="--", label="optimum (base-stock)")
    axes.axhline(optimum * 1.01, color="grey", linestyle=":", label="1 % gap")
    axes.set_xlabel("wall time (s)")
    axes.set_ylabel("cost per period")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _print(console: Console, results: dict[str, Any]) -> None:
    seeds = seeds_text(results["seeds"])
    for budget, numbers in results["learners"].items():
        table = Table(
            title=f"Inventory learners, {budget} s of training, seeds {seeds}, on {results['cpu']} "
            "(single store, Poisson, L = 2, p = 9; mean over seeds)"
        )
        for column in ("learner", "wall time (s)", "test gap", "runs within 1 %"):
            table.add_column(column, justify="right")
        for learner, runs in numbers["runs"].items():
            gaps = [run["gap"] for run in runs]
            table.add_row(
                learner.upper() if learner == "hdpo" else learner,
                f"{sum(run['wall_time_s'] for run in runs) / len(runs):.1f}",
                f"{sum(gaps) / len(gaps):.2%}",
                f"{sum(gap <= 0.01 for gap in gaps)}/{len(gaps)}",
            )
        console.print(table)
        for comparison in numbers["comparisons"].values():
            if comparison:
                console.print(f"  {budget} s, test gap: {comparison['summary']}")
    rates = Table(title=f"Simulator throughput on {results['device_name']} ({results['device']})")
    rates.add_column("batch", justify="right")
    rates.add_column("scenario-periods/s", justify="right")
    for n, rate in results["throughput_scenario_periods_per_s"].items():
        rates.add_row(n, f"{rate:,.0f}")
    console.print(rates)
    gnn = Table(
        title="One warehouse + N lost-sales stores, HDPO from 16 training scenarios: test cost per period "
        f"and store (mean over seeds {seeds}; gap to the per-store lower bound)"
    )
    for column in (
        "N",
        "steps",
        "GNN",
        "MLP",
        "GNN wins",
        "sign p",
        "Wilcoxon p",
        "base-stock",
        "lower bound",
    ):
        gnn.add_column(column, justify="right")
    for n, row in results["gnn_vs_mlp"].items():
        bound = row["lower_bound"]
        for steps, costs in row["budgets"].items():
            comparison = costs.get("comparison")
            gnn.add_row(
                n,
                steps,
                *(f"{costs[k]:.3f} ({costs[k] / bound - 1:+.1%})" for k in ("gnn", "mlp")),
                *(
                    (
                        f"{comparison['wins']}/{comparison['seeds']}",
                        f"{comparison['sign_test_p']:.2g}",
                        f"{comparison['wilcoxon_p']:.2g}",
                    )
                    if comparison
                    else ("-", "-", "-")
                ),
                f"{row['base_stock']:.3f} ({row['base_stock'] / bound - 1:+.1%})",
                f"{bound:.3f}",
            )
    console.print(gnn)
    for n, row in results["gnn_vs_mlp"].items():
        for steps, costs in row["budgets"].items():
            if "comparison" in costs:
                console.print(
                    f"  N = {n}, {steps} steps, test cost per store: {costs['comparison']['summary']}"
                )


@benchmark("inventory")
def inventory_command(
    device: Annotated[str, typer.Option(help="'cpu', 'cuda' or 'auto'.")] = "auto",
    budget: Annotated[
        list[float],
        typer.Option(min=1.0, help="Training seconds per single-store learner; repeat for several."),
    ] = (10.0, 30.0),
    gnn_steps: Annotated[
        list[int], typer.Option(min=10, help="HDPO steps for the GNN and the MLP; repeat for several.")
    ] = (100, 300),
    gnn_stores: Annotated[
        list[int], typer.Option(min=1, help="Stores N of the GNN/MLP settings; repeat.")
    ] = (
        3,
        10,
        20,
    ),
    gnn_test_scenarios: Annotated[
        int, typer.Option(min=1, help="Test paths scoring the GNN and MLP.")
    ] = 1024,
    seeds: Seeds = "10-19",
    out: BenchOut = Path("results/bench"),
) -> None:
    """Inventory: HDPO against REINFORCE and PPO on one store at two training budgets (test gap, paired by
    seed), GNN vs MLP policies on warehouse + N stores at two step budgets, and the simulator's
    scenario-periods/s.

    Example: [bold]arena bench inventory --budget 10 --budget 30 --seeds 10-19[/]
    """
    run_inventory_bench(
        device=device,
        budgets=tuple(budget),
        seeds=seeds,
        gnn_stores=tuple(gnn_stores),
        gnn_budgets=tuple(gnn_steps),
        gnn_test_scenarios=gnn_test_scenarios,
        out_dir=out,
        console=output.console,
    )

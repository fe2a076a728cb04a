"""Warm starts: P3HT/CNT campaigns that start from what the lab knows, against cold starts, over seeds.

    python benchmarks/warm_start.py                         # 5 seeds x 4 arms, batch 48, 4 days (~an hour on 2 cores)
    python benchmarks/warm_start.py --seeds 2 --days 3 --arms cold warm

Arms, every one the same campaign (simulated P3HT/CNT world, batch 48 films = 8 recipes of 6 droplets a day,
every film profiled so conductivity is measured on each; strategy default) but for its prior:

- `cold`: no prior (day 1 a space-filling design; the conductivity graph of GPs from day 2);
- `warm`: the 233 real films (../shared/datasets/p3ht_cnt, Bash et al. 2021) as a related task: the world is
  calibrated on them but is a different process by construction (its own film physics, noise and smoothing);
- `misleading`: ~230 simulated films of a *shifted* world (l-SWCNT <-> MWCNT and s-SWCNT <-> DWCNT swapped in
  the conductivity landscape: the prior says cheap MWCNT blends conduct best) as a related task;
- `misleading-same`: the same films taken as the same process (`prior_same_process: true`): what the task
  correlation protects against.

Per arm: the days until the best true conductivity made reaches 95 % of the world optimum (mean over the seeds
that reached it, and how many did), the hypervolume regret per day (best-known front's hypervolume minus the
campaign's, true values, log10 conductivity x cost; mean +- standard deviation over seeds) and the task
correlation learned on the last day. The `cold` row is the baseline, printed beside the others in the same run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lab.campaign.config import CampaignConfig
from lab.campaign.runner import run_campaign
from lab.paths import shared_data_dir
from lab.scenarios import build_scenario
from lab.scenarios.p3ht_cnt.campaign_table import simulate_campaign_table
from lab.scenarios.p3ht_cnt.landscape import COMPONENTS, CSV_COLUMNS, ConductivityLandscape
from lab.scenarios.p3ht_cnt.world import P3HTCNTWorld, P3HTCNTWorldConfig
from lab.scoring import hypervolume, pareto_mask
from lab.store import Store, sqlite_url
from optimizers.sampling import sample_feasible

ARMS = ("cold", "warm", "misleading", "misleading-same")
#: The shifted world: each CNT's conductivity role taken by another (l-SWCNT <-> MWCNT, s-SWCNT <-> DWCNT).
SWAP = [0, 3, 4, 1, 2]


class ShiftedLandscape(ConductivityLandscape):
    """The calibrated landscape with the CNTs' roles swapped (`SWAP`): its optimum lies elsewhere."""

    def ln_conductivity_frac(self, frac: np.ndarray) -> np.ndarray:
        return super().ln_conductivity_frac(np.atleast_2d(frac)[:, SWAP])


def real_films(path: Path, out: Path) -> Path:
    """The real films in the scenario's columns (the card's names mapped, each blend summed to exactly 100 %)."""
    frame = pd.read_csv(path).rename(columns={v: k for k, v in CSV_COLUMNS.items()})
    names = list(COMPONENTS)
    frame[names] = frame[names].div(frame[names].sum(axis=1), axis=0) * 100
    frame[[*names, "conductivity"]].to_csv(out, index=False)
    return out


def shifted_films(out: Path, seed: int = 0) -> Path:
    """~230 films of the shifted world, drawn like a campaign (39 recipes x 6 droplets), every one profiled."""
    base = P3HTCNTWorld.default()
    world = P3HTCNTWorld(ShiftedLandscape(base.landscape.params), P3HTCNTWorldConfig(failure_rate=0.0))
    table = simulate_campaign_table(n_recipes=39, films_per_recipe=6, thickness_fraction=1.0, seed=seed, world=world)
    table[[*COMPONENTS, "conductivity"]].dropna().to_csv(out, index=False)
    return out


def best_known_hypervolume(scenario, n: int = 100_000, slices: int = 40) -> float:
    """The hypervolume of the world's best-known front: dense feasible samples, the optimum recipe, and for each of
    `slices` cost levels the most conductive blend at most that dear (SLSQP from the best samples: the
    epsilon-constraint front)."""
    from scipy.optimize import minimize

    space = scenario.space
    X = sample_feasible(space, n, seed=0)
    recipe, _ = scenario.world.optimum()
    X = np.vstack([X, [[recipe[c] for c in space.names]]])
    truth = scenario.true_objectives(X)
    cost, ln_sigma = truth["cost"].to_numpy(), np.log(truth["conductivity"].to_numpy())
    low, high = space.bounds
    per_pct = np.linalg.lstsq(X, cost, rcond=None)[0]  # cost is linear in the composition
    polished = []
    for level in np.linspace(cost.min(), cost.max(), slices):
        under = np.flatnonzero(cost <= level + 1e-12)
        start = X[under[np.argmax(ln_sigma[under])]]
        res = minimize(lambda x: -scenario.world.true_log_conductivity(x[None, :])[0], start, method="SLSQP",
                       bounds=list(zip(low, high)),
                       constraints=[{"type": "eq", "fun": lambda x: x.sum() - 100.0},
                                    {"type": "ineq", "fun": lambda x, c=level: c - x @ per_pct}],
                       options={"ftol": 1e-10, "maxiter": 300})
        x = np.clip(res.x, low, high)
        polished.append(x * 100.0 / x.sum())
    X = np.vstack([X, polished])
    Y = scenario.hypervolume_space(scenario.true_objectives(X))
    return hypervolume(Y[pareto_mask(Y)], scenario.hypervolume_reference())


def run_arm(arm: str, seed: int, priors: dict[str, Path], args: argparse.Namespace) -> dict:
    """One campaign of `arm`; its summary figures."""
    prior = {"cold": None, "warm": priors["warm"], "misleading": priors["misleading"],
             "misleading-same": priors["misleading"]}[arm]
    config = CampaignConfig(days=args.days, batch=args.batch, droplets_per_recipe=6, seed=seed,
                            thickness_fraction=1.0, name=f"{arm}-{seed}", prior=str(prior) if prior else None,
                            prior_same_process=arm == "misleading-same")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, Store(sqlite_url(Path(tmp) / "lab.sqlite")) as store:
        result = run_campaign(config, store)
    s = result.summary
    correlations = [d["task_correlation"].get("conductivity") for d in s.get("prior", {}).get("days", [])]
    return {"arm": arm, "seed": seed, "best": s["best_true"]["conductivity"], "hypervolume": s["hypervolume"],
            "optimum": s["world_optimum"]["conductivity"], "correlation": [c for c in correlations if c is not None],
            "seconds": time.perf_counter() - t0}


def table(runs: list[dict], hv_star: float, days: int) -> str:
    """The warm-vs-cold table: days to 95 % of the optimum, hypervolume regret per day, learned correlation."""
    head = f"{'arm':<16}{'days to 95 %':>16}" + "".join(f"{f'HV regret day {d}':>20}" for d in range(1, days + 1)) \
        + f"{f'best S/cm day {days}':>18}{'task corr. (last)':>20}{'s / campaign':>14}"
    lines = [head, "-" * len(head)]
    for arm in dict.fromkeys(r["arm"] for r in runs):
        rs = [r for r in runs if r["arm"] == arm]
        reached = [next((d + 1 for d, b in enumerate(r["best"]) if b >= 0.95 * r["optimum"]), None) for r in rs]
        hit = [d for d in reached if d is not None]
        days_cell = f"{np.mean(hit):.2f} ({len(hit)}/{len(rs)})" if hit else f"> {days} (0/{len(rs)})"
        regret = np.array([[hv_star - h for h in r["hypervolume"]] for r in rs])
        cells = "".join(f"{f'{m:.4f} +- {s:.4f}':>20}" for m, s in zip(regret.mean(0), regret.std(0)))
        corr = [r["correlation"][-1] for r in rs if r["correlation"]]
        corr_cell = f"{np.mean(corr):.2f} +- {np.std(corr):.2f}" if corr else "-"
        best = [r["best"][-1] for r in rs]
        best_cell = f"{np.mean(best):.0f} +- {np.std(best):.0f}"
        lines.append(f"{arm:<16}{days_cell:>16}{cells}{best_cell:>18}{corr_cell:>20}"
                     f"{np.mean([r['seconds'] for r in rs]):>14.0f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="campaigns per arm (seeds 1..N)")
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--batch", type=int, default=48, help="films per day (6 droplets per recipe)")
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    parser.add_argument("--data", type=Path, default=shared_data_dir() / "p3ht_cnt" / "raw_data.csv",
                        help="the 233 real films (CSV of the data card)")
    parser.add_argument("--out", type=Path, default=None, help="also write every run's figures as JSON here")
    parser.add_argument("--table", type=Path, default=None, help="print the table of a saved --out JSON; run nothing")
    args = parser.parse_args()
    scenario = build_scenario("p3ht-cnt", 0)
    hv_star = best_known_hypervolume(scenario)
    if args.table is not None:  # the best-known front is recomputed: a saved table is scored as a fresh one
        saved = json.loads(args.table.read_text())
        scenario.close()
        print(f"best-known front hypervolume {hv_star:.4f}")
        print(table(saved["runs"], hv_star, len(saved["runs"][0]["hypervolume"])))
        return
    optimum = scenario.world_optimum()["conductivity"]
    scenario.close()
    print(f"P3HT/CNT world: optimum conductivity {optimum:.1f} S/cm (95 %: {0.95 * optimum:.1f}); best-known front "
          f"hypervolume {hv_star:.4f} (log10 S/cm x USD, reference {{1 S/cm, 0.11 USD}})")
    print(f"campaigns: batch {args.batch} films (= {-(-args.batch // 6)} recipes x 6 droplets) a day, {args.days} days, "
          f"every film profiled, strategy default, seeds 1-{args.seeds}; kept small to stay affordable on 2 cores")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        priors = {"warm": real_films(args.data, Path(tmp) / "real_films.csv"),
                  "misleading": shifted_films(Path(tmp) / "shifted_films.csv")}
        for seed in range(1, args.seeds + 1):
            for arm in args.arms:
                run = run_arm(arm, seed, priors, args)
                runs.append(run)
                print(f"  {arm:<16} seed {seed}: best per day {[round(b) for b in run['best']]} S/cm, "
                      f"correlation {[round(c, 2) for c in run['correlation']]}, {run['seconds']:.0f} s", flush=True)
    print()
    print(table(runs, hv_star, args.days))
    if args.out is not None:
        args.out.write_text(json.dumps({"hv_star": hv_star, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()

"""Science a scientist can trust (issue 13): every acceptance figure beside the figure before the change.

"Before" is the same measurement run on another checkout (`--before DIR`), "after" on this
one, in the same run: each measurement is a subprocess of this script with that checkout first on `sys.path`
(and as its working directory), using only APIs both checkouts have.

Parts (`--parts`, default all):
- `world`: the ten best real compositions (replicate geometric means) within a factor 1.3, the face drop of 0.5 %
  minor CNT at the optimum (beside the drop the real films support), grouped-CV R2, optimum, best interior point.
- `candidates` (after only, ~10 min): world forms tried for the top ten (`CANDIDATES`: the shipped landscape plus
  a residual GP on the composition means), each with its top-10 score, grouped-CV R2, face drop, optimum, plateau
  and its steepest bump at a top composition.
- `campaign`: `lab campaign run --scenario p3ht-cnt --days 3 --batch 160 --seed S` for `--seeds`: best true
  conductivity per day / world optimum, hypervolume regret per day (after: against the true front shipped with the
  world), and `--strategy random` (after) beside it.
- `coverage`: 95 % intervals of the latent conductivity (the optimizer's sample paths) on 1500 feasible recipes
  after the 2-day part of each campaign: share covering the world's truth, RMSE, mean sd.
- `hypothesis`: `lab hypothesis` on campaign films (seed 0, target ln sheet resistance, intermediates absorbance
  and ratio): best CV R2 and recipe-only R2 without `--group-by` and grouped; the nested score after.
- `success`: P(success) across a pool from the campaign's failures (seed 0, 2 days), and recipes left without a
  thickness.
- `electrode`: the shipped P2D sweep's high rate and median utilisation there, the nominal capacity, and the
  surrogate's r2 against live PyBaMM on 10 fresh recipes (`lab p2d validate --n 10 --seed 100`).

    python benchmarks/science.py --before /tmp/before    # everything, ~30-40 min on 2 shared cores
    python benchmarks/science.py --before /tmp/before --parts world,campaign --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
COMPONENTS = ["p3ht", "l_swcnt", "s_swcnt", "mwcnt", "dwcnt"]


# ---------------------------------------------------------------- measurements (run inside a checkout)
def measure_world() -> dict:
    """World figures through APIs every checkout has."""
    from lab.scenarios.p3ht_cnt.calibration import composition_groups, default_data_path, read_films
    from lab.scenarios.p3ht_cnt.landscape import sample_feasible
    from lab.scenarios.p3ht_cnt.world import P3HTCNTWorld

    world = P3HTCNTWorld.default()
    X, y = read_films(default_data_path())
    groups = composition_groups(X)
    counts = np.bincount(groups)
    comps = np.stack([np.bincount(groups, X[:, j]) / counts for j in range(5)], axis=1)
    gm = np.bincount(groups, y) / counts
    top = np.argsort(-gm, kind="stable")[:10]
    ratio = np.exp(world.true_log_conductivity(comps[top]) - gm[top])
    recipe, sigma = world.optimum()
    x = np.array([recipe[c] for c in COMPONENTS])
    drops = {}
    for k in (2, 3, 4):
        e = np.zeros(5)
        e[k] = 100.0
        x2 = 0.995 * x + 0.005 * e
        drops[COMPONENTS[k]] = float(1 - np.exp(world.true_log_conductivity(x2[None])[0] - np.log(sigma)))
    Z = 100 * sample_feasible(100_000, np.random.default_rng(1))
    v = np.exp(world.true_log_conductivity(Z))
    inner = (Z[:, 1:] > 0.5).all(axis=1)
    cal = world.landscape.params.calibration
    return {"top10_within_1.3": int(((ratio <= 1.3) & (ratio >= 1 / 1.3)).sum()),
            "top10_ratios": [round(float(r), 2) for r in ratio],
            "face_drop": drops, "optimum": sigma, "optimum_recipe": [round(float(v), 2) for v in x],
            "interior_max": float(v[inner].max()), "pooled_cv_r2": cal.get("mean_pooled_r2"),
            "fold_cv_r2": cal.get("mean_fold_r2"), "plateau": cal.get("plateau")}


def measure_coverage(history: str) -> dict:
    """Latent 95 % coverage of the conductivity belief fitted on days <= 2 of a campaign's history."""
    from lab.scenarios.p3ht_cnt.graph_belief import fit_graph_belief
    from lab.scenarios.p3ht_cnt.landscape import sample_feasible
    from lab.scenarios.p3ht_cnt.world import P3HTCNTWorld

    h = pd.read_csv(history)
    films = h[(h["day"] <= 2) & (h["status"] == "measured")].copy()
    films["recipe_id"] = films.groupby(COMPONENTS).ngroup()
    world = P3HTCNTWorld.default()
    pool = 100 * sample_feasible(1500, np.random.default_rng(11))
    truth = world.true_log_conductivity(pool)
    belief = fit_graph_belief(films)
    out = {}
    for name, draws in (("optimizer", belief.sample_conductivity(pool, 256, seed=3)),
                        ("latent", belief.graph.sample_paths(256, seed=3, intermediate_noise=False).target(pool))):
        lo, hi = np.percentile(draws, [2.5, 97.5], axis=0)
        out[name] = {"coverage95": float(np.mean((truth >= lo) & (truth <= hi))),
                     "rmse": float(np.sqrt(np.mean((draws.mean(axis=0) - truth) ** 2))),
                     "mean_sd": float(draws.std(axis=0).mean())}
    return out


def measure_success(history: str) -> dict:
    """P(success) range the optimizer would use after 2 days, and recipes without a thickness."""
    from lab.scenarios import build_scenario
    from optimizers.observations import read_observations
    from optimizers.sampling import sample_feasible
    from optimizers.surrogates import fit_feasibility, success_probability

    scenario = build_scenario("p3ht-cnt", 0)
    space = scenario.space
    h = pd.read_csv(history)
    h = h[h["day"] <= 2]
    frame = h[[*space.names, *space.objective_names]].copy()
    frame["status"] = h["status"]
    obs = read_observations(space, frame, frozenset(space.objective_names))
    model = fit_feasibility(space, obs, 0, 250, None)
    p = success_probability(model, sample_feasible(space, 1500, 5))
    measured = h[h["status"] == "measured"]
    profiled = measured.groupby(COMPONENTS)["thickness"].apply(lambda t: t.notna().any())
    return {"p_success_min": float(p.min()), "p_success_max": float(p.max()), "failed": int((h["status"] == "failed").sum()),
            "recipes": int(len(profiled)), "recipes_without_thickness": int((~profiled).sum())}


#: World forms tried for "the ten best real compositions within x1.3" (part `candidates`): the shipped
#: parametric landscape plus a residual GP in ln sigma on the composition means (noise s2 / n), by kernel, length
#: scale (None: by marginal likelihood, >= 0.005) and whether a nugget (composition-level scatter) is allowed.
CANDIDATES = (("shipped (no residual GP)", None, None, False), ("GP, RBF, ML, noise s2/n", "rbf", None, False),
              ("GP, RBF, ML, + nugget", "rbf", None, True), ("GP, RBF, l = 0.01", "rbf", 0.01, False),
              ("GP, RBF, l = 0.02", "rbf", 0.02, False), ("GP, Matern 5/2, l = 0.03", "m52", 0.03, False),
              ("GP, RBF, l = 0.04", "rbf", 0.04, False))


def residual_gp_world(X: np.ndarray, y: np.ndarray, kernel: str | None, length: float | None, nugget: bool):
    """The shipped landscape form fitted on `X, y`, plus a residual GP on its composition means (None: no GP).

    The GP's noise is heteroscedastic, `s2 / n` per composition (`s2` the pooled within-composition variance);
    amplitude (and the length scale when `length` is None, and the nugget when allowed) by marginal likelihood.
    Returns (landscape, GP log marginal likelihood or None, fitted kernel text).
    """
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Matern, WhiteKernel

    from lab.scenarios.p3ht_cnt.calibration import CalibrationSettings, composition_means, fit_landscape, within_scatter
    from lab.scenarios.p3ht_cnt.landscape import ConductivityLandscape

    params = fit_landscape(X, y, CalibrationSettings(), 0)
    if kernel is None:
        return ConductivityLandscape(params), None, "-"
    base = ConductivityLandscape(params)
    means = composition_means(X, y)
    F = means[COMPONENTS].to_numpy() / 100.0
    resid = np.log(means["conductivity"].to_numpy()) - base.ln_conductivity_frac(F)
    bounds = "fixed" if length else (0.005, 1.0)
    shape = RBF(length or 0.1, bounds) if kernel == "rbf" else Matern(length or 0.1, bounds, nu=2.5)
    k = ConstantKernel(0.05, (1e-4, 10.0)) * shape
    if nugget:
        k = k + WhiteKernel(0.02, (1e-5, 1.0))
    gp = GaussianProcessRegressor(k, alpha=within_scatter(X, y) ** 2 / means["n"].to_numpy(),
                                  n_restarts_optimizer=1, random_state=0).fit(F, resid)

    class ResidualGPLandscape(ConductivityLandscape):
        def ln_conductivity_frac(self, frac: np.ndarray) -> np.ndarray:
            frac = np.atleast_2d(frac)
            return super().ln_conductivity_frac(frac) + gp.predict(frac)

    return ResidualGPLandscape(params), float(gp.log_marginal_likelihood_value_), str(gp.kernel_)


def measure_world_candidates() -> list[dict]:
    """Each of `CANDIDATES`: top-10 within x1.3, grouped-CV R2 (same folds as the shipped world's), face drop at
    its optimum, optimum, plateau, and its steepest bump: ln sigma at a top composition over its mean 1 % away."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from lab.scenarios.p3ht_cnt.calibration import (CalibrationSettings, default_data_path, grouped_cv_r2, read_films,
                                                    top_composition_check)
    from lab.scenarios.p3ht_cnt.landscape import LOWER_PCT, UPPER_PCT

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y = read_films(default_data_path())
    rows = []
    for name, kernel, length, nugget in CANDIDATES:
        world, lml, fitted = residual_gp_world(X, y, kernel, length, nugget)
        top = top_composition_check(world, X, y)
        _, pooled = grouped_cv_r2(X, y, CalibrationSettings(), 0,
                                  fit=lambda Xt, yt: residual_gp_world(Xt, yt, kernel, length, nugget)[0])
        x_opt, sigma = world.optimum
        rng = np.random.default_rng(0)
        bumps = []
        for t in top[COMPONENTS].to_numpy() / 100.0:
            d = rng.standard_normal((200, 5))
            d -= d.mean(axis=1, keepdims=True)
            ring = t + 0.01 * d / np.linalg.norm(d, axis=1, keepdims=True)
            ring = ring[((ring >= LOWER_PCT / 100) & (ring <= UPPER_PCT / 100)).all(axis=1)]
            bumps.append(float(world.ln_conductivity_frac(t[None])[0] - world.ln_conductivity_frac(ring).mean()))
        ratio = top["ratio"].to_numpy()
        rows.append({"name": name, "kernel": fitted, "lml": lml,
                     "top10_within_1.3": int(((ratio <= 1.3) & (ratio >= 1 / 1.3)).sum()),
                     "top10_ratios": [round(float(r), 2) for r in ratio], "pooled_cv_r2": float(np.mean(pooled)),
                     "face_drop": world.face_drop(x_opt, 0.5), "optimum": sigma,
                     "optimum_recipe": [round(float(v), 1) for v in x_opt],
                     "plateau": world.plateau(0.95, n_samples=10_000), "max_bump": max(bumps)})
    return rows


# ---------------------------------------------------------------- orchestration
def in_tree(tree: Path, function: str, *args: str) -> dict:
    """Run `function(*args)` of this script inside checkout `tree`; its JSON result."""
    code = (f"import sys, json; sys.path.insert(0, {str(tree)!r}); sys.path.insert(1, {str(HERE / 'benchmarks')!r}); "
            f"import science; print('RESULT' + json.dumps(science.{function}(*{list(args)!r})))")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.run([PYTHON, "-c", code], cwd=tree, env=env, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT")]
    if proc.returncode or not lines:
        raise RuntimeError(f"{function} in {tree} failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT"):])


def lab(tree: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([PYTHON, "-c", "from lab.cli import main; main()", *argv], cwd=tree, env=env,
                          capture_output=True, text=True)


def campaign(tree: Path, seed: int, out: Path, strategy: str = "default") -> dict:
    res = lab(tree, "campaign", "run", "--scenario", "p3ht-cnt", "--days", "3", "--batch", "160", "--seed", str(seed),
              "--strategy", strategy, "--out", str(out), "-q")
    if res.returncode:
        raise RuntimeError(res.stderr[-3000:])
    return json.loads((out / "summary.json").read_text())


def print_table(title: str, rows: list[tuple], header: tuple) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(v) for v in row) + " |")


def part_world(before: Path, after: Path) -> None:
    b, a = in_tree(before, "measure_world"), in_tree(after, "measure_world")
    data = in_tree(after, "data_face_drop_figure")
    rows = [
        ("ten best real compositions within x1.3 (target 10)", b["top10_within_1.3"], a["top10_within_1.3"]),
        ("their predicted/measured ratios", b["top10_ratios"], a["top10_ratios"]),
        ("... a perfect world would score (winner's curse, replicate scatter only)", "", round(data["perfect_world"], 1)),
        ("composition-level scatter beyond replicates, sd ln (pairs < 0.02 apart)", "",
         f"{data['scatter']['sd']:.2f} ({data['scatter']['pairs']} pairs; replicates {data['scatter']['within_sd']:.2f})"),
        ("... a perfect world would score with it", "", round(data["perfect_world_scatter"], 1)),
        ("the ten best judged by their neighbourhoods (compositions < 0.03 apart) within x1.3", "",
         f"{data['neighbourhoods_within']} {data['neighbourhood_ratios']}"),
        ("face drop, 0.5 % s/m/d-CNT at the optimum", _pct(b["face_drop"]), _pct(a["face_drop"])),
        ("face drop the real films support (central / at most)", "", f"{data['drop']:.1%} / {data['max_drop']:.1%}"),
        ("grouped-CV R2, pooled (target >= 0.85)", b["pooled_cv_r2"], a["pooled_cv_r2"]),
        ("grouped-CV R2, mean per fold", b["fold_cv_r2"], a["fold_cv_r2"]),
        ("world optimum S/cm (recipe)", f"{b['optimum']:.0f} {b['optimum_recipe']}", f"{a['optimum']:.0f} {a['optimum_recipe']}"),
        ("best point with every CNT > 0.5 % (100k sample)", f"{b['interior_max']:.0f}", f"{a['interior_max']:.0f}"),
        ("plateau >= 95 % of the optimum", "not reported", _plateau(a["plateau"])),
    ]
    print_table("World (P3HT/CNT)", rows, ("figure", "before", "after"))
    print(f"\nface drop data: {data['evidence']}")


def data_face_drop_figure() -> dict:
    """The face drop the real films support, the composition-level scatter and the perfect world's top-10 score
    without and with it (after checkout only)."""
    from lab.scenarios.p3ht_cnt.calibration import (composition_scatter, data_face_drop, default_data_path, read_films,
                                                    top_neighbourhood_check, top_within_factor_by_chance)
    from lab.scenarios.p3ht_cnt.world import P3HTCNTWorld

    X, y = read_films(default_data_path())
    landscape = P3HTCNTWorld.default().landscape
    evidence = data_face_drop(X, y)
    scatter = composition_scatter(landscape, X, y)
    ratio = top_neighbourhood_check(landscape, X, y)["ratio"]
    return {"neighbourhoods_within": int(((ratio <= 1.3) & (ratio >= 1 / 1.3)).sum()),
            "neighbourhood_ratios": [round(float(r), 2) for r in ratio],"drop": evidence.drop, "max_drop": evidence.max_drop, "evidence": evidence.as_dict(),
            "perfect_world": top_within_factor_by_chance(landscape, X, y), "scatter": scatter,
            "perfect_world_scatter": top_within_factor_by_chance(landscape, X, y, composition_sd=scatter["sd"])}


def _pct(drops: dict) -> str:
    return " / ".join(f"{v:.1%}" for v in drops.values())


def _plateau(plateau: dict | None) -> str:
    if not plateau:
        return "-"
    return ", ".join(f"{c} {lo:g}-{hi:g}" for c, (lo, hi) in plateau["ranges_pct"].items()) + \
        f" % (>= {plateau['conductivity_at_least']:.0f} S/cm)"


def part_candidates(after: Path) -> None:
    rows = [(c["name"], c["kernel"], f"{c['lml']:.2f}" if c["lml"] is not None else "-", c["top10_within_1.3"],
             c["top10_ratios"], f"{c['pooled_cv_r2']:.4f}", _pct(dict(list(c["face_drop"].items())[1:])),
             f"{c['optimum']:.0f} {c['optimum_recipe']}", _plateau(c["plateau"]), f"{c['max_bump']:.2f}")
            for c in in_tree(after, "measure_world_candidates")]
    print_table("World forms for the top ten (residual GP on the composition means; targets: 10, R2 >= 0.85, "
                "drop <= 8.2 %)", rows, ("form", "fitted kernel", "GP log ML", "top 10 within x1.3", "ratios",
                                         "grouped-CV R2", "face drop s/m/d", "optimum S/cm (recipe)",
                                         "plateau >= 95 %", "largest bump at a top composition (ln, 1 % away)"))


def part_campaign(before: Path, after: Path, seeds: list[int], work: Path) -> dict[str, Path]:
    rows, summaries = [], {}
    for label, tree, strategy in (("before", before, "default"), ("after", after, "default"), ("after, random", after, "random")):
        best_last, improved, regrets_fall = [], 0, 0
        for seed in seeds:
            out = work / f"{label.replace(', ', '_')}_{seed}"
            s = campaign(tree, seed, out, strategy)
            summaries[f"{label}:{seed}"] = out
            opt = s["world_optimum"]["conductivity"]
            best = [v / opt for v in s["best_true"]["conductivity"]]
            regret = s.get("hypervolume_regret")
            improved += best[-1] > best[0] or best[0] >= 0.98
            falls = regret is not None and all(b < a for a, b in zip(regret, regret[1:]))
            regrets_fall += falls
            best_last.append(best[-1])
            rows.append((label, seed, " / ".join(f"{v:.1%}" for v in best),
                         " / ".join(f"{v:.4f}" for v in regret) if regret else
                         "hv " + " / ".join(f"{v:.4f}" for v in s["hypervolume"]), f"{opt:.1f}"))
        rows.append((f"**{label}**", "all", f"median day 3: {np.median(best_last):.1%}; improved after day 1: "
                     f"{improved}/{len(seeds)}", f"regret falls every day: {regrets_fall}/{len(seeds)}", ""))
    print_table("Campaign: lab campaign run --scenario p3ht-cnt --days 3 --batch 160 --seed S", rows,
                ("run", "seed", "best true / optimum, per day", "hypervolume regret per day (before: hypervolume)",
                 "optimum S/cm"))
    return summaries


def part_coverage(before: Path, after: Path, summaries: dict[str, Path], seeds: list[int]) -> None:
    rows = []
    for label, tree in (("before", before), ("after", after)):
        figures = [in_tree(tree, "measure_coverage", str(summaries[f"{label}:{s}"] / "history.csv")) for s in seeds]
        for kind in ("optimizer", "latent"):
            cov = [f[kind]["coverage95"] for f in figures]
            rmse = [f[kind]["rmse"] for f in figures]
            sd = [f[kind]["mean_sd"] for f in figures]
            rows.append((label, kind, " / ".join(f"{c:.0%}" for c in cov), f"{np.median(cov):.0%}",
                         f"{np.mean(rmse):.3f}", f"{np.mean(sd):.3f}"))
    print_table("Graph model after 2 days: 95 % intervals on 1500 feasible recipes (target 90-98 %)", rows,
                ("checkout", "paths", "coverage per seed", "median", "mean RMSE", "mean sd"))


def part_hypothesis(before: Path, after: Path, summaries: dict[str, Path], work: Path) -> None:
    h = pd.read_csv(summaries["after:0"] / "history.csv")
    films = h[h["status"] == "measured"].copy()
    films["recipe"] = films.groupby(COMPONENTS).ngroup()
    data = work / "films.csv"
    films.to_csv(data, index=False)
    base = ["hypothesis", "--data", str(data), "--inputs", ",".join(COMPONENTS), "--intermediates",
            "absorbance_525,absorption_ratio", "--target", "sheet_resistance", "--log", "sheet_resistance"]
    rows = []
    for label, tree, extra in (("before", before, []), ("after", after, ["--outer-folds", "0"])):
        scores = {}
        for grouping, opts in (("no --group-by", []), ("--group-by recipe", ["--group-by", "recipe"])):
            out = work / f"hyp_{label}_{len(opts)}"
            res = lab(tree, *base, *opts, *(extra if opts else []), "--out", str(out))
            if res.returncode:
                raise RuntimeError(res.stderr[-2000:])
            doc = json.loads((out / "scores.json").read_text())
            recipe_only = next(g for g in doc["graphs"] if g["parents"] == {"sheet_resistance": ["inputs"]})
            scores[grouping] = (doc["graphs"][0]["r2"], recipe_only["r2"], doc.get("nested"), doc.get("correction"))
        a, b = scores["no --group-by"], scores["--group-by recipe"]
        nested = a[2]
        rows.append((label, f"{a[0]:.3f} / {a[1]:.3f}", f"{b[0]:.3f} / {b[1]:.3f}", f"{abs(a[1] - b[1]):.3f}",
                     f"{nested['r2']:.3f} (selected on its folds: {nested['selected_r2']:.3f})" if nested else "-",
                     a[3] or "none"))
    print_table(f"lab hypothesis on campaign films ({len(films)} films, {films['recipe'].nunique()} recipes; target "
                "ln Rs)", rows, ("checkout", "best / recipe-only R2, no --group-by", "grouped", "recipe-only gap",
                                 "nested R2 (3 outer folds)", "correction"))


def part_success(before: Path, after: Path, summaries: dict[str, Path]) -> None:
    rows = []
    for label, tree in (("before", before), ("after", after)):
        f = in_tree(tree, "measure_success", str(summaries[f"{label}:0"] / "history.csv"))
        rows.append((label, f"{f['p_success_min']:.2f}-{f['p_success_max']:.2f}", f["failed"],
                     f"{f['recipes_without_thickness']} of {f['recipes']}"))
    print_table("Success model and thickness after 2 days (seed 0)", rows,
                ("checkout", "P(success) across 1500 recipes", "failed films", "recipes without a thickness"))


def measure_electrode() -> dict:
    """The shipped sweep's high rate, utilisation and capacity window (APIs every checkout has)."""
    from lab.scenarios.electrode.microstructure import MicrostructureConstants
    from lab.scenarios.electrode.p2d import P2DSettings
    from lab.scenarios.electrode.surrogate import default_dataset_path

    sweep = pd.read_csv(default_dataset_path())
    ok = sweep[sweep["status"] == "ok"]
    return {"high_c_rate": P2DSettings().high_c_rate, "specific_capacity": MicrostructureConstants().specific_capacity_mAh_g,
            "median_utilisation": float(ok["utilisation_high"].median()),
            "current_mA_cm2": [float(P2DSettings().high_c_rate * ok["nominal_capacity_mAh_cm2"].min()),
                               float(P2DSettings().high_c_rate * ok["nominal_capacity_mAh_cm2"].max())]}


def part_electrode(before: Path, after: Path, work: Path) -> None:
    rows = []
    for label, tree in (("before", before), ("after", after)):
        f = in_tree(tree, "measure_electrode")
        out = work / f"validate_{label}.json"
        res = lab(tree, "p2d", "validate", "--n", "10", "--seed", "100", "--json", str(out))
        r2 = json.loads(out.read_text())["r2"] if res.returncode == 0 else {"error": res.stderr[-200:]}
        rows.append((label, f"{f['specific_capacity']:g} mAh/g", f"{f['high_c_rate']:g}C "
                     f"({f['current_mA_cm2'][0]:.0f}-{f['current_mA_cm2'][1]:.0f} mA/cm2)",
                     f"{f['median_utilisation']:.1%}", ", ".join(f"{k} {v:.5f}" for k, v in r2.items())))
    print_table("Electrode (P2D sweep; target: median high-rate utilisation >= 30 %, surrogate r2 >= 0.98)", rows,
                ("checkout", "nominal capacity", "high rate", "median utilisation there",
                 "surrogate r2 vs live PyBaMM, 10 fresh recipes"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, default=None,
                        help="a checkout of the code before the change (e.g. `git worktree add /tmp/before 9b69a1f`); "
                             "every part but `candidates` needs it")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--parts", default="world,campaign,coverage,hypothesis,success,electrode")
    parser.add_argument("--work", type=Path, default=None, help="where campaign outputs go (default: a temp dir)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if args.before is None and parts - {"candidates"}:
        parser.error(f"--before DIR: the parts {sorted(parts - {'candidates'})} print the figure before beside after")
    work = args.work or Path(tempfile.mkdtemp(prefix="science-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"before: {args.before}; after: {HERE}; outputs in {work}")
    if "world" in parts:
        part_world(args.before, HERE)
    if "candidates" in parts:
        part_candidates(HERE)
    if "electrode" in parts:
        part_electrode(args.before, HERE, work)
    if parts & {"campaign", "coverage", "hypothesis", "success"}:
        summaries = part_campaign(args.before, HERE, args.seeds, work)
        if "coverage" in parts:
            part_coverage(args.before, HERE, summaries, args.seeds)
        if "hypothesis" in parts:
            part_hypothesis(args.before, HERE, summaries, work)
        if "success" in parts:
            part_success(args.before, HERE, summaries)


if __name__ == "__main__":
    main()

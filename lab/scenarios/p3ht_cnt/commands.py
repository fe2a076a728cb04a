"""`lab world`: calibrate the P3HT/CNT simulator world on real films and print its landscape facts.

A command group of the scenario, mounted by `lab.cli` through the registry entry's `commands`; `lab.cli` turns
the user errors the commands raise into one line on stderr and exit code 2. Imported whenever `lab` starts, so
it stays light: the world (numpy, scipy, sklearn) is imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="The P3HT/CNT simulator world: calibration and landscape facts.", no_args_is_help=True)


@app.command()
def calibrate(
    data: Path = typer.Option(None, "--data", help="CSV of real films (default: shared p3ht_cnt/raw_data.csv)."),
    out: Path = typer.Option(None, "--out", help="Where to write params.json (default: the shipped one)."),
    seed: int = typer.Option(0, "--seed", help="Seed of k-means, pseudo-points, CV shuffling, optimum search."),
    select: bool = typer.Option(False, "--select", help="Choose the face features again (grouped CV, the data's "
                                "face drop, the top films' residuals; a minute or two) before fitting."),
) -> None:
    """Fit the conductivity landscape, print the grouped-CV R2 table and write the parameters (and true front)."""
    from lab.scenarios.p3ht_cnt.calibration import calibrate_p3ht_cnt, default_data_path
    from lab.scenarios.p3ht_cnt.world import default_params_path

    console = Console()
    params, report = calibrate_p3ht_cnt(data or default_data_path(), seed=seed, select=select)
    if select:
        choice = Table(title="Face features: candidates (chosen in bold)")
        rows = params.calibration["face_selection"]
        for column in rows[0]:
            choice.add_column(column)
        for row in rows:
            choice.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()),
                           style="bold" if row["chosen"] else None)
        console.print(choice)
    path = params.save(out or default_params_path())
    table = Table(title=f"Grouped CV of ln(conductivity): {report.n_films} films, {report.n_compositions} compositions")
    table.add_column("repeat")
    table.add_column("mean per-fold R2", justify="right")
    table.add_column("pooled R2", justify="right")
    for i, (fold, pooled) in enumerate(zip(report.fold_mean_r2, report.pooled_r2)):
        table.add_row(str(i), f"{fold:.4f}", f"{pooled:.4f}")
    table.add_row("mean", f"{report.mean_fold_r2:.4f}", f"{report.mean_pooled_r2:.4f}", style="bold")
    console.print(table)
    console.print(f"in-sample R2 {report.in_sample_r2:.4f}; parameters written to {path}")


@app.command()
def info(params: Path = typer.Option(None, "--params", help="params.json (default: the shipped one).")) -> None:
    """Print the world optimum and landscape facts."""
    import numpy as np

    from lab.scenarios.p3ht_cnt.landscape import COMPONENTS
    from lab.scenarios.p3ht_cnt.world import P3HTCNTWorld

    console = Console()
    world = P3HTCNTWorld.default(params_path=params)
    recipe, sigma = world.optimum()
    x_local, sigma_local = world.landscape.local_optimum(np.array([38.0, 48.0, 0.5, 0.5, 13.0]))
    table = Table(title="P3HT/CNT world")
    table.add_column("fact")
    table.add_column("composition % (" + ", ".join(COMPONENTS) + ")")
    table.add_column("conductivity S/cm", justify="right")
    table.add_row("global optimum", ", ".join(f"{recipe[c]:.1f}" for c in COMPONENTS), f"{sigma:.0f}")
    table.add_row("local optimum (DWCNT)", ", ".join(f"{v:.1f}" for v in x_local), f"{sigma_local:.0f}")
    for l_sw in (5, 10, 20, 30, 40, 50, 60):
        x = np.array([[100.0 - l_sw, l_sw, 0, 0, 0]])
        table.add_row(f"P3HT/l-SWCNT binary {l_sw} %", ", ".join(f"{v:.0f}" for v in x[0]),
                      f"{np.exp(world.true_log_conductivity(x))[0]:.0f}")
    console.print(table)
    cal = world.landscape.params.calibration
    if cal:
        console.print(f"calibration: {cal['cv']}: mean per-fold R2 {cal['mean_fold_r2']}, pooled R2 "
                      f"{cal['mean_pooled_r2']}", highlight=False, soft_wrap=True)
    for line in world_facts(cal):
        console.print(line, highlight=False, soft_wrap=True)


def world_facts(cal: dict) -> list[str]:
    """The calibration record's checks at the top, in words: plateau, face drop against the data, top films."""
    lines = []
    plateau = cal.get("plateau")
    if plateau:
        ranges = ", ".join(f"{c} {lo:g}-{hi:g}" for c, (lo, hi) in plateau["ranges_pct"].items())
        lines.append(f"optimum plateau (>= {plateau['level']:.0%} of {plateau['optimum']:.0f} S/cm, i.e. >= "
                     f"{plateau['conductivity_at_least']:.0f}): {ranges} %")
    drop, data = cal.get("face_drop_at_optimum"), cal.get("face_drop_data")
    if drop and data:
        lines.append(f"face drop at the optimum, {data['delta_pct']:g} % of a minor CNT: "
                     + ", ".join(f"{c} {v:.1%}" for c, v in drop.items() if c != "l_swcnt")
                     + f"; the real films support {data['drop']:.1%} (at most {data['max_drop']:.1%}: slope "
                     f"{data['slope_per_pct']:.3f} ln/% , 95 % CI {data['ci95'][0]:.3f} to {data['ci95'][1]:.3f}, "
                     f"{data['compositions']} compositions / {data['films']} films with {data['neighbourhood']})")
    if "top10_within_1.3" in cal:
        lines.append(f"ten best real compositions within a factor 1.3: {cal['top10_within_1.3']} of 10 (a perfect "
                     f"world would score {cal['top10_within_1.3_perfect_world']:.1f} on average with the data's "
                     f"replicate scatter, sd {cal['within_composition_sd']:.2f} in ln)")
    return lines

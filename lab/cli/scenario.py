"""`lab scenario ...`: check a scenario file, list the built-in scenarios."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from lab.cli._errors import user_errors

app = typer.Typer(help="Material systems: scenario files and the built-in scenarios.", no_args_is_help=True)


@app.command("check")
def check(file: Path = typer.Argument(..., help="Scenario file (YAML).")) -> None:
    """Validate a scenario file, then print its route, each objective's definition and the model graph."""
    from lab.scenarios.spec import load_scenario_file

    console = Console()
    with user_errors():
        spec = load_scenario_file(file)
        world = spec.world_path() or f"builtin {spec.world.builtin}"
    console.print(f"[bold]{spec.name}[/]: {len(spec.parameters)} parameters, {len(spec.constraints)} constraints; "
                  f"world: {world}", highlight=False)
    route = Table("step", "station", "measures", "share", title="route")
    for i, step in enumerate(spec.route, start=1):
        also = "".join(f"; {q} on {share:.0%}" for q, share in step.optional.items())
        route.add_row(str(i), step.station, ", ".join(step.measures) + also, f"{step.share:g}")
    console.print(route)
    if spec.derived:
        derived = Table("quantity", "formula", title="derived quantities (in evaluation order)")
        for q in spec.derived_order:
            derived.add_row(q, spec.derived[q])
        console.print(derived)
    objectives = Table("objective", "goal", "scale", "reference", "known as", title="objectives")
    for o in spec.objectives:
        kind = spec.objective_kind(o.name)
        how = {"cost": "recipe cost: " + " + ".join(f"{p:g} x {c}" for c, p in (o.prices or {}).items()),
               "graph": "graph of GP nodes over " + ", ".join(spec.intermediates(o.name)) + f" -> {spec.derived.get(o.name, '')}",
               "measured": "measured; one GP", "gp": f"derived ({spec.derived.get(o.name, '')}); one GP"}[kind]
        objectives.add_row(o.name, o.goal, o.scale, "from the world" if o.reference is None else f"{o.reference:g}", how)
    console.print(objectives)
    edges = spec.model_graph()
    console.print("model graph: " + ("; ".join(f"{a} -> {b}" for a, b in edges) if edges else "(known objectives only)"),
                  highlight=False)


@app.command("list")
def list_scenarios() -> None:
    """The built-in scenarios, one line each."""
    from lab.scenarios import scenario_entries

    console = Console()
    for name, entry in scenario_entries().items():
        console.print(f"[bold]{name}[/]  {entry.description}", highlight=False)

"""The `lab` command: one sub-app per command group."""

from __future__ import annotations

import logging

import typer

from lab.cli import campaign

app = typer.Typer(
    name="lab",
    help="Closed-loop materials-optimization lab: simulated campaigns, proposals, hypothesis tests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(campaign.app, name="campaign")


def _register_optional() -> None:
    """Add the command groups whose modules exist (each group lives in its own module)."""
    import importlib

    for module, name in (("lab.cli.world", "world"), ("lab.cli.propose", None), ("lab.cli.hypothesis", None), ("lab.cli.p2d", "p2d"), ("lab.cli.stations", "stations"), ("lab.cli.emulate", None), ("lab.cli.bench", None), ("lab.cli.serve", None)):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue
            raise
        if name is None:
            app.command(name=module.rsplit(".", 1)[1])(mod.command)
        else:
            app.add_typer(mod.app, name=name)


_register_optional()


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details.")) -> None:
    """Closed-loop materials-optimization lab."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    """Entry point of the `lab` console script."""
    app()

"""`lab emulate`: serve a bench's emulated instruments on loopback ports until Ctrl-C / SIGTERM.

Thin command: load the bench file, build the scenario's physics (its registry entry's `bench_backend` tool), call
`lab.stations.emulated.serve_emulators`, print the URLs.
Registered by the root app as `app.command(name="emulate")(command)`.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from lab.cli._errors import user_errors
from lab.errors import ConfigError
from lab.scenarios import DEFAULT_SCENARIO, scenario_entry

if TYPE_CHECKING:
    from drivers.emulators.launcher import EmulatedBench


def command(
    config: Path = typer.Option(None, help="Bench file with emulator:// links (default: the shipped example)."),
    out: Path = typer.Option(Path("emulated-bench.yaml"), help="Where to write the bench file with socket:// URLs."),
    faults: float = typer.Option(None, help="Per-reply fault rate in [0, 1] (overrides the file's faults section)."),
    seed: int = typer.Option(0, help="Seed of the emulated films and of the injected faults (>= 0)."),
    dispense_log: Path = typer.Option(None, help="Append every pump run and droplet to this file (JSON lines)."),
    scenario: str = typer.Option(DEFAULT_SCENARIO, help="Scenario whose world the emulated films follow."),
) -> None:
    """Start the emulated instruments (threads on 127.0.0.1), write a resolved bench file, run until stopped.

    Try the drivers or `lab stations check --config OUT` against them from another shell. SIGUSR1 power-cycles
    the pumps (counters and settings lost, reset alarm raised), for power-loss soaks.
    """
    from lab.stations.emulated import serve_emulators
    from lab.stations.hardware_setup import load_hardware_setup

    console = Console()
    stop = threading.Event()
    with user_errors():
        bench_backend = scenario_entry(scenario).tool("bench_backend")
        if bench_backend is None:
            raise ConfigError(f"--scenario {scenario}: it has no emulated instruments")
        setup = load_hardware_setup(config)
        if faults is not None:
            setup = setup.with_fault_rate(faults, seed)
        backend = bench_backend(setup, seed)

        running: list[EmulatedBench] = []

        def ready(bench: EmulatedBench) -> None:
            running.append(bench)
            for name, server in bench.servers.items():
                console.print(f"{name:<13} {server.url}")
            console.print(f"wrote {out} (socket:// URLs); Ctrl-C or SIGTERM stops the emulators", highlight=False)

        def on_signal(signum: int, frame: object) -> None:
            stop.set()

        def on_power_cycle(signum: int, frame: object) -> None:
            for bench in running:
                bench.devices["mixer"].power_cycle()
                console.print("pumps power-cycled", highlight=False)

        previous = signal.signal(signal.SIGTERM, on_signal)
        previous_usr1 = signal.signal(signal.SIGUSR1, on_power_cycle)
        try:
            serve_emulators(setup, out, stop, backend, on_ready=ready, dispense_log=dispense_log)
        except KeyboardInterrupt:
            stop.set()
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGUSR1, previous_usr1)
    console.print("emulators stopped")

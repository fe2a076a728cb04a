"""The hardware stations driving emulated instruments, whatever physics (`BenchBackend`) stands behind them.

`EmulatedLab` starts the emulators of a bench file (`emulator://` links) on loopback sockets around a
`drivers.emulators.backend.BenchBackend` built by the scenario (e.g. its world), with the bench file's injected
faults, and opens the hardware stations on them: the campaign goes through the real drivers, byte for byte.
`diagnostics()` compares what the emulators injected with what the drivers detected, and counts double
dispenses from the emulators' own logs.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from pathlib import Path
from typing import Callable, Sequence


from drivers.emulators.backend import BenchBackend
from drivers.emulators.faults import FaultConfig
from drivers.emulators.launcher import EmulatedBench
from lab.seeds import generator
from lab.stations.base import StationSet
from lab.stations.hardware_lab import HardwareLab
from lab.stations.hardware_setup import FAULT_KINDS, HardwareSetup, dump_hardware_setup



class EmulatedLab:
    """Emulated instruments (threads on loopback ports) and the hardware stations opened on them.

    Args:
        setup: Bench file (links `emulator://<name>`; its `faults` section is injected).
        backend: The physics behind the emulators (seeded by its builder).
        components: The recipe's components, each dispensed from its stock (`setup.stations.stocks`).
        seed: Seeds which films are profiled.
        thickness_fraction: Share of films whose thickness is measured.
        total: What the components of a recipe sum to (100 for %, 1 for fractions).
    """

    def __init__(self, setup: HardwareSetup, backend: BenchBackend, components: Sequence[str], seed: int = 0,
                 thickness_fraction: float = 1.0, total: float = 100.0) -> None:
        self.setup = setup
        self.backend = backend
        self.emulators = EmulatedBench(setup.hardware, backend=self.backend, faults=setup.faults).start()
        thickness_rng = generator(seed, "thickness-choice")
        try:
            resolved = setup.model_copy(update={"hardware": self.emulators.config})
            self.lab = HardwareLab.open(resolved, components, thickness_fraction, thickness_rng, total=total)
        except BaseException:
            self.emulators.stop()
            raise

    def dispense_audit(self) -> dict[str, int]:
        """Compare the emulators' dispense and cast logs with what the drop caster planned.

        Returns:
            `extra_pump_runs` (runs beyond one per non-zero stock per mix), `overfilled_runs` (runs that
            delivered more than their target), `repeated_droplets` (casts matching no planned droplet), their sum
            `double_dispenses`, and the planned / logged pump runs and droplets.
        """
        bench = self.emulators.bench
        maker = self.lab.maker
        with bench.lock:
            records = list(bench.dispenses)
            casts = [xy for xy, _ in bench.casts]
        runs = Counter(r.stock for r in records)
        extra_runs = sum(max(0, n - maker.planned_runs[stock]) for stock, n in runs.items())
        overfilled = sum(1 for r in records if r.dispensed_ul > r.target_ul + 1e-6)
        waste = self.setup.stations.waste_xy_mm
        on_wafer = [xy for xy in casts if math.dist(xy, waste) > 1.0]
        repeated = _unplanned_casts(on_wafer, maker.planned_spots)
        return {"double_dispenses": extra_runs + overfilled + repeated, "extra_pump_runs": extra_runs,
                "overfilled_runs": overfilled, "repeated_droplets": repeated,
                "pump_runs_planned": sum(maker.planned_runs.values()), "pump_runs_logged": len(records),
                "droplets_planned": maker.planned_droplets, "droplets_logged": len(on_wafer),
                "purges": len(casts) - len(on_wafer)}

    def diagnostics(self) -> dict:
        """`hardware` (kind, time scale, fault rates) and `faults` (injected, detected, double dispenses...)."""
        injected = self.emulators.injected()
        detected = self.lab.detections()
        audit = self.dispense_audit()
        rates = self.setup.faults.model_dump(include=set(FAULT_KINDS) | {"seed"})
        return {
            "hardware": {"kind": "emulated", "time_scale": self.setup.hardware.time_scale, "fault_rates": rates,
                         "gantry_homings": self.lab.head.homings},
            "faults": {"injected": {k: int(injected[k]) for k in FAULT_KINDS},
                       "detected": {k: int(detected[k]) for k in FAULT_KINDS},
                       # failed contact checks on films the probe cannot contact (the world's physics): the
                       # meter reports them as alarms, so detected alarms = injected + these
                       "detected_not_injected": {"alarm": int(self.lab.electrical.failures["contact"])},
                       "double_dispenses": audit.pop("double_dispenses"),
                       "dispense_audit": audit,
                       "film_failures": self.lab.film_failures()},
        }

    def close(self) -> None:
        """Close the instruments, then stop the emulators."""
        try:
            self.lab.close()
        finally:
            self.emulators.stop()

    def station_set(self) -> StationSet:
        """The stations as a scenario uses them."""
        return StationSet(self.lab.maker, self.lab.optical, self.lab.electrical, self.diagnostics, self.close)


def _unplanned_casts(logged: list[tuple[float, float]], planned: list[tuple[float, float]]) -> int:
    """Count logged casts that match no planned droplet, aligning both sequences in order.

    A planned droplet may be missing from the log (its lowering failed); a logged cast that matches no
    later planned droplet is one too many.
    """
    extra, p = 0, 0
    for xy in logged:
        q = p
        while q < len(planned) and math.dist(planned[q], xy) > 1e-3:
            q += 1
        if q == len(planned):
            extra += 1
        else:
            p = q + 1
    return extra


def serve_emulators(setup: HardwareSetup, out: Path, stop: threading.Event, backend: BenchBackend, *,
                    on_ready: Callable[[EmulatedBench], None] | None = None,
                    dispense_log: Path | None = None) -> Path:
    """Serve the emulators of `setup` on loopback ports until `stop` is set (the engine of `lab emulate`).

    The emulated films follow `backend` (the scenario's physics). Writes `out`: the bench file with the
    emulators' `socket://` URLs, for drivers, `lab stations check` or `lab campaign run` on a real-hardware path.
    With `dispense_log`, every pump run and droplet is appended there (JSON lines; see
    `drivers.emulators.bench`), a record that survives any client of the emulators.

    Returns:
        `out`.
    """
    with EmulatedBench(setup.hardware, backend=backend, faults=setup.faults, dispense_log=dispense_log) as bench:
        resolved = setup.model_copy(update={"hardware": bench.config, "faults": FaultConfig()})
        dump_hardware_setup(resolved, out)
        if on_ready is not None:
            on_ready(bench)
        stop.wait()
    return out

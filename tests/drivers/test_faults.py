"""Fault injection end to end: every injected fault is detected by the drivers, kind by kind.

The emulated bench runs with one fault kind at a time (and all kinds together); a short campaign-like
workload drives every instrument; each operation that fails is recovered the way a station would
(acknowledge the alarm, unlock, measure again). Afterwards injected == detected for every kind, and
the emulator's dispense log shows no double dispense.
"""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from drivers.config import HardwareConfig, example_config_path, parse_hardware_config
from drivers.connect import open_gantry, open_mixer, open_probe, open_spectrometer, open_thickness
from drivers.emulators.faults import FaultConfig
from drivers.emulators.launcher import EmulatedBench
from drivers.emulators.server import PtyEmulator
from drivers.emulators.spectrometer import SpectrometerEmulator
from drivers.errors import DeviceAlarm, DriverError, PumpStalled
from drivers.framing import LineFraming
from drivers.spectrometer import AbsorbanceReader
from drivers.spectrometer_serial import SerialSpectrometer
from drivers.transport import Transport

RECIPES = [{"p3ht": 20.0, "d1": 5.0, "d2": 0.0, "d6": 1.0, "d8": 0.5}, {"p3ht": 12.0, "d2": 3.0, "d8": 2.0},
           {"p3ht": 30.0, "d1": 1.5, "d6": 4.0}]


def _config() -> HardwareConfig:
    data = yaml.safe_load(example_config_path().read_text())
    data["time_scale"] = 400.0
    for section in ("mixer", "gantry", "source_meter", "spectrometer", "thickness"):
        data[section]["link"]["timeout_s"] = 0.1  # emulators answer in milliseconds
    return parse_hardware_config(data)


def assert_no_double_dispense(bench: EmulatedBench) -> None:
    """No pump ran more often than the recipes asked for it, and no run delivered more than its target."""
    wanted: Counter[int] = Counter()
    for recipe in RECIPES:
        for pump in bench.config.mixer.pumps:
            wanted[pump.address] += recipe.get(pump.stock, 0.0) > 0
    runs = bench.bench.runs_per_address()
    assert all(runs[address] <= wanted[address] for address in runs), (runs, wanted)
    assert all(record.dispensed_ul <= record.target_ul + 1e-9 for record in bench.bench.dispenses)


def expected_detections(injected: Counter[str], failures: list[str]) -> Counter[str]:
    """Injected faults plus failed contact checks: a film left uncast (its mix or cast failed after the
    recovery attempts) has nothing under the probe, which the meter reports as an alarm nobody injected."""
    expected = Counter(injected)
    expected["alarm"] += failures.count("ContactCheckFailed")
    return +expected


def _attempt(action, recover=None, tries: int = 4):
    for _ in range(tries):
        try:
            return action()
        except DriverError as exc:
            if recover is not None:
                recover(exc)
    return None


def run_workload(bench: EmulatedBench) -> tuple[Counter[str], list[str]]:
    """Cast and measure three films with every instrument; return detections and failures seen."""
    c = bench.config
    gantry, mixer = open_gantry(c.gantry, c.time_scale), open_mixer(c.mixer, c.time_scale)
    probe, spec, gauge = open_probe(c), open_spectrometer(c.spectrometer), open_thickness(c.thickness)
    reader = AbsorbanceReader(spec, spec.set_shutter)
    failures: list[str] = []

    def unlock(exc: DriverError) -> None:
        failures.append(type(exc).__name__)
        if isinstance(exc, DeviceAlarm):
            _attempt(gantry.unlock)

    def note(exc: DriverError) -> None:
        failures.append(type(exc).__name__)

    _attempt(gantry.home, unlock)
    _attempt(mixer.configure, note)
    _attempt(lambda: gantry.move_to(*c.spectrometer.reference_xy_mm, z=c.gantry.measure_z_mm), unlock)
    _attempt(reader.take_dark, note)
    _attempt(reader.take_reference, note)
    for slot, recipe in enumerate(RECIPES):
        x, y = c.wafer.positions()[slot]
        try:
            mixer.mix(recipe)
        except PumpStalled as exc:  # part of the mix is in; a station would discard the film
            failures.append(type(exc).__name__)
        except DriverError as exc:
            failures.append(type(exc).__name__)
        for z in (c.gantry.safe_z_mm, None, c.gantry.cast_z_mm, c.gantry.measure_z_mm):
            target = {"z": z} if z is not None else {"x": x, "y": y}
            _attempt(lambda: gantry.move_to(**target), unlock)
        _attempt(reader.measure, note)
        _attempt(probe.sheet_resistance, note)
        _attempt(gauge.thickness_nm, note)
    gantry.close(), mixer.close(), probe.meter.close(), spec.close(), gauge.close()  # closing talks too
    detected: Counter[str] = Counter()
    for transport in (gantry.transport, mixer.transport, probe.meter.transport, spec.transport, gauge.transport):
        detected.update(transport.detections)
    return detected, failures


@pytest.mark.parametrize(("kind", "rate"), [("drop", 0.08), ("corrupt", 0.08), ("alarm", 0.15), ("disconnect", 0.05)])
def test_each_injected_fault_kind_is_detected(kind: str, rate: float) -> None:
    faults = FaultConfig(seed=11, **{kind: rate})
    with EmulatedBench(_config(), faults=faults) as bench:
        detected, failures = run_workload(bench)
        injected = bench.injected()
    assert injected[kind] >= 2, "the workload should see this fault kind"
    assert detected == expected_detections(injected, failures)
    assert_no_double_dispense(bench)


def test_fault_table_with_all_kinds_together(capsys: pytest.CaptureFixture[str]) -> None:
    faults = FaultConfig(seed=5, drop=0.04, corrupt=0.04, alarm=0.12, disconnect=0.03)
    with EmulatedBench(_config(), faults=faults) as bench:
        detected, failures = run_workload(bench)
        injected = bench.injected()
    with capsys.disabled():
        print("\nkind        injected  detected")
        for kind in ("drop", "corrupt", "alarm", "disconnect"):
            print(f"{kind:<11} {injected[kind]:>8}  {detected[kind]:>8}")
        print(f"operations that failed after recovery attempts: {Counter(failures)}")
    assert detected == expected_detections(injected, failures)
    assert sum(injected.values()) >= 8
    assert_no_double_dispense(bench)


def test_emulator_on_a_pseudo_terminal(bench) -> None:
    with PtyEmulator(SpectrometerEmulator(bench)) as pty:
        transport = Transport.from_url(pty.path, LineFraming(b"\n", b"\n"), baudrate=115200, timeout_s=0.5)
        with SerialSpectrometer(transport) as spec:
            assert spec.identify().startswith("EMULATED,SPEC")
            assert spec.intensities().shape == (512,)

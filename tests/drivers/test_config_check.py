"""Hardware config from YAML (errors name the field) and `identify_all` against the emulated bench."""

from __future__ import annotations

import pytest
import yaml

from drivers.check import identify_all
from drivers.config import example_config_path, load_hardware_config, parse_hardware_config
from drivers.emulators.launcher import EmulatedBench
from drivers.errors import HardwareConfigError


def example() -> dict:
    return yaml.safe_load(example_config_path().read_text())


def test_example_config_loads() -> None:
    config = load_hardware_config(example_config_path())
    assert [pump.stock for pump in config.mixer.pumps] == ["p3ht", "d1", "d2", "d6", "d8"]
    assert config.gantry.link.baudrate == 115200
    assert config.wafer.positions()[9] == (30.0, 30.0)
    assert config.probe.correction_factor == 1.0


@pytest.mark.parametrize(("edit", "match"), [
    (lambda d: d["mixer"]["pumps"][1].update(address=0), "address values must be unique"),
    (lambda d: d["mixer"]["pumps"][0]["syringe"].update(diameter_mm=-1), r"mixer.pumps.0.syringe.diameter_mm"),
    (lambda d: d["gantry"]["travel"].update(x_mm=[10, 5]), "x_mm"),
    (lambda d: d["wafer"].update(columns=30), "outside the gantry travel"),
    (lambda d: d["source_meter"]["limits"].update(max_current_a=5), "max_current_a"),
    (lambda d: d.update(pumps=[]), "pumps"),
])
def test_bad_config_names_the_field(edit, match) -> None:
    data = example()
    edit(data)
    with pytest.raises(HardwareConfigError, match=match):
        parse_hardware_config(data)


def test_missing_file_is_a_config_error(tmp_path) -> None:
    with pytest.raises(HardwareConfigError, match="cannot read"):
        load_hardware_config(tmp_path / "nope.yaml")


def test_identify_all_on_the_emulated_bench() -> None:
    config = load_hardware_config(example_config_path())
    with EmulatedBench(config) as bench:
        results = identify_all(bench.config)
    assert [r.instrument for r in results] == ["mixer", "gantry", "source_meter", "spectrometer", "thickness"]
    assert all(r.status.startswith("ok") for r in results), results
    assert "p3ht@00: NE1000V3.928" in results[0].ident
    assert results[1].status.startswith("ok (alarm lock")  # gantry waits to be homed
    assert results[2].ident.startswith("KEITHLEY INSTRUMENTS INC.,MODEL 2400")


def test_identify_all_reports_unreachable_instruments_without_raising() -> None:
    data = example()
    data["thickness"] = {"kind": "manual"}
    data["spectrometer"]["link"]["url"] = "socket://127.0.0.1:1"  # nothing listens there
    results = {r.instrument: r for r in identify_all(parse_hardware_config(data))}
    assert results["mixer"].status.startswith("error: HardwareConfigError")  # emulator:// not started
    assert results["spectrometer"].status.startswith("error: Disconnected")
    assert results["thickness"] == ("thickness", "manual thickness entry", "ok")

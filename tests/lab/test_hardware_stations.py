"""Hardware stations on emulated instruments backed by the P3HT/CNT world; bench files; `lab stations check`
and `lab emulate` (its library function in a thread)."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from drivers.config import example_config_path
from drivers.emulators.faults import FaultConfig
from drivers.four_point_probe import PI_OVER_LN2
from drivers.spectrometer import AbsorbanceSpectrum
from lab.cli import app
from lab.errors import ConfigError
from lab.records import FilmKey
from lab.scenarios.p3ht_cnt.backend import P3HTCNTBackend, band_absorbance
from lab.scenarios.p3ht_cnt.bench_stations import bench_backend, emulated_lab
from lab.scenarios.p3ht_cnt.world import COMPONENTS, P3HTCNTWorld, P3HTCNTWorldConfig
from lab.stations.base import ConductivityStation, DropCastingStation, OpticalStation
from lab.stations.emulated import serve_emulators
from lab.stations.hardware_setup import load_hardware_setup, parse_hardware_setup

RECIPE = {"p3ht": 55.0, "l_swcnt": 30.0, "s_swcnt": 5.0, "mwcnt": 6.0, "dwcnt": 4.0}
runner = CliRunner()


def bench_data(**faults: float) -> dict:
    """The shipped example with reply timeouts that tolerate a loaded test machine, and optional faults."""
    data = yaml.safe_load(example_config_path().read_text())
    for section in ("mixer", "gantry", "source_meter", "spectrometer", "thickness"):
        data[section]["link"]["timeout_s"] = 0.6
    if faults:
        data["faults"] = faults
    return data


@pytest.fixture(scope="module")
def reliable_world() -> P3HTCNTWorld:
    """The shipped world without random step failures (so film counts are exact)."""
    return P3HTCNTWorld.default(config=P3HTCNTWorldConfig(failure_rate=0.0))


def keys(sample: int, n: int, wafer: int = 1) -> list[FilmKey]:
    return [FilmKey(1, wafer, sample, letter) for letter in "abcdef"[:n]]


def test_bench_file_sections_are_validated_with_the_field_named() -> None:
    setup = load_hardware_setup()
    assert setup.stations.stocks["l_swcnt"] == "d1" and setup.hardware.time_scale == 1000.0
    data = bench_data()
    data["stations"] = {"stocks": {**setup.stations.stocks, "mwcnt": "d7"}}
    with pytest.raises(ConfigError, match=r"stations.stocks: stock\(s\) \['d7'\] have no pump"):
        parse_hardware_setup(data)
    data["stations"] = {"waste_xy_mm": [500, 20]}
    with pytest.raises(ConfigError, match="waste_xy_mm"):
        parse_hardware_setup(data)
    with pytest.raises(ConfigError, match="faults: rate must be in"):
        setup.with_fault_rate(1.5)
    assert setup.with_fault_rate(0.08, seed=3).faults == FaultConfig(seed=3, drop=0.02, corrupt=0.02, alarm=0.02,
                                                                      disconnect=0.02)


def test_backend_spectrum_and_voltage_follow_the_world(reliable_world) -> None:
    wavelengths = np.linspace(350.0, 1000.0, 512)
    spectrum = AbsorbanceSpectrum(wavelengths, band_absorbance(wavelengths, 0.42, 1.13))
    assert spectrum.features() == pytest.approx({"absorbance_525": 0.42, "absorption_ratio": 1.13}, rel=1e-9)
    backend = P3HTCNTBackend(reliable_world, load_hardware_setup().stations.stocks, seed=1)
    backend.deposit((30.0, 40.0), {"p3ht": 55.0, "d1": 30.0, "d2": 5.0, "d6": 6.0, "d8": 4.0})
    film = backend.film_at((30.2, 40.0)).film
    assert film.composition == pytest.approx([RECIPE[c] for c in COMPONENTS])
    rs = 1e7 / (film.conductivity_s_cm * film.thickness_nm)
    v_plus, v_minus = backend.iv_at((30.0, 40.0), 1e-5), backend.iv_at((30.0, 40.0), -1e-5)
    assert v_plus == -v_minus  # one contact, current reversed
    assert PI_OVER_LN2 * v_plus / 1e-5 == pytest.approx(rs, rel=0.1)  # world probe noise is 2 %
    assert backend.iv_at((80.0, 80.0), 1e-5) is None and backend.thickness_at((80.0, 80.0)) == 0.0


def test_stations_cast_and_measure_through_the_drivers(reliable_world) -> None:
    lab = emulated_lab(parse_hardware_setup(bench_data()), reliable_world, COMPONENTS, seed=2, thickness_fraction=1.0)
    try:
        stations = lab.station_set()
        assert isinstance(stations.maker, DropCastingStation) and isinstance(stations.optical, OpticalStation)
        assert isinstance(stations.electrical, ConductivityStation)
        films = keys(1, 3)
        cast = stations.maker.cast(RECIPE, films)
        assert [c.ok for c in cast] == [True, True, True]
        assert sum(cast[0].volumes_ul.values()) == pytest.approx(100.0, abs=0.01)
        assert cast[0].volumes_ul["l_swcnt"] == pytest.approx(30.0, abs=0.01)
        truth = reliable_world.true_properties(np.array([[RECIPE[c] for c in COMPONENTS]])).iloc[0]
        for film in films:
            optical, electrical = stations.optical.measure(film), stations.electrical.measure(film)
            assert optical.ok and electrical.ok, (optical.failure, electrical.failure)
            assert optical.values["absorption_ratio"] == pytest.approx(truth["absorption_ratio"], rel=0.08)
            assert optical.values["absorbance_525"] == pytest.approx(truth["absorbance_525"], rel=0.75)  # 3 sd of the world's spot-to-spot scatter
            assert electrical.values["sheet_resistance"] == pytest.approx(truth["sheet_resistance"], rel=0.5)
            v = electrical.values
            assert v["conductivity"] == pytest.approx(1e7 / (v["sheet_resistance"] * v["thickness"]))
        assert stations.maker.cast(RECIPE, films[:1])[0].failure.startswith("already cast")
        faults = stations.diagnostics()["faults"]
        assert faults["double_dispenses"] == 0
        assert faults["dispense_audit"]["pump_runs_logged"] == 5 and faults["dispense_audit"]["droplets_logged"] == 3
    finally:
        stations.close()
    assert not lab.emulators.servers


def test_a_stalled_pump_fails_the_recipe_purges_and_never_re_dispenses(reliable_world) -> None:
    data = bench_data(alarm=1.0, only_requests=["RUN"], max_per_kind=1, seed=0)  # the first pump run stalls
    lab = emulated_lab(parse_hardware_setup(data), reliable_world, COMPONENTS, seed=0)
    try:
        failed = lab.lab.maker.cast(RECIPE, keys(1, 2))
        assert all(not c.ok and c.failure.startswith("mix failed, not re-dispensed: PumpStalled") for c in failed)
        other = {"p3ht": 80.0, "l_swcnt": 0.0, "s_swcnt": 10.0, "mwcnt": 10.0, "dwcnt": 0.0}
        cast = lab.lab.maker.cast(other, keys(2, 2))
        assert all(c.ok for c in cast)
        film = lab.backend.film_at(lab.lab.wafer_map.position(cast[0].film)).film
        assert film.composition == pytest.approx([other[c] for c in COMPONENTS], abs=1e-6)  # purged: no carry-over
        diagnostics = lab.diagnostics()["faults"]
        assert diagnostics["injected"]["alarm"] == 1 and diagnostics["detected"]["alarm"] == 1
        assert diagnostics["detected"]["disconnect"] == 0  # the purged partial mix (100 % p3ht) left no film
        assert lab.backend.film_at(lab.setup.stations.waste_xy_mm).film is None
        assert diagnostics["double_dispenses"] == 0 and diagnostics["dispense_audit"]["purges"] == 1
        assert diagnostics["dispense_audit"]["pump_runs_logged"] == 1 + 3  # the stalled run, then the next mix
    finally:
        lab.close()


def test_a_gantry_alarm_while_lowering_is_recovered_and_casts_once(reliable_world) -> None:
    data = bench_data(alarm=1.0, only_requests=["Z1.000"], max_per_kind=2, seed=0)  # two lowerings alarm
    lab = emulated_lab(parse_hardware_setup(data), reliable_world, COMPONENTS, seed=0)
    try:
        cast = lab.lab.maker.cast(RECIPE, keys(1, 3))
        assert all(c.ok for c in cast)
        audit = lab.dispense_audit()
        assert audit["droplets_logged"] == 3 and audit["double_dispenses"] == 0
        assert lab.lab.head.homings >= 1 + 2  # power-on homing, then one per alarm
        assert lab.diagnostics()["faults"]["detected"]["alarm"] == 2
    finally:
        lab.close()


def test_stations_check_against_the_emulators() -> None:
    result = runner.invoke(app, ["stations", "check", "--emulate"])
    assert result.exit_code == 0, result.output
    for name in ("mixer", "gantry", "source_meter", "spectrometer", "thickness"):
        assert name in result.output
    assert "NE1000V3.928" in result.output and "KEITHLEY" in result.output


def test_emulate_serves_until_stopped_and_check_reads_its_bench_file(tmp_path, reliable_world) -> None:
    out = tmp_path / "bench.yaml"
    stop, ready = threading.Event(), threading.Event()
    setup = load_hardware_setup()
    server = threading.Thread(target=serve_emulators, args=(setup, out, stop, bench_backend(setup, 0, reliable_world)),
                              kwargs={"on_ready": lambda bench: ready.set()}, daemon=True)
    server.start()
    try:
        assert ready.wait(30.0)
        resolved = load_hardware_setup(out)
        assert resolved.hardware.gantry.link.url.startswith("socket://127.0.0.1:")
        result = runner.invoke(app, ["stations", "check", "--config", str(out)])
        assert result.exit_code == 0, result.output
    finally:
        stop.set()
        server.join(10.0)
    assert not server.is_alive()
    result = runner.invoke(app, ["stations", "check", "--config", str(out)])
    assert result.exit_code == 1 and "Disconnected" in result.output  # the emulators are gone
    assert math.isfinite(resolved.hardware.time_scale)


def test_a_power_cycled_pump_means_unknown_never_a_second_dispense(reliable_world) -> None:
    """Audit finding 5: after a pump reset, zeroed counters must not read as "nothing infused -> cast now"."""
    lab = emulated_lab(parse_hardware_setup(bench_data()), reliable_world, COMPONENTS, seed=3, thickness_fraction=1.0)
    try:
        maker, bench = lab.lab.maker, lab.emulators.bench
        films = keys(1, 3)
        journal = maker.prepare_cast(RECIPE, films)
        lab.emulators.devices["mixer"].power_cycle()  # the mains dropped during the (lost) cast
        with bench.lock:
            runs_before = len(bench.dispenses)
        results = maker.resolve_interrupted(RECIPE, films, journal)
        with bench.lock:
            runs_after = len(bench.dispenses)
        assert runs_after == runs_before  # nothing dispensed again
        assert all(not r.ok for r in results)
        assert all("were reset (power cycle)" in r.failure and "not re-dispensed" in r.failure for r in results)
        # the next recipe is cast normally on fresh positions (the reset pumps were configured again)
        nxt = maker.cast(RECIPE, keys(2, 2))
        assert all(r.ok for r in nxt)
    finally:
        lab.close()

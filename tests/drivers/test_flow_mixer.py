"""Flow mixer driver <-> pump-line emulator over real loopback sockets."""

from __future__ import annotations

import time

import pytest

from conftest import TIME_SCALE

from drivers.emulators.bench import Bench
from drivers.emulators.faults import FaultConfig
from drivers.emulators.pump_line import PumpLineEmulator
from drivers.errors import DeviceAlarm, InterlockError, PumpStalled
from drivers.flow_mixer import FlowMixer
from drivers.framing import SafeModeFraming, StxEtxFraming
from drivers.ne1000 import NE1000, SyringeSpec
from drivers.transport import Transport

STOCKS = {0: "p3ht", 1: "d1", 2: "d2", 3: "d6", 4: "d8"}
SYRINGE = SyringeSpec(diameter_mm=4.78, capacity_ul=1000.0)


#: A slower emulated clock for the safe-mode tests: their heartbeat must beat within real milliseconds.
SAFE_MODE_TIME_SCALE = 10.0


def open_mixer(url: str, safe: bool = False, safe_timeout_s: int | None = None, time_scale: float = TIME_SCALE) -> FlowMixer:
    transport = Transport.from_url(url, SafeModeFraming() if safe else StxEtxFraming(), timeout_s=0.15)
    pumps = {name: NE1000(transport, address, SYRINGE, time_scale=time_scale) for address, name in STOCKS.items()}
    return FlowMixer(transport, pumps, rate_ul_min=600.0, safe_mode_timeout_s=safe_timeout_s)


def test_mix_dispenses_each_nonzero_volume_once_and_verifies(bench, serve) -> None:
    server, _ = serve(lambda f: PumpLineEmulator(bench, STOCKS, f))
    with open_mixer(server.url) as mixer:
        mixer.configure()
        delivered = mixer.mix({"p3ht": 40.0, "d1": 7.5, "d2": 0.0, "d6": 2.25, "d8": 0.05})
    assert delivered == pytest.approx({"p3ht": 40.0, "d1": 7.5, "d6": 2.25, "d8": 0.05})
    assert bench.runs_per_address() == {0: 1, 1: 1, 3: 1, 4: 1}
    assert bench.mixture_ul == pytest.approx(delivered)


def test_bad_recipe_is_refused_before_any_byte(bench, serve) -> None:
    server, _ = serve(lambda f: PumpLineEmulator(bench, STOCKS, f))
    with open_mixer(server.url) as mixer:
        sent = len(mixer.transport.traffic)
        with pytest.raises(InterlockError, match="unknown stock"):
            mixer.mix({"p3ht": 10.0, "water": 5.0})
        with pytest.raises(InterlockError, match="syringe capacity"):
            mixer.mix({"p3ht": 10.0, "d1": 2000.0})
        with pytest.raises(InterlockError, match="minimum dispensable"):
            mixer.mix({"p3ht": 10.0, "d1": 0.01})
        assert len(mixer.transport.traffic) == sent
    assert bench.dispenses == []


@pytest.mark.parametrize("kind", ["drop", "corrupt", "disconnect"])
def test_lost_run_reply_never_doubles_a_dispense(bench, serve, kind) -> None:
    faults = FaultConfig(**{kind: 1.0}, only_requests=["RUN"], max_per_kind=1)
    server, injector = serve(lambda f: PumpLineEmulator(bench, STOCKS, f), faults)
    with open_mixer(server.url) as mixer:
        delivered = mixer.mix({"p3ht": 30.0})
        assert mixer.transport.detections[kind] == 1
    assert injector.injected[kind] == 1
    assert delivered == {"p3ht": pytest.approx(30.0)}
    assert bench.runs_per_address() == {0: 1}
    assert bench.dispenses[0].dispensed_ul == pytest.approx(30.0)


def test_stall_raises_typed_error_with_partial_volume(bench, serve) -> None:
    server, _ = serve(lambda f: PumpLineEmulator(bench, STOCKS, f), FaultConfig(alarm=1.0, max_per_kind=1))
    with open_mixer(server.url) as mixer:
        with pytest.raises(PumpStalled, match="delivered 10 of 20"):
            mixer.mix({"d1": 20.0})
        assert mixer.mix({"d1": 5.0}) == {"d1": pytest.approx(5.0)}  # alarm acknowledged, pump usable
    assert [r.alarm for r in bench.dispenses] == ["S", None]


def test_safe_mode_heartbeat_keeps_a_long_dispense_alive(serve) -> None:
    bench = Bench(time_scale=SAFE_MODE_TIME_SCALE)
    server, _ = serve(lambda f: PumpLineEmulator(bench, STOCKS, f))
    with open_mixer(server.url, safe=True, safe_timeout_s=2, time_scale=SAFE_MODE_TIME_SCALE) as mixer:
        mixer.configure()
        pump = mixer.pumps["p3ht"]
        pump.set_volume(600.0)  # 60 s of device time at 600 uL/min
        pump.set_rate(600.0)
        pump.run()
        time.sleep(10.0 / SAFE_MODE_TIME_SCALE)  # 10 s of device time: 5x the safe-mode timeout
        assert pump.status().status == "I"
        assert pump.heartbeat is not None and pump.heartbeat.beats >= 3
        mixer.close()
    assert bench.dispenses[0].alarm is None


def test_safe_mode_without_heartbeat_times_out(serve) -> None:
    bench = Bench(time_scale=SAFE_MODE_TIME_SCALE)
    server, _ = serve(lambda f: PumpLineEmulator(bench, STOCKS, f))
    mixer = open_mixer(server.url, safe=True, time_scale=SAFE_MODE_TIME_SCALE)
    pump = mixer.pumps["d2"]
    pump.set_safe_mode(1)
    pump.set_volume(100.0)
    pump.set_rate(600.0)
    pump.run()
    time.sleep(3.0 / SAFE_MODE_TIME_SCALE * 2)
    with pytest.raises(DeviceAlarm, match="A\\?T"):
        pump.status()
    pump.stop()
    mixer.transport.close()
    assert bench.dispenses[0].alarm == "T" and bench.dispenses[0].dispensed_ul < 100.0

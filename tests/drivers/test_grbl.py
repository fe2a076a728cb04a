"""Grbl gantry: exact conversations, soft limits before sending, emulator motion, holds, safe close."""

from __future__ import annotations

import time

import pytest

from conftest import TIME_SCALE
from driver_protocol import FakeSerial, expected_protocol
from drivers.emulators.faults import FaultConfig
from drivers.emulators.grbl import GrblEmulator
from drivers.errors import CommandRejected, DeviceAlarm, InterlockError
from drivers.framing import LineFraming
from drivers.grbl import GrblGantry, GrblSettings, TravelLimits
from drivers.transport import Transport

FRAMING = LineFraming(b"\n", b"\r\n")
FAST = GrblSettings(poll_interval_s=0.2)


def gantry(transport: Transport) -> GrblGantry:
    return GrblGantry(transport, TravelLimits(), FAST, time_scale=1000.0)


def test_move_conversation_polls_until_idle_at_target() -> None:
    pairs = [
        (b"?", b"<Idle|MPos:0.000,0.000,50.000|FS:0,0>\r\n"),
        (b"G0 X10.000 Y20.500\n", b"ok\r\n"),
        (b"?", b"<Run|MPos:5.000,10.250,50.000|FS:3000,0>\r\n"),
        (b"?", b"<Idle|MPos:10.000,20.500,50.000|FS:0,0>\r\n"),
    ]
    with expected_protocol(gantry, pairs, FRAMING) as g:
        assert g.move_to(x=10.0, y=20.5).mpos_mm == (10.0, 20.5, 50.0)


def test_feed_move_dwell_and_errors() -> None:
    pairs = [
        (b"G90\n", b"ok\r\n"), (b"G21\n", b"ok\r\n"),
        (b"?", b"<Idle|MPos:0.000,0.000,50.000|FS:0,0>\r\n"),
        (b"G1 Z5.000 F300.0\n", b"ok\r\n"), (b"?", b"<Idle|MPos:0.000,0.000,5.000|FS:0,0>\r\n"),
        (b"G4 P0.500\n", b"ok\r\n"), (b"?", b"<Idle|MPos:0.000,0.000,5.000|FS:0,0>\r\n"),
        (b"$X\n", b"[MSG:Caution: Unlocked]\r\nok\r\n"),
        (b"G90\n", b"error:9\r\n"),
    ]
    with expected_protocol(gantry, pairs, FRAMING) as g:
        g.setup()
        g.move_to(z=5.0, feed_mm_min=300.0)
        g.dwell(0.5)
        g.unlock()
        with pytest.raises(CommandRejected, match="error:9"):
            g.setup()


@pytest.mark.parametrize("target", [{"x": -0.1}, {"y": 200.5}, {"z": 51.0}, {"x": 10.0, "z": -3.0}])
def test_soft_limits_refuse_before_sending(target) -> None:
    port = FakeSerial([])
    g = gantry(Transport(port, FRAMING, timeout_s=0.05))  # type: ignore[arg-type]
    with pytest.raises(InterlockError, match="outside the travel"):
        g.move_to(**target)
    assert port.written == []


def open_gantry(url: str) -> GrblGantry:
    return GrblGantry(Transport.from_url(url, FRAMING, timeout_s=0.15), TravelLimits(), FAST, time_scale=TIME_SCALE)


def test_emulated_gantry_homes_moves_and_casts(bench, serve) -> None:
    server, _ = serve(lambda f: GrblEmulator(bench, f))
    bench.add_to_mixture("p3ht", 12.0)
    with open_gantry(server.url) as g:
        assert g.identify().startswith("Grbl 1.1h")
        with pytest.raises(CommandRejected, match="error:9"):  # locked until homed
            g.setup()
        assert g.home().state == "Idle"
        g.setup()
        g.move_to(x=30.0, y=40.0)
        g.move_to(z=1.0)  # down to the cast height: one droplet
        g.move_to(z=20.0)
        assert g.status().mpos_mm == (30.0, 40.0, 20.0)
    assert bench.casts == [((30.0, 40.0), {"p3ht": 12.0})]
    assert bench.backend.film_at((30.0, 40.0)) is not None


def test_feed_hold_resume_and_close_leave_machine_stopped(bench, serve) -> None:
    server, _ = serve(lambda f: GrblEmulator(bench, f, homing_required=False, max_rate_mm_min=600.0))
    g = open_gantry(server.url)
    g.start_move(x=150.0)  # 15 s of device time
    time.sleep(1.0 / TIME_SCALE)
    g.feed_hold()
    held = g.status()
    time.sleep(2.0 / TIME_SCALE)
    assert held.state == "Hold:0" and g.status().mpos_mm == held.mpos_mm
    g.resume()
    assert g.status().state == "Run"
    g.close()  # feed hold + soft reset: queued motion flushed
    emulator = server.device
    time.sleep(2.0 / TIME_SCALE)
    emulator.receive(b"?")
    assert emulator.state == "Idle" and not emulator.segments and emulator.position[0] < 150.0


def test_dropped_ok_on_a_move_is_not_resent(bench, serve) -> None:
    faults = FaultConfig(drop=1.0, only_requests=["G0"], max_per_kind=1)
    server, injector = serve(lambda f: GrblEmulator(bench, f, homing_required=False), faults)
    with open_gantry(server.url) as g:
        assert g.move_to(x=50.0).mpos_mm[0] == 50.0
        assert g.transport.detections["drop"] == 1
    assert injector.injected["drop"] == 1
    assert [line for line in server.device.lines_received if line.startswith("G0")] == ["G0X50.000"]


def test_injected_alarm_locks_the_machine(bench, serve) -> None:
    server, _ = serve(lambda f: GrblEmulator(bench, f, homing_required=False), FaultConfig(alarm=1.0, max_per_kind=1))
    with open_gantry(server.url) as g:
        with pytest.raises(DeviceAlarm, match="ALARM:1"):
            g.move_to(y=10.0)
        assert g.status().state == "Alarm"
        g.unlock()
        assert g.move_to(y=10.0).mpos_mm[1] == 10.0

"""Declarative properties: refused values send nothing, any parser failure is one counted CorruptReply."""

from __future__ import annotations

import pytest

from driver_protocol import FakeSerial, expected_protocol
from drivers.errors import CorruptReply, InterlockError
from drivers.framing import LineFraming, StxEtxFraming
from drivers.keithley2400 import Keithley2400, SourceMeterLimits
from drivers.ne1000 import NE1000, SyringeSpec
from drivers.properties import Control, Measurement, Setting, in_range, one_of
from drivers.spectrometer_serial import SerialSpectrometer
from drivers.transport import Transport

LINES = LineFraming(b"\n", b"\n")


class Heater:
    """A toy driver: a limit read from the instance, a setting, a control and a measurement."""

    setpoint_c = Setting("SET {}", "Set the setpoint [C].",
                         validator=in_range(lambda h: (0.0, h.max_c), "setpoint_c", "C"),
                         encode="{:.1f}".format, sent=float)
    mode = Control("MODE?", "MODE {}", str, "Control the mode.", validator=one_of("AUTO", "MAN"))
    temperature_c = Measurement("TEMP?", lambda text: 1.0 / float(text), "Measure 1/reply (0 -> ZeroDivisionError).")

    def __init__(self, transport: Transport, max_c: float) -> None:
        self.transport = transport
        self.max_c = max_c

    def write(self, command: str) -> None:
        self.transport.write(command.encode())

    def ask(self, command: str) -> str:
        return self.transport.query(command.encode()).decode()


def test_setting_validates_against_instance_limits_and_remembers_what_was_sent() -> None:
    with expected_protocol(lambda t: Heater(t, 80.0), [(b"SET 42.1\n", None)], LINES) as heater:
        heater.setpoint_c = 42.06
        assert heater.setpoint_c == 42.1  # the value the instrument was given
        for refused in (80.5, -1.0, float("nan")):
            with pytest.raises(InterlockError, match="setpoint_c"):
                heater.setpoint_c = refused
        assert heater.setpoint_c == 42.1


def test_control_reads_back_and_refuses_unknown_choices() -> None:
    with expected_protocol(lambda t: Heater(t, 80.0), [(b"MODE AUTO\n", None), (b"MODE?\n", b"AUTO\n")], LINES) as h:
        h.mode = "AUTO"
        assert h.mode == "AUTO"
        with pytest.raises(InterlockError, match="not one of"):
            h.mode = "TURBO"


def test_measurement_turns_any_parser_failure_into_a_counted_corrupt_reply() -> None:
    with expected_protocol(lambda t: Heater(t, 80.0), [(b"TEMP?\n", b"0\n"), (b"TEMP?\n", b"x\n")], LINES) as h:
        for _ in range(2):
            with pytest.raises(CorruptReply, match="temperature_c"):
                h.temperature_c
        assert h.transport.detections == {"corrupt": 2}
        with pytest.raises(AttributeError):
            h.temperature_c = 3.0


@pytest.mark.parametrize(("build", "framing", "call", "match"), [
    (lambda t: NE1000(t, 1, SyringeSpec(diameter_mm=4.78, capacity_ul=1000.0)), StxEtxFraming(),
     lambda p: p.set_direction("SIDEWAYS"), "not one of"),
    (lambda t: NE1000(t, 1, SyringeSpec(diameter_mm=4.78, capacity_ul=1000.0)), StxEtxFraming(),
     lambda p: p.set_safe_mode(300), "timeout_s"),
    (lambda t: Keithley2400(t, SourceMeterLimits(max_current_a=1e-3)), LINES,
     lambda m: m.set_current(2e-3), "current_a"),
    (SerialSpectrometer, LINES, lambda s: s.set_integration_time_us(20_000_000), "integration_time_us"),
])
def test_driver_settings_refuse_before_any_byte(build, framing, call, match) -> None:
    port = FakeSerial([])
    driver = build(Transport(port, framing, timeout_s=0.05))  # type: ignore[arg-type]
    with pytest.raises(InterlockError, match=match):
        call(driver)
    assert port.written == []


def test_spectrometer_setting_answered_with_anything_but_ok_is_corrupt() -> None:
    with expected_protocol(SerialSpectrometer, [(b"SHUT OPEN\n", b"4095\n"), (b"INT?\n", b"0\n")], LINES,
                           retries=0) as spectrometer:
        with pytest.raises(CorruptReply, match="SHUT OPEN"):
            spectrometer.set_shutter(True)
        with pytest.raises(CorruptReply, match="INT"):
            spectrometer.integration_time_us

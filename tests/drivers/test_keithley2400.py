"""Keithley 2400 and the 4-point probe: conversations, output off on every error, interlocks, emulator."""

from __future__ import annotations

import math

import pytest

from driver_protocol import FakeSerial, expected_protocol
from drivers.emulators.backend import FilmProperties, SimpleBackend
from drivers.emulators.faults import FaultConfig
from drivers.emulators.keithley2400 import Keithley2400Emulator
from drivers.errors import ContactCheckFailed, InCompliance, InterlockError, Overflow
from drivers.four_point_probe import FourPointProbe, ProbeSettings, probe_voltage_v, sheet_resistance_ohm_sq
from drivers.framing import LineFraming
from drivers.keithley2400 import Keithley2400, SourceMeterLimits
from drivers.transport import Transport

FRAMING = LineFraming(b"\n", b"\n")
CONFIGURE = [(b":OUTP OFF\n", None), (b":SYST:RSEN ON\n", None), (b":SYST:CCH ON\n", None),
             (b":SOUR:FUNC CURR\n", None), (b":SOUR:CURR 1.000000E-04\n", None), (b":SENS:FUNC 'VOLT'\n", None),
             (b":SENS:VOLT:PROT 10\n", None), (b":FORM:ELEM VOLT,CURR\n", None),
             (b":SYST:ERR?\n", b'0,"No error"\n')]


def meter(transport: Transport) -> Keithley2400:
    return Keithley2400(transport, SourceMeterLimits(max_current_a=1e-2, max_compliance_v=21.0))


def test_measure_conversation_switches_output_off() -> None:
    pairs = CONFIGURE + [(b":OUTP ON\n", None), (b":READ?\n", b"+1.234000E-01,+1.000000E-04\n"),
                         (b":OUTP OFF\n", None)]
    with expected_protocol(meter, pairs, FRAMING) as m:
        assert m.measure(1e-4, 10.0) == (0.1234, 1e-4)


def test_overflow_is_typed_and_output_goes_off() -> None:
    pairs = CONFIGURE + [(b":OUTP ON\n", None), (b":READ?\n", b"+9.910000E+37,+1.000000E-04\n"),
                         (b":SYST:ERR?\n", b'0,"No error"\n'), (b":OUTP OFF\n", None), (b":OUTP OFF\n", None)]
    with expected_protocol(meter, pairs, FRAMING) as m:
        with pytest.raises(Overflow):
            m.measure(1e-4, 10.0)
        assert m.transport.detections == {"alarm": 1}


def test_failed_contact_check_is_reported_from_the_error_queue() -> None:
    pairs = CONFIGURE + [(b":OUTP ON\n", None), (b":READ?\n", b"+9.910000E+37,+1.000000E-04\n"),
                         (b":SYST:ERR?\n", b'850,"Contact check failed"\n'), (b":SYST:ERR?\n", b'0,"No error"\n'),
                         (b":OUTP OFF\n", None), (b":OUTP OFF\n", None)]
    with expected_protocol(meter, pairs, FRAMING) as m:
        with pytest.raises(ContactCheckFailed):
            m.measure(1e-4, 10.0)


def test_close_and_exit_switch_output_off() -> None:
    with expected_protocol(meter, [(b":OUTP ON\n", None), (b":OUTP OFF\n", None)], FRAMING) as m:
        with m:
            m.output_on()
    assert m.transport.port.closed


@pytest.mark.parametrize(("current", "compliance", "match"), [
    (0.02, 10.0, "current_a"), (-0.02, 10.0, "current_a"), (1e-4, 25.0, "compliance_v"), (1e-4, 0.0, "compliance_v")])
def test_interlocks_refuse_before_any_byte(current, compliance, match) -> None:
    port = FakeSerial([])
    m = meter(Transport(port, FRAMING, timeout_s=0.05))  # type: ignore[arg-type]
    with pytest.raises(InterlockError, match=match):
        m.measure(current, compliance)
    assert port.written == []


def test_sheet_resistance_formula() -> None:
    assert sheet_resistance_ohm_sq(1.0, 1.0) == pytest.approx(4.5324, rel=1e-4)  # pi / ln 2
    assert sheet_resistance_ohm_sq(0.01, 1e-4, correction=0.9) == pytest.approx(100 * math.pi / math.log(2) * 0.9)
    assert sheet_resistance_ohm_sq(probe_voltage_v(250.0, 1e-5, 0.8), 1e-5, 0.8) == pytest.approx(250.0)


def open_probe(url: str, **settings) -> FourPointProbe:
    return FourPointProbe(meter(Transport.from_url(url, FRAMING, timeout_s=0.15)), ProbeSettings(**settings))


def test_emulated_probe_reads_the_film_under_the_head(bench, serve) -> None:
    bench.backend = SimpleBackend(lambda v: FilmProperties(sheet_resistance_ohm_sq=4321.0))
    bench.backend.deposit((30.0, 30.0), {"p3ht": 1.0})
    server, _ = serve(lambda f: Keithley2400Emulator(bench, f))
    probe = open_probe(server.url, current_a=1e-4, compliance_v=20.0)
    bench.move_head(30.0, 30.0, 2.0)
    assert probe.sheet_resistance() == pytest.approx(4321.0, rel=1e-5)
    bench.move_head(100.0, 100.0, 2.0)  # bare substrate
    with pytest.raises(ContactCheckFailed):
        probe.sheet_resistance()
    assert _eventually(lambda: server.device.output is False)
    probe.meter.close()


def test_compliance_and_injected_overflow_leave_output_off(bench, serve) -> None:
    bench.backend = SimpleBackend(lambda v: FilmProperties(sheet_resistance_ohm_sq=1e7))
    bench.backend.deposit((30.0, 30.0), {"p3ht": 1.0})
    bench.move_head(30.0, 30.0, 2.0)
    server, injector = serve(lambda f: Keithley2400Emulator(bench, f), FaultConfig(alarm=1.0, max_per_kind=1))
    probe = open_probe(server.url, current_a=1e-3, compliance_v=5.0)
    with pytest.raises(Overflow):
        probe.sheet_resistance()
    with pytest.raises(InCompliance):  # 1e7 Ohm/sq * 1 mA -> 2.2 kV >> 5 V
        probe.sheet_resistance()
    assert _eventually(lambda: server.device.output is False)  # ':OUTP OFF' has no reply to wait for
    assert injector.injected == {"alarm": 1}
    probe.meter.close()


def _eventually(condition, timeout_s: float = 2.0) -> bool:
    """Whether `condition()` becomes true within `timeout_s` (the emulator handles bytes on its own thread)."""
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True

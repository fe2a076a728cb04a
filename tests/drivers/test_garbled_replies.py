"""Audit findings: a garbled reply (valid framing, nonsense content) is a `DriverError`, never a `ValueError`."""

from __future__ import annotations

import pytest

from driver_protocol import FakeSerial, expected_protocol
from drivers.errors import CorruptReply
from drivers.four_point_probe import FourPointProbe, ProbeSettings
from drivers.framing import LineFraming, StxEtxFraming
from drivers.grbl import GrblGantry
from drivers.keithley2400 import Keithley2400
from drivers.ne1000 import NE1000, SyringeSpec
from drivers.spectrometer_serial import SerialSpectrometer
from drivers.thickness import SerialProfilometer
from drivers.transport import Transport

LINES = LineFraming(b"\n", b"\n")


def test_grbl_status_with_a_doubled_decimal_point_is_corrupt() -> None:
    pairs = [(b"?", b"<Idle|MPos:2..000,0.000,0.000|FS:0,0>\r\n")]
    with expected_protocol(GrblGantry, pairs, LineFraming(b"\n", b"\r\n"), retries=0) as gantry:
        with pytest.raises(CorruptReply, match="status"):
            gantry.status()
        assert gantry.transport.detections == {"corrupt": 1}


def test_ne1000_dis_with_a_doubled_decimal_point_is_corrupt() -> None:
    pairs = [(b"01DIS\r", b"\x0201SI1..2W0.000UL\x03")]
    syringe = SyringeSpec(diameter_mm=4.78, capacity_ul=1000.0)
    with expected_protocol(lambda t: NE1000(t, 1, syringe), pairs, StxEtxFraming(), retries=0) as pump:
        with pytest.raises(CorruptReply, match="DIS"):
            pump.dispensed()


def test_spectrometer_max_answered_with_ok_is_corrupt() -> None:
    with expected_protocol(SerialSpectrometer, [(b"MAX?\n", b"OK\n")], LINES, retries=0) as spectrometer:
        with pytest.raises(CorruptReply, match="MAX"):
            spectrometer.max_count


@pytest.mark.parametrize("reply", [b"nan\n", b"1_000\n", b"inf\n"])
def test_profilometer_refuses_numbers_python_accepts_but_the_protocol_does_not(reply: bytes) -> None:
    with expected_protocol(SerialProfilometer, [(b"MEAS?\n", reply)], LINES, retries=0) as gauge:
        with pytest.raises(CorruptReply):
            gauge.thickness_nm()


def _polarity(current: str) -> list[tuple[bytes | None, bytes | None]]:
    """One `measure` at `current` whose reading says 0 A flowed."""
    return [(b":OUTP OFF\n", None), (b":SYST:RSEN ON\n", None), (b":SYST:CCH ON\n", None),
            (b":SOUR:FUNC CURR\n", None), (f":SOUR:CURR {current}\n".encode(), None),
            (b":SENS:FUNC 'VOLT'\n", None), (b":SENS:VOLT:PROT 10\n", None), (b":FORM:ELEM VOLT,CURR\n", None),
            (b":SYST:ERR?\n", b'0,"No error"\n'), (b":OUTP ON\n", None),
            (b":READ?\n", b"+1.000000E-03,+0.000000E+00\n"), (b":OUTP OFF\n", None)]


def test_four_point_probe_with_zero_current_on_both_polarities_is_corrupt() -> None:
    port = FakeSerial(_polarity("1.000000E-05") + _polarity("-1.000000E-05"))
    meter = Keithley2400(Transport(port, LINES, timeout_s=0.05, retries=0))  # type: ignore[arg-type]
    probe = FourPointProbe(meter, ProbeSettings(current_a=1e-5, compliance_v=10.0))
    with pytest.raises(CorruptReply, match="current"):
        probe.sheet_resistance()
    assert port.written[-1] == b":OUTP OFF\n"

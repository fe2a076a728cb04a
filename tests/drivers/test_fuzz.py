"""Fuzz every driver with random, truncated, mutated, oversized and binary replies on a fake serial port.

Whatever a device answers, an operation either returns a valid reading or raises a `DriverError`; any
other exception (a `ValueError` from `float()`, a `ZeroDivisionError`, an `IndexError`) escapes the
drivers and would stop a campaign. Each case scripts the valid conversation of one operation; Hypothesis
replaces, mutates, truncates, reframes or drops its replies (and also tries fully random lists).
Derandomized and without an example database, so every run tries the same examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.errors import DriverError
from drivers.four_point_probe import FourPointProbe, ProbeSettings
from drivers.framing import Framing, LineFraming, SafeModeFraming, StxEtxFraming
from drivers.grbl import GrblGantry, GrblSettings, GrblStatus
from drivers.keithley2400 import Keithley2400
from drivers.ne1000 import NE1000, PumpReply, SyringeSpec
from drivers.spectrometer_serial import SerialSpectrometer
from drivers.thickness import MAX_THICKNESS_NM, SerialProfilometer
from drivers.transport import Transport

EXAMPLES = 250
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class FuzzPort:
    """A serial port answering each write that `answers` takes with the next scripted reply, then silence."""

    def __init__(self, replies: list[bytes], answers: Callable[[bytes], bool]) -> None:
        self.replies = list(replies)
        self.answers = answers
        self.timeout: float | None = 0.0
        self._rx = bytearray()

    def write(self, data: bytes) -> int:
        if self.replies and self.answers(data):
            self._rx += self.replies.pop(0)
        return len(data)

    def read(self, size: int = 1) -> bytes:
        data = bytes(self._rx[:size])
        del self._rx[:size]
        return data

    @property
    def in_waiting(self) -> int:
        return len(self._rx)

    def reset_input_buffer(self) -> None:
        self._rx.clear()

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Case:
    """One driver operation: how to build the driver, the valid replies in order, what a valid result is."""

    name: str
    framing: Callable[[], Framing]
    build: Callable[[Transport], Any]
    operation: Callable[[Any], Any]
    check: Callable[[Any, Any], bool]
    conversation: tuple[bytes, ...]
    seeds: tuple[bytes, ...] = ()
    answers: Callable[[bytes], bool] = field(default=lambda data: True)


# -- drivers and what a valid result is ----------------------------------------------------------------
SYRINGE = SyringeSpec(diameter_mm=4.78, capacity_ul=1000.0)
LINES = LineFraming(b"\n", b"\n")


def _gantry(transport: Transport) -> GrblGantry:
    return GrblGantry(transport, settings=GrblSettings(motion_timeout_s=5.0), time_scale=1.0e4)


def _pump(transport: Transport) -> NE1000:
    return NE1000(transport, 1, SYRINGE, time_scale=1.0e5, poll_interval_s=0.2)


def _finite(*values: float) -> bool:
    return all(isinstance(v, float) and math.isfinite(v) for v in values)


def _valid_status(status: Any, _: Any = None) -> bool:
    return isinstance(status, GrblStatus) and status.state.replace(":", "").isalnum() and _finite(*status.mpos_mm)


def _valid_reading(reading: Any, meter: Keithley2400) -> bool:
    voltage, current = reading
    return (_finite(voltage, current) and abs(voltage) < meter.compliance_v
            and math.isclose(current, meter.source_current_a, rel_tol=0.05))


def _valid_scan(counts: Any, spectrometer: SerialSpectrometer) -> bool:
    return (isinstance(counts, np.ndarray) and counts.shape == spectrometer.wavelengths_nm().shape
            and bool(np.all(np.isfinite(counts))) and bool(np.all((counts >= 0) & (counts < spectrometer.max_count))))


def _grbl_line(data: bytes) -> bool:
    return data not in (b"!", b"~")


def _scpi_query(data: bytes) -> bool:
    return data.rstrip().endswith(b"?")


def _is_text(value: Any, _: Any) -> bool:
    return isinstance(value, str)


def _pump_lines(*payloads: str) -> tuple[bytes, ...]:
    return tuple(p.encode() for p in payloads)


STATUS_IDLE = b"<Idle|MPos:10.000,0.000,50.000|FS:0,0>"
GRBL_SEEDS = (b"ok", b"error:9", b"ALARM:1", b"[MSG:Caution: Unlocked]", b"<Run|MPos:5.000,0.000,50.000|FS:300,0>",
              b"<Hold:0|MPos:1.5,-2,3e1>", b"Grbl 1.1h ['$' for help]", b"[VER:1.1h.20190825:]")
PUMP_SEEDS = _pump_lines("01S", "01I", "01W", "01SI12.35W0.000UL", "01SI0.000W1.5ML", "01A?S", "01A?R",
                         "01S?OOR", "01S?", "02S", "01SNE1000V3.928")
DISPENSE = _pump_lines("01S", "01S", "01S", "01S", "01S", "01SI0.000W0.000UL", "01I", "01S", "01SI10.00W0.000UL")
SCPI_SEEDS = (b'0,"No error"', b"+1.000000E-03,+0.000000E+00", b'850,"Contact check failed"',
              b"+1.234000E-01,+1.000000E-04",
              b"+9.910000E+37,+1.000000E-04", b"-1.234000E-01,-1.000000E-04", b"KEITHLEY INSTRUMENTS,MODEL 2400")
SPECTRUM_SEEDS = (b"OK", b"ERR integration time out of range", b"4095", b"500.00,600.00", b"100,200", b"100,4095",
                  b"ACME,SPEC,1,1", b"5000")

CASES = [
    Case("grbl-status", lambda: LineFraming(b"\n", b"\r\n"), _gantry, lambda g: g.status(), _valid_status,
         (STATUS_IDLE,), GRBL_SEEDS, _grbl_line),
    Case("grbl-move", lambda: LineFraming(b"\n", b"\r\n"), _gantry, lambda g: g.move_to(x=10.0), _valid_status,
         (b"<Idle|MPos:0.000,0.000,50.000|FS:0,0>", b"ok", b"<Run|MPos:5.000,0.000,50.000|FS:3000,0>", STATUS_IDLE),
         GRBL_SEEDS, _grbl_line),
    Case("grbl-identify-setup", lambda: LineFraming(b"\n", b"\r\n"), _gantry,
         lambda g: (g.identify(), g.setup(), g.unlock())[0], _is_text,
         (b"[VER:1.1h.20190825:]", b"[OPT:V,15,128]", b"ok", b"ok", b"ok", b"[MSG:Caution: Unlocked]", b"ok"),
         GRBL_SEEDS, _grbl_line),
    Case("ne1000-status-dis", StxEtxFraming, _pump, lambda p: (p.status(), p.identify(), p.dispensed()),
         lambda r, _: isinstance(r[0], PumpReply) and isinstance(r[1], str) and _finite(*r[2]) and min(r[2]) >= 0,
         _pump_lines("01S", "01SNE1000V3.928", "01SI1.250W0.000UL"), PUMP_SEEDS),
    Case("ne1000-dispense", StxEtxFraming, _pump, lambda p: p.dispense(10.0, 600.0),
         lambda v, _: _finite(v) and abs(v - 10.0) <= 0.01, DISPENSE, PUMP_SEEDS),
    Case("ne1000-safe-mode-dispense", SafeModeFraming, _pump, lambda p: p.dispense(10.0, 600.0),
         lambda v, _: _finite(v) and abs(v - 10.0) <= 0.01, DISPENSE, PUMP_SEEDS),
    Case("keithley-measure", lambda: LINES, Keithley2400, lambda m: m.measure(1e-4, 10.0), _valid_reading,
         (b'0,"No error"', b"+1.234000E-01,+1.000000E-04"), SCPI_SEEDS, _scpi_query),
    Case("keithley-errors-identify", lambda: LINES, Keithley2400, lambda m: (m.identify(), m.errors()),
         lambda r, _: isinstance(r[0], str) and all(isinstance(c, int) for c, _ in r[1]),
         (b"KEITHLEY INSTRUMENTS,MODEL 2400", b'-222,"Data out of range"', b'0,"No error"'), SCPI_SEEDS, _scpi_query),
    Case("four-point-probe", lambda: LINES,
         lambda t: FourPointProbe(Keithley2400(t), ProbeSettings(current_a=1e-4, compliance_v=10.0)),
         lambda p: p.sheet_resistance(), lambda rs, _: _finite(rs) and rs > 0,
         (b'0,"No error"', b"+1.234000E-01,+1.000000E-04", b'0,"No error"', b"-1.234000E-01,-1.000000E-04"),
         SCPI_SEEDS, _scpi_query),
    Case("spectrometer-scan", lambda: LINES, SerialSpectrometer, lambda s: s.intensities(), _valid_scan,
         (b"100,200", b"500.00,600.00", b"4095"), SPECTRUM_SEEDS),
    Case("spectrometer-settings", lambda: LINES, SerialSpectrometer,
         lambda s: (s.set_integration_time_us(5000), s.set_shutter(False), s.integration_time_us, s.identify()),
         lambda r, _: isinstance(r[2], int) and 1 <= r[2] <= 10_000_000 and isinstance(r[3], str),
         (b"OK", b"OK", b"5000", b"ACME,SPEC,1,1"), SPECTRUM_SEEDS),
    Case("profilometer", lambda: LINES, SerialProfilometer, lambda g: (g.identify(), g.thickness_nm()),
         lambda r, _: isinstance(r[0], str) and _finite(r[1]) and 0 <= r[1] <= MAX_THICKNESS_NM,
         (b"ACME,PROF", b"152.30"), (b"ERR stylus up", b"-4", b"1e6", b"0", b"nan")),
]


# -- reply strategies --------------------------------------------------------------------------------
PROTOCOL_BYTES = b"0123456789.,-+eE:|<>?!\"' \r\n\x02\x03ACDEIKLMNOPRSTUVWXYZabdhiklmnorsw[]"


@st.composite
def mutated(draw: st.DrawFn, reply: bytes) -> bytes:
    """`reply` with up to four edits: truncated, a byte deleted, inserted, replaced or duplicated.

    Punctuation is edited more often than its share of the bytes: a doubled `.` or `,` is the
    classic garble that a loose parser (`[0-9.]+` then `float()`) lets through.
    """
    data = bytearray(reply)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(data)))
        punctuation = [i for i, b in enumerate(data) if b in b".,:-+|"]
        if punctuation and draw(st.booleans()):
            where = draw(st.sampled_from(punctuation))
        edit = draw(st.sampled_from(["truncate", "delete", "insert", "replace", "duplicate", "stutter"]))
        byte = draw(st.one_of(st.sampled_from(PROTOCOL_BYTES), st.integers(0, 255)))
        if edit == "truncate":
            del data[where:]
        elif edit == "delete":
            del data[where:where + 1]
        elif edit == "insert":
            data.insert(where, byte)
        elif edit == "replace" and where < len(data):
            data[where] = byte
        elif edit == "duplicate":
            data[where:where] = data[where:where + draw(st.integers(1, 8))]
        elif edit == "stutter":
            data[where:where] = data[where:where + 1]
    return bytes(data)


def payloads(seeds: tuple[bytes, ...]) -> st.SearchStrategy[bytes]:
    """Any reply content: a protocol reply, a mutated one, protocol-alphabet noise, binary, or oversized."""
    seed = st.sampled_from(seeds)
    return st.one_of(
        seed,
        seed.flatmap(mutated),
        st.binary(min_size=0, max_size=12).map(lambda noise: bytes(b for b in noise if b in PROTOCOL_BYTES) or noise),
        st.binary(max_size=48),
        st.tuples(seed, st.integers(200, 4000)).map(lambda pair: b",".join([pair[0]] * pair[1])),
    )


def framed(framing: Framing, payload: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """`payload` framed as the driver expects, usually; sometimes unframed, half-framed or doubled."""
    def frame(pair: tuple[bytes, str]) -> bytes:
        data, how = pair
        if how == "raw":
            return data
        full = as_reply(framing, data)
        if how == "truncated":
            return full[:-1]
        if how == "twice":
            return full + full
        return full

    return st.tuples(payload, st.sampled_from(["framed", "framed", "framed", "raw", "truncated", "twice"])).map(frame)


def scripts(case: Case) -> st.SearchStrategy[list[bytes]]:
    """The case's valid conversation with each reply kept, garbled or dropped; or a random list of replies."""
    framing = case.framing()
    any_reply = framed(framing, payloads(case.seeds + case.conversation))
    step = [st.one_of(st.just(as_reply(framing, valid)), mutated(valid).map(lambda p: as_reply(framing, p)), any_reply)
            for valid in case.conversation]
    return st.one_of(st.tuples(*step).map(list), st.lists(any_reply, max_size=10))


def as_reply(framing: Framing, payload: bytes) -> bytes:
    """Frame `payload` the way the device sends it (line terminator, STX/ETX, safe-mode packet)."""
    if isinstance(framing, LineFraming):
        return payload + framing.read_terminator
    if isinstance(framing, StxEtxFraming):
        return b"\x02" + payload + b"\x03"
    if len(payload) > 251:  # longer than a length byte can say: an oversized packet with a wrong length
        return b"\x02\xff" + payload + b"\x00\x00\x03"
    return framing.encode(payload)


# -- the property --------------------------------------------------------------------------------------
def outcome(case: Case, replies: list[bytes]) -> str:
    """Run the case's operation against `replies`; 'valid' or the DriverError's name; anything else raises."""
    port = FuzzPort(replies, case.answers)
    transport = Transport(port, case.framing(), timeout_s=0.002, retries=1)  # type: ignore[arg-type]
    driver = case.build(transport)
    try:
        result = case.operation(driver)
    except DriverError as exc:
        return type(exc).__name__
    meter = getattr(driver, "meter", driver)
    assert case.check(result, meter), f"{case.name}: invalid result {result!r} from {replies!r}"
    return "valid"


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_any_reply_gives_a_valid_reading_or_a_driver_error(case: Case) -> None:
    seen: set[str] = set()

    @FUZZ
    @given(scripts(case))
    def run(replies: list[bytes]) -> None:
        seen.add(outcome(case, replies))

    run()
    assert "valid" in seen and len(seen) > 1, seen  # both the happy path and failures were exercised

"""NE-1000 pump driver: exact conversations (basic and safe mode), reply parsing, interlocks."""

from __future__ import annotations

import pytest

from driver_protocol import FakeSerial, expected_protocol
from drivers.errors import CommandRejected, CorruptReply, InterlockError, PumpStalled
from drivers.framing import SafeModeFraming, StxEtxFraming
from drivers.ne1000 import NE1000, PumpLimits, SyringeSpec, encode_rate, format_number, parse_reply
from drivers.transport import Transport

SYRINGE = SyringeSpec(diameter_mm=4.78, capacity_ul=1000.0)


def pump(transport: Transport, address: int = 1) -> NE1000:
    return NE1000(transport, address, SYRINGE, time_scale=1000.0)


def stx(text: str) -> bytes:
    return b"\x02" + text.encode() + b"\x03"


def test_number_and_rate_formats_fit_four_digits() -> None:
    assert format_number(12.345678) == "12.35"
    assert format_number(0.05) == "0.050"
    assert format_number(1234.4) == "1234"
    assert encode_rate(500.0) == ("500.0 UM", 500.0)
    assert encode_rate(25_000.0) == ("25.00 MM", 25_000.0)
    text, sent = encode_rate(0.0125)
    assert text == "0.750 UH" and sent == pytest.approx(0.0125)


def test_parse_reply_statuses_alarms_and_errors() -> None:
    assert parse_reply(b"01I").status == "I"
    reply = parse_reply(b"07SI1.250W0.000UL")
    assert (reply.address, reply.status, reply.data) == (7, "S", "I1.250W0.000UL")
    assert parse_reply(b"00A?S").alarm == "S"
    assert parse_reply(b"00S?OOR").data == "?OOR"
    with pytest.raises(CorruptReply):
        parse_reply(b"0xS")


def test_identify_and_configure_conversation() -> None:
    pairs = [(b"01VER\r", stx("01SNE1000V3.928")), (b"01DIA 4.780\r", stx("01S")), (b"01DIR INF\r", stx("01S"))]
    with expected_protocol(pump, pairs, StxEtxFraming()) as p:
        assert p.identify() == "NE1000V3.928"
        p.configure()


def test_dispense_conversation_is_verified_by_dis() -> None:
    pairs = [
        (b"01VOL UL\r", stx("01S")), (b"01VOL 12.35\r", stx("01S")), (b"01RAT 600.0 UM\r", stx("01S")),
        (b"01DIR INF\r", stx("01S")), (b"01CLD INF\r", stx("01S")), (b"01DIS\r", stx("01SI0.000W0.000UL")),
        (b"01RUN\r", stx("01I")), (b"01\r", stx("01S")), (b"01DIS\r", stx("01SI12.35W0.000UL")),
    ]
    with expected_protocol(pump, pairs, StxEtxFraming()) as p:
        assert p.dispense(12.345, 600.0) == pytest.approx(12.35)


def test_stall_alarm_raises_typed_error_after_acknowledging() -> None:
    pairs = [
        (b"01VOL UL\r", stx("01S")), (b"01VOL 10.00\r", stx("01S")), (b"01RAT 600.0 UM\r", stx("01S")),
        (b"01DIR INF\r", stx("01S")), (b"01CLD INF\r", stx("01S")), (b"01DIS\r", stx("01SI0.000W0.000UL")),
        (b"01RUN\r", stx("01I")), (b"01\r", stx("01A?S")), (b"01STP\r", stx("01S")),
        (b"01DIS\r", stx("01SI4.000W0.000UL")),
    ]
    with expected_protocol(pump, pairs, StxEtxFraming()) as p:
        with pytest.raises(PumpStalled, match="delivered 4 of 10"):
            p.dispense(10.0, 600.0)
        assert p.transport.detections == {"alarm": 1}


def test_command_error_codes_are_rejections() -> None:
    with expected_protocol(pump, [(b"01DIA 4.780\r", stx("01S?OOR"))], StxEtxFraming()) as p:
        with pytest.raises(CommandRejected, match="OOR"):
            p.set_diameter(4.78)


def test_safe_mode_packets_carry_length_and_crc() -> None:
    framing = SafeModeFraming()
    pairs = [(framing.encode(b"01SAF 2"), framing.encode(b"01S")), (framing.encode(b"01"), framing.encode(b"01I"))]
    with expected_protocol(pump, pairs, framing) as p:
        p.set_safe_mode(2)
        assert p.status().status == "I"


@pytest.mark.parametrize(("call", "match"), [
    (lambda p: p.dispense(0.01, 100.0), "minimum dispensable"),
    (lambda p: p.dispense(1500.0, 100.0), "syringe capacity"),
    (lambda p: p.set_volume(1000.5), "1000.0"),
    (lambda p: p.set_rate(1.0e4), "maximum|uL/min"),
    (lambda p: p.set_rate(1.0e-6), "uL/min"),
    (lambda p: p.set_diameter(60.0), "diameter_mm"),
])
def test_interlocks_refuse_before_any_byte(call, match) -> None:
    port = FakeSerial([])
    p = pump(Transport(port, StxEtxFraming(), timeout_s=0.05))  # type: ignore[arg-type]
    with pytest.raises(InterlockError, match=match):
        call(p)
    assert port.written == []


def test_rate_range_follows_the_syringe_cross_section() -> None:
    low, high = PumpLimits().rate_range_ul_min(26.59)  # 60 mL syringe
    assert high / 1000 * 60 == pytest.approx(1699, rel=0.01)  # data sheet: 1699 mL/h
    low, _ = PumpLimits().rate_range_ul_min(4.78)  # 1 mL syringe
    assert low * 60 == pytest.approx(0.73, rel=0.02)  # data sheet: 0.73 uL/h

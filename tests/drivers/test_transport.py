"""Transport and framing: exact bytes, CRC, retries only for idempotent queries, bounded traffic log."""

from __future__ import annotations

import logging

import pytest
import serial

from driver_protocol import FakeSerial, expected_protocol
from drivers.errors import CorruptReply, ReplyTimeout
from drivers.framing import LineFraming, SafeModeFraming, StxEtxFraming, crc16_ccitt
from drivers.transport import Transport


def test_crc_matches_the_new_era_manual_example() -> None:
    # The manual's packet to leave safe mode: 02 08 'SAF0' 55 43 03.
    assert crc16_ccitt(b"SAF0") == 0x5543
    assert SafeModeFraming().encode(b"SAF0") == b"\x02\x08SAF0\x55\x43\x03"


def test_safe_mode_framing_round_trip_and_crc_check() -> None:
    framing = SafeModeFraming()
    frame = framing.encode(b"00S")
    buffer = bytearray(frame[:4])
    assert framing.extract(buffer) is None  # incomplete
    buffer += frame[4:]
    assert framing.extract(buffer) == b"00S" and not buffer
    damaged = bytearray(frame)
    damaged[3] ^= 0x01
    with pytest.raises(CorruptReply, match="CRC"):
        framing.extract(damaged)


def test_line_and_stx_framings_reject_non_ascii() -> None:
    assert LineFraming(b"\n", b"\r\n").extract(bytearray(b"\r\nok\r\n")) == b"ok"  # blank line skipped
    with pytest.raises(CorruptReply):
        LineFraming().extract(bytearray(b"o\xeb\n"))
    assert StxEtxFraming().extract(bytearray(b"\x0201S\x03")) == b"01S"
    with pytest.raises(CorruptReply, match="STX"):
        StxEtxFraming().extract(bytearray(b"01S\x03"))


def test_idempotent_query_is_retried_after_a_lost_reply() -> None:
    pairs = [(b"MAX?\n", None), (b"MAX?\n", b"65535\n")]
    with expected_protocol(lambda t: t, pairs, LineFraming(), retries=1) as transport:
        assert transport.query(b"MAX?", idempotent=True) == b"65535"
        assert transport.detections == {"drop": 1}


def test_non_idempotent_command_is_sent_once() -> None:
    port = FakeSerial([(b"RUN\n", None)])
    transport = Transport(port, LineFraming(), timeout_s=0.05, retries=3)  # type: ignore[arg-type]
    with pytest.raises(ReplyTimeout):
        transport.query(b"RUN")
    assert port.written == [b"RUN\n"]


def test_incomplete_reply_is_corrupt_not_timeout() -> None:
    with expected_protocol(lambda t: t, [(b"X\n", b"12")], LineFraming(), retries=0) as transport:
        with pytest.raises(CorruptReply, match="incomplete"):
            transport.query(b"X", idempotent=True)
        assert transport.detections == {"corrupt": 1}


def test_traffic_log_is_bounded_and_mirrored_to_a_logger(caplog: pytest.LogCaptureFixture) -> None:
    pairs = [(b"Q%d\n" % i, b"A%d\n" % i) for i in range(5)]
    logger = logging.getLogger("test.traffic")
    with expected_protocol(lambda t: t, pairs, LineFraming(), log_size=4, logger=logger) as transport:
        with caplog.at_level(logging.DEBUG, logger="test.traffic"):
            for i in range(5):
                assert transport.query(b"Q%d" % i) == b"A%d" % i
        assert len(transport.traffic) == 4
        assert [entry.direction for entry in transport.traffic] == ["tx", "rx", "tx", "rx"]
        assert transport.traffic[-1].data == b"A4\n"
    assert any("Q4" in record.getMessage() for record in caplog.records)


def test_loop_url_echoes_through_a_real_pyserial_port() -> None:
    transport = Transport.from_url("loop://", LineFraming(), timeout_s=0.2)
    assert isinstance(transport.port, serial.SerialBase)
    assert transport.query(b"*IDN?") == b"*IDN?"
    transport.close()

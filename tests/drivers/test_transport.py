"""Transport and framing: exact bytes, CRC, retries only for idempotent queries, bounded traffic log."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import tty
from typing import Iterator

import pytest
import serial

from driver_protocol import FakeSerial, expected_protocol
from drivers.errors import CorruptReply, Disconnected, ReplyTimeout
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


class ChattyPort(FakeSerial):
    """A port that streams a Grbl `[MSG:...]` line every 10 ms and only says `ok` after `ok_after_s`."""

    def __init__(self, ok_after_s: float) -> None:
        super().__init__([])
        self.ok_at = time.monotonic() + ok_after_s

    def write(self, data: bytes) -> int:
        self.written.append(bytes(data))
        return len(data)

    def read(self, size: int = 1) -> bytes:
        time.sleep(0.01)
        return b"ok\r\n" if time.monotonic() >= self.ok_at else b"[MSG:Pgm End]\r\n"

    def reset_input_buffer(self) -> None:
        pass


def test_skipped_lines_do_not_extend_the_reply_timeout() -> None:
    port = ChattyPort(ok_after_s=3.0)
    transport = Transport(port, LineFraming(b"\n", b"\r\n"), timeout_s=0.3)  # type: ignore[arg-type]
    start = time.monotonic()
    with pytest.raises(ReplyTimeout):
        transport.query(b"G4 P0", accept=lambda reply: reply == b"ok")
    assert time.monotonic() - start < 1.0
    assert transport.detections == {"drop": 1}


def test_real_serial_ports_are_opened_exclusively() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    try:
        first = Transport.from_url(path, LineFraming(), timeout_s=0.05)
        assert first.port.exclusive is True
        with pytest.raises(Disconnected, match="lock"):
            Transport.from_url(path, LineFraming(), timeout_s=0.05)
        first.close()
        Transport.from_url(path, LineFraming(), timeout_s=0.05).close()  # the lock goes with the port
    finally:
        os.close(master)
        os.close(slave)


@pytest.fixture
def echo_url() -> Iterator[str]:
    """A `socket://` URL of a loopback server that echoes what it receives."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            while data := connection.recv(4096):
                connection.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"socket://127.0.0.1:{port}"
    server.close()
    thread.join(timeout=2.0)


def test_loop_and_socket_urls_still_open_with_the_exclusive_default(echo_url: str) -> None:
    for url in ("loop://", echo_url):
        transport = Transport.from_url(url, LineFraming(), timeout_s=0.5)
        assert transport.query(b"PING") == b"PING"
        transport.close()

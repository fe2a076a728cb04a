"""Thickness gauges: profilometer protocol and emulator, manual entry."""

from __future__ import annotations

import queue

import pytest

from driver_protocol import expected_protocol
from drivers.emulators.backend import FilmProperties, SimpleBackend
from drivers.emulators.profilometer import ProfilometerEmulator
from drivers.errors import CommandRejected, CorruptReply, DriverError, ReplyTimeout
from drivers.framing import LineFraming
from drivers.thickness import ManualThickness, SerialProfilometer, ThicknessGauge
from drivers.transport import Transport

FRAMING = LineFraming(b"\n", b"\n")


def test_profilometer_conversation() -> None:
    pairs = [(b"*IDN?\n", b"ACME,PROF\n"), (b"MEAS?\n", b"152.30\n"), (b"MEAS?\n", b"ERR stylus up\n"),
             (b"MEAS?\n", b"-4\n")]
    with expected_protocol(SerialProfilometer, pairs, FRAMING) as gauge:
        assert isinstance(gauge, ThicknessGauge)
        assert gauge.identify() == "ACME,PROF"
        assert gauge.thickness_nm() == 152.3
        with pytest.raises(CommandRejected):
            gauge.thickness_nm()
        with pytest.raises(CorruptReply):
            gauge.thickness_nm()


def test_emulated_profilometer(bench, serve) -> None:
    bench.backend = SimpleBackend(lambda v: FilmProperties(thickness_nm=180.0))
    bench.backend.deposit((60.0, 60.0), {"p3ht": 1.0})
    server, _ = serve(lambda f: ProfilometerEmulator(bench, f, noise_nm=0.5))
    gauge = SerialProfilometer(Transport.from_url(server.url, FRAMING, timeout_s=0.2))
    bench.move_head(60.0, 60.0, 2.0)
    assert gauge.thickness_nm() == pytest.approx(180.0, abs=3.0)
    bench.move_head(0.0, 0.0, 2.0)
    assert gauge.thickness_nm() == 0.0
    gauge.close()


def test_manual_entry_from_callable_and_queue() -> None:
    assert ManualThickness(lambda: "210.5").thickness_nm() == 210.5
    with pytest.raises(DriverError, match="thickness_nm"):
        ManualThickness(lambda: -1.0).thickness_nm()
    entries: queue.Queue[float] = queue.Queue()
    entries.put(99.0)
    gauge = ManualThickness(entries, timeout_s=0.01)
    assert gauge.thickness_nm() == 99.0
    with pytest.raises(ReplyTimeout):
        gauge.thickness_nm()

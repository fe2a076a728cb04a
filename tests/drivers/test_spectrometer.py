"""Spectrometers: absorbance maths, the serial protocol, the emulator, saturation, the seabreeze extra."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from driver_protocol import expected_protocol
from drivers.emulators.backend import FilmProperties, SimpleBackend
from drivers.emulators.faults import FaultConfig
from drivers.emulators.spectrometer import SpectrometerEmulator
from drivers.errors import CommandRejected, DriverError, InterlockError, Saturated
from drivers.framing import LineFraming
from drivers.spectrometer import AbsorbanceReader, AbsorbanceSpectrum, Spectrometer, absorbance
from drivers.spectrometer_seabreeze import SeabreezeSpectrometer
from drivers.spectrometer_serial import SerialSpectrometer
from drivers.transport import Transport

FRAMING = LineFraming(b"\n", b"\n")


def test_absorbance_from_dark_and_reference() -> None:
    dark = np.array([100.0, 100.0, 100.0])
    reference = np.array([10100.0, 1100.0, 100.0])
    sample = np.array([1100.0, 1100.0, 150.0])
    a = absorbance(sample, dark, reference)
    assert a[:2] == pytest.approx([1.0, 0.0])
    assert np.isnan(a[2])  # no light in the reference: undefined
    spectrum = AbsorbanceSpectrum(np.array([500.0, 525.0, 550.0, 602.0]), np.array([0.2, 0.5, 0.45, 0.3]))
    assert spectrum.absorbance_at(525.0) == 0.5
    assert spectrum.features() == pytest.approx({"absorbance_525": 0.5, "absorption_ratio": 0.6})


def test_serial_protocol_conversation() -> None:
    pairs = [(b"*IDN?\n", b"ACME,SPEC,1,1\n"), (b"INT 5000\n", b"OK\n"), (b"WAV?\n", b"500.00,600.00\n"),
             (b"SCAN?\n", b"100,200\n"), (b"MAX?\n", b"4095\n"), (b"SCAN?\n", b"100,4095\n"),
             (b"SHUT CLOSE\n", b"OK\n"), (b"INT 0\n", b"ERR integration time out of range\n")]
    with expected_protocol(SerialSpectrometer, pairs, FRAMING) as spec:
        assert spec.identify() == "ACME,SPEC,1,1"
        spec.set_integration_time_us(5000)
        assert spec.wavelengths_nm().tolist() == [500.0, 600.0]
        assert spec.intensities().tolist() == [100.0, 200.0]
        with pytest.raises(Saturated):
            spec.intensities()
        spec.set_shutter(False)
        with pytest.raises(InterlockError):
            spec.set_integration_time_us(0)  # refused by the driver, nothing sent
        with pytest.raises(CommandRejected):
            spec.ask("INT 0")


def test_emulated_absorbance_matches_the_film(bench, serve) -> None:
    film = FilmProperties(absorbance_525=0.8, ratio_602_525=0.65)
    bench.backend = SimpleBackend(lambda v: film)
    bench.backend.deposit((40.0, 40.0), {"p3ht": 1.0})
    server, _ = serve(lambda f: SpectrometerEmulator(bench, f, seed=1))
    with SerialSpectrometer(Transport.from_url(server.url, FRAMING, timeout_s=0.5)) as spec:
        reader = AbsorbanceReader(spec, spec.set_shutter, scans_to_average=4)
        bench.move_head(5.0, 5.0, 2.0)  # blank substrate
        reader.take_dark()
        reader.take_reference()
        bench.move_head(40.0, 40.0, 2.0)
        features = reader.measure().features()
    assert features["absorbance_525"] == pytest.approx(0.8, abs=0.01)
    assert features["absorption_ratio"] == pytest.approx(0.65, abs=0.02)


def test_saturation_is_rejected_real_or_injected(bench, serve) -> None:
    server, injector = serve(lambda f: SpectrometerEmulator(bench, f), FaultConfig(alarm=1.0, max_per_kind=1))
    with SerialSpectrometer(Transport.from_url(server.url, FRAMING, timeout_s=0.5)) as spec:
        with pytest.raises(Saturated):
            spec.intensities()  # injected
        assert spec.intensities().max() < spec.max_count
        spec.set_integration_time_us(100_000)  # 10x the lamp's comfortable exposure: really saturates
        with pytest.raises(Saturated):
            spec.intensities()
        assert spec.transport.detections == {"alarm": 2} and injector.injected == {"alarm": 1}


@pytest.mark.skipif(importlib.util.find_spec("seabreeze") is not None, reason="seabreeze installed")
def test_seabreeze_missing_gives_a_clear_error() -> None:
    with pytest.raises(DriverError, match="pip install"):
        SeabreezeSpectrometer.open()


def test_seabreeze_wrapper_on_a_seabreeze_like_device() -> None:
    class Device:  # the attributes seabreeze.spectrometers.Spectrometer exposes
        model, serial_number, max_intensity = "FLAME-S", "FLMS0001", 65535.0
        integration_time_micros_limits = (1000, 65_000_000)

        def __init__(self) -> None:
            self.integration_us = 0

        def integration_time_micros(self, us: int) -> None:
            self.integration_us = us

        def wavelengths(self) -> np.ndarray:
            return np.array([400.0, 500.0])

        def intensities(self) -> np.ndarray:
            return np.array([1000.0, 65535.0])

    spec = SeabreezeSpectrometer(Device())
    assert isinstance(spec, Spectrometer)
    spec.set_integration_time_us(20_000)
    assert spec.device.integration_us == 20_000 and spec.identify() == "FLAME-S,FLMS0001"
    with pytest.raises(InterlockError):
        spec.set_integration_time_us(10)
    with pytest.raises(Saturated):
        spec.intensities()

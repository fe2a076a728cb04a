"""Emulated serial spectrometer (protocol in `drivers.spectrometer_serial`) looking at the bench head.

Counts = dark level + lamp(lambda) * (integration time / 10 ms) * 10**(-A) + noise, clipped at the
16-bit maximum, with A the backend's absorbance at the head position. Too long an integration time
saturates for real; injected `alarm` faults saturate a few pixels.
"""

from __future__ import annotations

import numpy as np

from drivers.emulators.bench import Bench
from drivers.emulators.faults import FaultInjector, Reply
from drivers.emulators.line_buffer import LineBuffer

IDN = "EMULATED,SPEC-512,SN000512,1.0"
MAX_COUNT = 65535


class SpectrometerEmulator:
    """A 512-pixel 350-1000 nm spectrometer with a shuttered halogen-like lamp.

    Args:
        bench: Shared bench (head position, backend).
        faults: Injector deciding saturated scans.
        seed: Seed of the detector noise.
        n_pixels: Number of pixels.
    """

    def __init__(self, bench: Bench, faults: FaultInjector | None = None, seed: int = 0, n_pixels: int = 512) -> None:
        self.bench = bench
        self.faults = faults or FaultInjector()
        self.wavelengths_nm = np.linspace(350.0, 1000.0, n_pixels)
        self.integration_time_us = 10_000
        self.shutter_open = True
        self.dark_level = 1000.0
        self.noise_counts = 20.0
        self._lamp = 40000.0 * np.exp(-0.5 * ((self.wavelengths_nm - 650.0) / 220.0) ** 2) + 4000.0
        self._rng = np.random.default_rng(seed)
        self._lines = LineBuffer()
        self._alarmed = False

    def on_connect(self) -> list[Reply]:
        return []

    def receive(self, data: bytes) -> list[Reply]:
        replies: list[Reply] = []
        for line in self._lines.feed(data):
            self._alarmed = False
            answer = self._answer(line)
            replies.append(Reply(b"", answer.encode("ascii"), b"\n", line.encode("ascii"), alarm=self._alarmed))
        return replies

    def scan(self, saturate: bool = False) -> np.ndarray:
        """Return one scan's counts at the current head position, shape (n_pixels,)."""
        signal = np.zeros_like(self.wavelengths_nm)
        if self.shutter_open:
            absorbance = self.bench.backend.absorbance_at(self.bench.position_xy_mm, self.wavelengths_nm)
            signal = self._lamp * (self.integration_time_us / 10_000.0) * 10.0 ** (-np.asarray(absorbance))
        counts = self.dark_level + signal + self._rng.normal(0.0, self.noise_counts, signal.shape)
        counts = np.clip(np.round(counts), 0, MAX_COUNT)
        if saturate:
            middle = counts.size // 2
            counts[middle - 3: middle + 3] = MAX_COUNT
        return counts

    def _answer(self, line: str) -> str:
        command, _, argument = line.upper().partition(" ")
        argument = argument.strip()
        if command == "*IDN?":
            return IDN
        if command == "MAX?":
            return str(MAX_COUNT)
        if command == "INT?":
            return str(self.integration_time_us)
        if command == "INT":
            if not argument.isdigit() or not 1 <= int(argument) <= 10_000_000:
                return "ERR integration time out of range"
            self.integration_time_us = int(argument)
            return "OK"
        if command == "WAV?":
            return ",".join(f"{w:.2f}" for w in self.wavelengths_nm)
        if command == "SCAN?":
            self._alarmed = self.faults.roll("alarm", b"SCAN?")
            counts = self.scan(saturate=self._alarmed)
            return ",".join(str(int(c)) for c in counts)
        if command == "SHUT":
            if argument not in ("OPEN", "CLOSE"):
                return "ERR shutter takes OPEN or CLOSE"
            self.shutter_open = argument == "OPEN"
            return "OK"
        return f"ERR unknown command {command}"

"""Emulated serial profilometer (protocol in `drivers.thickness`) measuring under the bench head."""

from __future__ import annotations

import numpy as np

from drivers.emulators.bench import Bench
from drivers.emulators.faults import FaultInjector, Reply
from drivers.emulators.line_buffer import LineBuffer

IDN = "EMULATED,PROFILOMETER,SN0007,1.0"


class ProfilometerEmulator:
    """Returns the backend thickness at the head position plus Gaussian noise (`noise_nm`, seeded)."""

    def __init__(self, bench: Bench, faults: FaultInjector | None = None, noise_nm: float = 0.5,
                 seed: int = 0) -> None:
        self.bench = bench
        self.faults = faults or FaultInjector()
        self.noise_nm = noise_nm
        self._rng = np.random.default_rng(seed)
        self._lines = LineBuffer()

    def on_connect(self) -> list[Reply]:
        return []

    def receive(self, data: bytes) -> list[Reply]:
        return [
            Reply(b"", self._answer(line.upper()).encode("ascii"), b"\n", line.upper().encode("ascii"))
            for line in self._lines.feed(data)
        ]

    def _answer(self, line: str) -> str:
        if line == "*IDN?":
            return IDN
        if line == "MEAS?":
            thickness = self.bench.backend.thickness_at(self.bench.position_xy_mm)
            if thickness > 0:
                thickness = max(0.0, thickness + self._rng.normal(0.0, self.noise_nm))
            return f"{thickness:.2f}"
        return f"ERR unknown command {line}"

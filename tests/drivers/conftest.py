"""Fixtures: emulators served on loopback sockets around one shared bench (fast emulated clock)."""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from drivers.emulators.bench import Bench
from drivers.emulators.faults import FaultConfig, FaultInjector
from drivers.emulators.server import DeviceEmulator, EmulatorServer

TIME_SCALE = 200.0


@pytest.fixture
def bench() -> Bench:
    """A bench with the simple backend whose clock runs 200x faster than real time."""
    return Bench(time_scale=TIME_SCALE)


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[EmulatorServer, FaultInjector]]]:
    """Start `device_factory(faults)` on a loopback server; stopped at teardown."""
    servers: list[EmulatorServer] = []

    def start(device_factory: Callable[[FaultInjector], DeviceEmulator],
              faults: FaultConfig | None = None) -> tuple[EmulatorServer, FaultInjector]:
        injector = FaultInjector(faults)
        server = EmulatorServer(device_factory(injector), injector).start()
        servers.append(server)
        return server, injector

    yield start
    for server in servers:
        server.stop()

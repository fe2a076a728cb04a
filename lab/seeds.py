"""One seed sequence per campaign: every consumer of randomness spawns its own stream from it, by name.

A campaign's seed is the entropy of a `numpy.random.SeedSequence`; a consumer (the optimizer on day 3, the
optical station's noise on film R02-W01-S3-b, the emulated instruments, the injected faults) asks for the
stream keyed by its name and indices, `SeedSequence(seed, spawn_key=(crc32(name), *indices))`. Streams are
independent of each other and of the order they are asked for, so a resumed campaign redraws exactly what it
drew before, and adding a consumer changes no other stream.
"""

from __future__ import annotations

import zlib

import numpy as np

from lab.records import FilmKey


def stream(seed: int, consumer: str, *indices: int) -> np.random.SeedSequence:
    """The seed sequence of one consumer (and indices, e.g. a day) of the campaign seeded `seed`."""
    return np.random.SeedSequence(int(seed), spawn_key=(zlib.crc32(consumer.encode()), *(int(i) for i in indices)))


def generator(seed: int, consumer: str, *indices: int) -> np.random.Generator:
    """A generator drawing the consumer's stream."""
    return np.random.default_rng(stream(seed, consumer, *indices))


def integer(seed: int, consumer: str, *indices: int) -> int:
    """The consumer's stream as one integer seed in [0, 2**31), for APIs that take an int (botorch, emulators)."""
    return int(stream(seed, consumer, *indices).generate_state(1)[0] >> 1)


def film_rng(seed: int, consumer: str, key: FilmKey) -> np.random.Generator:
    """The generator of one source of randomness for one film (independent of everything else)."""
    return generator(seed, consumer, key.run, key.wafer, key.sample, ord(key.droplet))

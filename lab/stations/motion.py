"""Where films are on the wafer, and moving the shared gantry head there safely.

`WaferMap` gives each film key a slot of the hardware config's wafer layout, in casting order, one wafer per
(run, wafer) pair. `Head` moves the gantry over a spot by a safe path (up to the travel height, across,
down), recovers from alarms (read the position, home, go on) and lowers the nozzle to cast a droplet
exactly once: a failed lowering is repeated only when the read-back height proves it never reached the
droplet height.
"""

from __future__ import annotations

import logging

from drivers.config import GantryConfig, WaferLayout
from drivers.errors import DeviceAlarm, DriverError, InterlockError
from drivers.grbl import GrblGantry
from lab.errors import ConfigError, LabError
from lab.records import FilmKey
from lab.stations.instruments import attempt

log = logging.getLogger(__name__)

XY = tuple[float, float]


class CastUnverified(LabError):
    """A droplet may or may not have been cast (the head height could not be read back): never repeated."""


class WaferMap:
    """Film key -> gantry position [mm]: the next free slot of the film's wafer, in casting order."""

    def __init__(self, layout: WaferLayout) -> None:
        self.positions = layout.positions()
        self._slots: dict[FilmKey, int] = {}
        self._used: dict[tuple[int, int], int] = {}

    def __contains__(self, key: FilmKey) -> bool:
        return key in self._slots

    def assign(self, key: FilmKey) -> XY:
        """Give `key` the next free slot of its wafer and return its position (`ConfigError` when full)."""
        if key in self._slots:
            raise ValueError(f"film {key.sample_id} already has slot {self._slots[key]}")
        wafer = (key.run, key.wafer)
        slot = self._used.get(wafer, 0)
        if slot >= len(self.positions):
            raise ConfigError(f"wafer R{key.run:02d}-W{key.wafer:02d} is full ({len(self.positions)} film slots in "
                              "the hardware config's wafer layout); cast fewer droplets or recipes per wafer")
        self._used[wafer] = slot + 1
        self._slots[key] = slot
        return self.positions[slot]

    def position(self, key: FilmKey) -> XY:
        """Return the position of a film that was given a slot (KeyError otherwise)."""
        return self.positions[self._slots[key]]


class Head:
    """The gantry head (nozzle, fibre probe, 4-point probe, stylus at one XY).

    Args:
        gantry: The gantry driver (open).
        config: Travel, safe / cast / measure heights.
        attempts: Tries of a move before giving up.
    """

    def __init__(self, gantry: GrblGantry, config: GantryConfig, attempts: int = 3) -> None:
        self.gantry = gantry
        self.config = config
        self.attempts = attempts
        self.homings = 0
        self._at: tuple[float, float, float] | None = None

    def prepare(self) -> None:
        """Home (clears the power-on alarm lock) and select absolute millimetres."""
        attempt(self._home, self.attempts, self._recover)
        attempt(self.gantry.setup, self.attempts, self._recover)

    def _home(self) -> None:
        self._at = None
        self.homings += 1
        self._at = self.gantry.home().mpos_mm

    def _recover(self, error: DriverError) -> None:
        """After a failed move: home if the controller is in alarm or not idle (its position is then unknown)."""
        self._at = None
        try:
            status = self.gantry.status()
        except DriverError:
            status = None
        if isinstance(error, DeviceAlarm) or status is None or status.state != "Idle":
            log.info("gantry recovery after %s: homing", type(error).__name__)
            try:
                if status is not None and status.state.startswith("Hold"):
                    self.gantry.soft_reset()
                self._home()
            except DriverError as exc:  # the next attempt reports the problem
                log.warning("gantry homing failed: %s", exc)
        else:
            self._at = status.mpos_mm

    def _near(self, xy: XY, z: float | None = None) -> bool:
        if self._at is None:
            return False
        tol = 1e-3
        x, y, at_z = self._at
        return abs(x - xy[0]) <= tol and abs(y - xy[1]) <= tol and (z is None or abs(at_z - z) <= tol)

    def _path(self, xy: XY, z: float) -> None:
        """One try of the safe path to (`xy`, `z`), planned from the last known position."""
        safe = self.config.safe_z_mm
        if not self._near(xy):
            if self._at is None or self._at[2] < safe - 1e-3:
                self._at = self.gantry.move_to(z=safe).mpos_mm
            self._at = self.gantry.move_to(x=xy[0], y=xy[1]).mpos_mm
        if not self._near(xy, z):
            self._at = self.gantry.move_to(z=z).mpos_mm

    def move_over(self, xy: XY, z: float) -> None:
        """Bring the head to `xy` at height `z` [mm]: up to the travel height, across, down (skipped if there).

        A failed try is followed by recovery (position read back, homing after an alarm) and a new path.
        """
        if z <= self.config.cast_z_mm:
            raise InterlockError(f"move_over refuses z={z} mm at or below the cast height; use cast_droplet")
        attempt(lambda: self._path(xy, z), self.attempts, self._recover)

    def cast_droplet(self, xy: XY) -> None:
        """Touch one droplet off at `xy`: above it at the travel height, down to the cast height once, back up.

        Raises:
            DriverError: the head could not be brought above the spot, or lowering failed every attempt
                (nothing was cast then).
            CastUnverified: lowering failed and the height could not be read back (never repeated).
        """
        safe, cast = self.config.safe_z_mm, self.config.cast_z_mm
        for i in range(self.attempts):
            self.move_over(xy, safe)
            try:
                self._at = self.gantry.move_to(z=cast).mpos_mm
                break
            except InterlockError:
                raise
            except DriverError as exc:
                try:
                    status = self.gantry.status()
                except DriverError as read_error:
                    raise CastUnverified(f"lowering to cast at {xy} failed ({exc}) and the head height cannot "
                                         f"be read back ({read_error}); not repeated") from exc
                if status.mpos_mm[2] <= cast + self.gantry.settings.tolerance_mm:
                    self._at = status.mpos_mm
                    break  # it got there: the droplet is cast
                if i + 1 == self.attempts:
                    raise
                self._recover(exc)
        try:
            self.move_over(xy, safe)
        except DriverError as exc:  # the droplet is cast; the next move starts by going up again
            self._at = None
            log.warning("gantry could not lift after casting at %s: %s", xy, exc)

    def lift(self) -> None:
        """Raise the head to the travel height where it is (best effort: before closing the bench)."""
        try:
            self._at = self.gantry.move_to(z=self.config.safe_z_mm).mpos_mm
        except DriverError as exc:
            log.warning("gantry could not lift before closing: %s", exc)

"""Stations made of instrument drivers: drop-casting (mixer + gantry), optical (spectrometer), conductivity
(4-point probe + source meter, profilometer). They satisfy the Protocols of `lab.stations.base`.

Failures never stop a campaign: what is safe to repeat (moves, scans, probe readings) is retried within
`StationSettings.attempts`, then the film is marked failed with the reason. Liquid is never dispensed twice:
a recipe is mixed once; a failed mix is purged to waste and its films fail; a droplet is lowered again only
when the read-back head height proves the first lowering never reached it.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from typing import Mapping, Sequence

import numpy as np

from drivers.errors import ContactCheckFailed, DriverError
from drivers.spectrometer import AbsorbanceReader
from drivers.spectrometer_serial import SerialSpectrometer
from lab.errors import LabError
from lab.records import CastResult, FilmKey, Reading
from lab.stations.hardware_setup import StationSettings
from lab.stations.instruments import Instruments, attempt, describe
from lab.stations.motion import Head, WaferMap
from lab.stations.profiling import profiles_thickness
from optimizers.settings import DispenseLimits

log = logging.getLogger(__name__)


class HardwareDropCaster:
    """Mixes one recipe's stock volumes with the flow mixer and casts its droplets with the gantry.

    Args:
        instruments: The open bench.
        head: The gantry head (shared with the measuring stations).
        wafer_map: Film key -> slot position (shared).
        settings: Stocks of each component, mix volume, waste position, attempts.
        components: Recipe components, in order.
    """

    def __init__(self, instruments: Instruments, head: Head, wafer_map: WaferMap, settings: StationSettings,
                 components: Sequence[str], total: float = 100.0) -> None:
        self.name = "drop-casting (hardware)"
        self._instruments = instruments
        self._head = head
        self._wafer_map = wafer_map
        self._settings = settings
        self._components = tuple(components)
        self._min_volume_ul = instruments.config.mixer.limits.min_volume_ul
        self._dispense = DispenseLimits(components=self._components, mix_volume_ul=settings.mix_volume_ul,
                                        min_volume_ul=self._min_volume_ul, total=total)
        self._purge_pending = False
        #: pumps found reset (power-cycled) when the line was opened: the next lost cast they took part in
        #: is of unknown volume
        self.pumps_reset: set[str] = set()
        #: pump runs asked for, per stock (one per non-zero volume per mix), and droplets lowered
        self.planned_runs: Counter[str] = Counter()
        self.planned_droplets = 0
        #: wafer spots of the droplets lowered, in order
        self.planned_spots: list[tuple[float, float]] = []
        self.failures: Counter[str] = Counter()

    def volumes_ul(self, recipe: Mapping[str, float]) -> dict[str, float]:
        """Volumes [uL] per component of one mix of `recipe` (components summing to `total`), snapped to dispensable ones."""
        return self._dispense.mix(recipe)[1]

    def _fail(self, films: Sequence[FilmKey], reason: str, kind: str,
              volumes: Mapping[str, float] | None = None) -> list[CastResult]:
        if films:
            self.failures[kind] += len(films)
        return [CastResult(film=k, station=self.name, volumes_ul=dict(volumes or {}), failure=reason) for k in films]

    def _purge(self) -> None:
        """Touch the mixing nozzle off at the waste spot so the next mix starts clean."""
        self._head.cast_droplet(self._settings.waste_xy_mm)
        self._purge_pending = False
        #: pumps found reset (power-cycled) when the line was opened: the next lost cast they took part in
        #: is of unknown volume
        self.pumps_reset: set[str] = set()

    def cast(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> list[CastResult]:
        """Mix `recipe` (fractions in %) once and cast one droplet per key in `films`."""
        results: dict[FilmKey, CastResult] = {}
        again = [k for k in films if k in self._wafer_map]
        for result in self._fail(again, "already cast: a film is never cast twice", "already_cast"):
            results[result.film] = result
        fresh = [k for k in films if k not in self._wafer_map]
        if fresh:
            for result in self._cast_fresh(recipe, fresh):
                results[result.film] = result
        return [results[k] for k in films]

    def _cast_fresh(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> list[CastResult]:
        positions = [self._wafer_map.assign(k) for k in films]
        volumes = self.volumes_ul(recipe)
        if self._purge_pending:
            try:
                self._purge()
            except (DriverError, LabError) as exc:
                return self._fail(films, f"mixing vial not purged after a failed mix ({describe(exc)}); "
                                         "nothing dispensed", "purge")
        stock_of = self._settings.stocks
        asked = {stock_of[c]: v for c, v in volumes.items() if v > 0}
        self.planned_runs.update(asked.keys())
        try:
            delivered = self._instruments.mixer.mix(asked)
        except DriverError as exc:
            self._purge_pending = True
            try:
                self._purge()
            except (DriverError, LabError) as purge_error:
                log.warning("purge after a failed mix failed: %s", purge_error)
            return self._fail(films, f"mix failed, not re-dispensed: {describe(exc)}", "mix", volumes)
        got = {c: float(delivered.get(stock_of[c], 0.0)) for c in self._components}
        results = []
        for key, xy in zip(films, positions):
            self.planned_droplets += 1
            self.planned_spots.append(xy)
            try:
                self._head.cast_droplet(xy)
            except (DriverError, LabError) as exc:
                results += self._fail([key], f"droplet not cast: {describe(exc)}", "cast", got)
                continue
            results.append(CastResult(film=key, station=self.name, volumes_ul=got))
        return results

    # -- resuming after a crash (see `lab.campaign.cycle.ResumableMaker`) ----------------------------
    def prepare_cast(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> dict:
        """Zero every pump's infused counter (no liquid moves), so a crash during the cast can be read back.

        Returns:
            The journal the runner stores before casting: `{"counters_cleared": True}`.
        """
        for pump in self._instruments.mixer.pumps.values():
            attempt(pump.clear_dispensed, self._settings.attempts)
        return {"counters_cleared": True}

    def resolve_interrupted(self, recipe: Mapping[str, float], films: Sequence[FilmKey],
                            journal: Mapping) -> list[CastResult]:
        """Say what became of a cast the runner lost, by asking the pumps; never dispense blindly.

        Every pump is stopped, then its `DIS` counter (zeroed by `prepare_cast`) is read back. Nothing
        infused -> nothing happened: the recipe is cast now. A pump that acknowledges a reset alarm (`A?R`: it
        was power-cycled) restarted its counter from 0, so "nothing infused" cannot be trusted: its films fail
        as interrupted and are never re-cast onto the same positions. Anything infused (or a counter that cannot be
        read) -> the mix and its droplets are unknown: the films fail "interrupted while casting: needs
        inspection", their wafer slots stay taken. Either way the vial is purged before the next mix (what it
        holds after a restart is unknown: a lost mix may have left liquid in it).
        """
        self._purge_pending = True
        infused: dict[str, float] = {}
        unreadable = ""
        reset: list[str] = sorted(self.pumps_reset)
        self.pumps_reset = set()
        try:
            for stock, pump in self._instruments.mixer.pumps.items():
                if attempt(pump.stop_and_report_alarm, self._settings.attempts) == "R" and stock not in reset:
                    reset.append(stock)  # power-cycled: its counter restarted from 0, what it infused is unknown
                infused[stock] = attempt(pump.dispensed, self._settings.attempts)[0]
        except DriverError as exc:
            unreadable = describe(exc)
        moved = {k: v for k, v in infused.items() if v > 0}
        if journal.get("counters_cleared") and not unreadable and not moved and not reset:
            log.info("interrupted cast of %s: the pumps infused nothing; casting now", films[0].sample_id if films else "")
            return self.cast(recipe, films)
        for key in films:
            if key not in self._wafer_map:
                self._wafer_map.assign(key)
        self._purge_pending = True
        if reset:
            why = f"pump(s) {', '.join(reset)} were reset (power cycle): their counters are unknown"
            try:  # the pumps lost their settings too: configure them again before the next mix
                attempt(self._instruments.mixer.configure, self._settings.attempts)
            except DriverError as exc:
                log.warning("pumps reset; configuring them again failed: %s", describe(exc))
        elif unreadable:
            why = f"pump counters unreadable ({unreadable})"
        elif not journal.get("counters_cleared"):
            why = "no pump counters were recorded before the cast"
        else:
            why = "pumps infused " + ", ".join(f"{k} {v:.4g} uL" for k, v in moved.items())
        return self._fail(films, f"interrupted while casting: needs inspection ({why}); not re-dispensed", "interrupted")

    def restore(self, recipe: Mapping[str, float], films: Sequence[FilmKey]) -> None:
        """Give films cast before a restart their wafer slots again (same casting order, same slots).

        The vial is purged before the next mix: after a restart nobody knows what it holds.
        """
        self._purge_pending = True
        for key in films:
            if key not in self._wafer_map:
                self._wafer_map.assign(key)


class HardwareOpticalStation:
    """Absorbance at 525 nm and the A602/A525 ratio from dark, reference (blank spot) and sample scans.

    Dark and reference scans are taken again for every new wafer.
    """

    def __init__(self, instruments: Instruments, head: Head, wafer_map: WaferMap, settings: StationSettings) -> None:
        self.name = "optical (hardware)"
        self._head = head
        self._wafer_map = wafer_map
        self._settings = settings
        config = instruments.config
        spectrometer = instruments.spectrometer
        shutter = spectrometer.set_shutter if isinstance(spectrometer, SerialSpectrometer) else None
        self._reader = AbsorbanceReader(spectrometer, shutter, config.spectrometer.scans_to_average)
        self._reference_xy = config.spectrometer.reference_xy_mm
        self._measure_z = config.gantry.measure_z_mm
        self._referenced: tuple[int, int] | None = None
        self.failures: Counter[str] = Counter()

    def _take_references(self) -> None:
        attempts = self._settings.attempts
        self._head.move_over(self._reference_xy, self._measure_z)
        attempt(self._reader.take_dark, attempts)
        attempt(self._reader.take_reference, attempts)

    def _fail(self, film: FilmKey, reason: str, kind: str) -> Reading:
        self.failures[kind] += 1
        return Reading(film=film, station=self.name, failure=reason)

    def measure(self, film: FilmKey) -> Reading:
        """Measure the optical features of `film` (a failed `Reading` with the reason if it cannot)."""
        try:
            xy = self._wafer_map.position(film)
        except KeyError:
            return self._fail(film, "film was never cast", "not_cast")
        try:
            wafer = (film.run, film.wafer)
            if self._referenced != wafer:
                self._referenced = None
                self._take_references()
                self._referenced = wafer
            self._head.move_over(xy, self._measure_z)
            spectrum = attempt(self._reader.measure, self._settings.attempts)
        except DriverError as exc:
            return self._fail(film, f"optical: {describe(exc)}", "driver")
        low, high = self._settings.baseline_window_nm
        window = (spectrum.wavelengths_nm >= low) & (spectrum.wavelengths_nm <= high)
        baseline = float(np.nanmean(spectrum.absorbance[window])) if window.any() else 0.0
        if not abs(baseline) <= self._settings.max_baseline_absorbance:
            self._referenced = None  # take dark and reference again before the next film
            return self._fail(film, f"optical: baseline drifted (absorbance {baseline:+.3f} at {low:g}-{high:g} nm); "
                                    "reference retaken", "baseline")
        features = spectrum.features()
        a525, ratio = features["absorbance_525"], features["absorption_ratio"]
        if not (math.isfinite(a525) and math.isfinite(ratio)) or a525 < self._settings.min_absorbance:
            return self._fail(film, f"no film at {xy} mm: absorbance_525={a525:.4g} < {self._settings.min_absorbance} "
                                    "(droplet dewetted or missed)", "no_film")
        return Reading(film=film, station=self.name, values=features,
                       units={"absorbance_525": "", "absorption_ratio": ""})


class HardwareConductivityStation:
    """4-point-probe sheet resistance, profilometer thickness on a share of films, conductivity from both.

    Args:
        thickness_fraction: Share of films profiled when the caller leaves the choice to the station.
        thickness_rng: Draws which films are profiled (rule `random`).
        thickness_rule: Which films: `lab.stations.profiling` (default: every recipe's first film, then spread).
    """

    def __init__(self, instruments: Instruments, head: Head, wafer_map: WaferMap, settings: StationSettings,
                 thickness_fraction: float = 1.0, thickness_rng: np.random.Generator | None = None,
                 thickness_rule: str = "per_recipe") -> None:
        self.name = "conductivity (hardware)"
        self._thickness_rule = thickness_rule
        self._instruments = instruments
        self._head = head
        self._wafer_map = wafer_map
        self._settings = settings
        self._measure_z = instruments.config.gantry.measure_z_mm
        self._thickness_fraction = thickness_fraction
        self._thickness_rng = thickness_rng if thickness_rng is not None else np.random.default_rng(0)
        self.failures: Counter[str] = Counter()

    def _fail(self, film: FilmKey, reason: str, kind: str) -> Reading:
        self.failures[kind] += 1
        return Reading(film=film, station=self.name, failure=reason)

    def _thickness(self, film: FilmKey, xy: tuple[float, float]) -> float | None:
        """Profile the film [nm]; None (logged and counted) when the profilometer gives no step height."""
        try:
            t = attempt(self._instruments.gauge.thickness_nm, self._settings.attempts)
        except DriverError as exc:
            self.failures["thickness_driver"] += 1
            log.warning("%s: no thickness: profilometer %s", film.sample_id, describe(exc))
            return None
        if t <= 0:
            self.failures["thickness_no_step"] += 1
            log.warning("%s: no thickness: no step height at %s mm (stylus lost contact?)", film.sample_id, xy)
            return None
        return t

    def measure_thickness(self, film: FilmKey) -> Reading:
        """Profile `film` alone: `thickness` [nm] (no values when the profilometer gives no step height)."""
        try:
            xy = self._wafer_map.position(film)
        except KeyError:
            return self._fail(film, "film was never cast", "not_cast")
        try:
            self._head.move_over(xy, self._measure_z)
        except DriverError as exc:
            return self._fail(film, f"profilometer: {describe(exc)}", "driver")
        thickness = self._thickness(film, xy)
        values = {} if thickness is None else {"thickness": thickness}
        return Reading(film=film, station=self.name, values=values, units={"thickness": "nm"} if values else {})

    def measure(self, film: FilmKey, with_thickness: bool | None = None) -> Reading:
        """Measure `sheet_resistance` [Ohm/sq], and `thickness` [nm] and `conductivity` [S/cm] if asked.

        A film whose thickness cannot be read keeps its sheet resistance (like a film not profiled).
        """
        if with_thickness is None:
            with_thickness = profiles_thickness(film, self._thickness_fraction, self._thickness_rule,
                                                self._thickness_rng.random)
        try:
            xy = self._wafer_map.position(film)
        except KeyError:
            return self._fail(film, "film was never cast", "not_cast")
        attempts = self._settings.attempts
        try:
            self._head.move_over(xy, self._measure_z)
            rs = attempt(self._instruments.probe.sheet_resistance, attempts)
        except ContactCheckFailed as exc:
            return self._fail(film, f"4-point probe: no contact with a conductive film ({exc})", "contact")
        except DriverError as exc:
            return self._fail(film, f"4-point probe: {describe(exc)}", "driver")
        if not (math.isfinite(rs) and rs > 0):
            return self._fail(film, f"4-point probe: implausible sheet resistance {rs} Ohm/sq", "implausible")
        values = {"sheet_resistance": rs}
        units = {"sheet_resistance": "Ohm/sq"}
        if with_thickness:
            thickness = self._thickness(film, xy)
            if thickness is not None:
                values.update(thickness=thickness, conductivity=1e7 / (rs * thickness))
                units.update(thickness="nm", conductivity="S/cm")
        return Reading(film=film, station=self.name, values=values, units=units)

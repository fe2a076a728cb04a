"""A flow mixer: one NE-1000 pump per stock solution, all on one RS-232 line.

`mix({"p3ht": 40.0, "cnt_d1": 10.0, ...})` dispenses each non-zero volume in turn, each verified by
reading back the pump's `DIS` counter (see `NE1000.dispense` for why a lost `RUN` reply is never
resent blindly). Every volume is checked against its pump's interlocks before the first byte goes out,
so a recipe is either refused whole or started.
"""

from __future__ import annotations

from typing import Mapping

from drivers.errors import InterlockError
from drivers.ne1000 import NE1000
from drivers.transport import Transport


class FlowMixer:
    """Named syringe pumps on one line.

    Args:
        transport: The shared line.
        pumps: Pump per stock-solution name (each with its own address and syringe).
        rate_ul_min: Dispense rate [uL/min] for every pump.
        safe_mode_timeout_s: If set, pumps are put in safe mode with this timeout [s] and a heartbeat
            (every third of the timeout) keeps them alive; the transport must use `SafeModeFraming`.
    """

    def __init__(self, transport: Transport, pumps: Mapping[str, NE1000], rate_ul_min: float,
                 safe_mode_timeout_s: int | None = None) -> None:
        if not pumps:
            raise ValueError("a flow mixer needs at least one pump")
        addresses = [pump.address for pump in pumps.values()]
        if len(set(addresses)) != len(addresses):
            raise ValueError(f"pump addresses must be unique, got {addresses}")
        self.transport = transport
        self.pumps = dict(pumps)
        self.rate_ul_min = rate_ul_min
        self.safe_mode_timeout_s = safe_mode_timeout_s
        self.history: list[dict[str, float]] = []

    @property
    def stocks(self) -> list[str]:
        """Stock-solution names, in pump order."""
        return list(self.pumps)

    def identify(self) -> dict[str, str]:
        """Get each pump's firmware version, by stock name."""
        return {name: pump.identify() for name, pump in self.pumps.items()}

    def take_reset_alarms(self) -> list[str]:
        """Stop every pump and acknowledge its alarm; return the stocks whose pump had been reset (power cycle).

        Call it before `configure` on opening the line: a reset pump raises `A?R` on every command until then,
        and the reset is the one sign that its volume counter restarted from 0.
        """
        return [name for name, pump in self.pumps.items() if pump.stop_and_report_alarm() == "R"]

    def configure(self) -> None:
        """Send diameters and directions; enter safe mode with heartbeats if configured."""
        for pump in self.pumps.values():
            pump.check_rate(self.rate_ul_min)
            pump.configure()
            if self.safe_mode_timeout_s:
                pump.set_safe_mode(self.safe_mode_timeout_s)
                pump.start_heartbeat(self.safe_mode_timeout_s / 3.0)

    def check(self, volumes_ul: Mapping[str, float]) -> None:
        """Refuse unknown stock names and volumes outside any pump's limits (nothing is sent)."""
        unknown = sorted(set(volumes_ul) - set(self.pumps))
        if unknown:
            raise InterlockError(f"unknown stock solution(s) {unknown}; pumps hold {self.stocks}")
        for name, volume in volumes_ul.items():
            if volume < 0:
                raise InterlockError(f"volume for {name!r} must be >= 0 uL, got {volume}")
            if volume > 0:
                self.pumps[name].check_volume(volume)
        for pump in self.pumps.values():
            pump.check_rate(self.rate_ul_min)

    def mix(self, volumes_ul: Mapping[str, float]) -> dict[str, float]:
        """Dispense `volumes_ul` (uL per stock name; zeros skipped); return the verified volumes.

        Raises:
            InterlockError: a name or volume is refused (before anything is sent).
            PumpStalled: a pump stalled (the mix is incomplete; the message gives the volume delivered).
            DispenseMismatch: a read-back volume differs from the target.
        """
        self.check(volumes_ul)
        delivered: dict[str, float] = {}
        for name, volume in volumes_ul.items():
            if volume > 0:
                delivered[name] = self.pumps[name].dispense(volume, self.rate_ul_min)
        self.history.append(delivered)
        return delivered

    def close(self) -> None:
        """Stop heartbeats and every pump (best effort), then close the line."""
        for pump in self.pumps.values():
            pump.stop_heartbeat()
        for pump in self.pumps.values():
            try:
                pump.stop()
            except Exception:  # noqa: BLE001 - closing must reach every pump
                pass
        self.transport.close()

    def __enter__(self) -> FlowMixer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

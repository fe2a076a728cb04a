"""Emulated RS-232 line of New Era NE-1000 pumps (basic and safe mode), one per stock solution.

Each pump keeps diameter, rate, volume target, direction, dispensed counters and an alarm. Pumping is
computed from the emulated clock (`Bench.now_s`), so with `time_scale` a dispense finishes quickly.
A pump reached by a `RUN` logs a `DispenseRecord` on the bench and adds what it pumped to the mixture.
An alarm is reported as the status of every reply of that pump until the host sends `STP`.

Injected `alarm` faults stall the motor part way through a run (`A?S`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from drivers.emulators.bench import Bench, DispenseRecord
from drivers.errors import CorruptReply
from drivers.emulators.faults import FaultInjector, Reply
from drivers.framing import ETX, STX, SafeModeFraming, crc16_ccitt
from drivers.ne1000 import DIAMETER_RANGE_MM, RATE_UNITS, PumpLimits, format_number

FIRMWARE = "NE1000V3.928"
_COMMAND = re.compile(r"^(\d{0,2})([A-Z]{3})?(.*)$")


@dataclass
class _Pump:
    address: int
    stock: str
    diameter_mm: float = 14.5
    rate_ul_min: float = 100.0
    target_ul: float = 0.0
    volume_unit: str = "UL"
    direction: str = "INF"
    infused_ul: float = 0.0
    withdrawn_ul: float = 0.0
    running: bool = False
    run_start_s: float = 0.0
    run_start_ul: float = 0.0
    stall_after_ul: float | None = None
    alarm: str | None = None
    safe_timeout_s: float = 0.0
    last_packet_s: float | None = None
    record: DispenseRecord | None = field(default=None, repr=False)


class PumpLineEmulator:
    """Several NE-1000 pumps sharing one serial line.

    Args:
        bench: Shared bench state (clock, mixture, dispense log).
        stocks: Stock-solution name per pump address.
        faults: Injector deciding stall alarms (the server applies the link faults).
        limits: Pump mechanics; out-of-range rates get `?OOR` as on the real pump.
    """

    def __init__(self, bench: Bench, stocks: Mapping[int, str], faults: FaultInjector | None = None,
                 limits: PumpLimits | None = None) -> None:
        self.bench = bench
        self.faults = faults or FaultInjector()
        self.limits = limits or PumpLimits()
        self.pumps = {address: _Pump(address, stock) for address, stock in stocks.items()}
        self._buffer = bytearray()
        self._safe = SafeModeFraming()

    def power_cycle(self) -> None:
        """Cut and restore the pumps' power: a run in progress stops, the counters and settings are lost, and
        each pump raises the reset alarm (`A?R`) until the host acknowledges it, as the NE-1000 does."""
        with self.bench.lock:
            for address, pump in self.pumps.items():
                if pump.running:
                    self._finish(pump, self.bench.now_s())
                fresh = _Pump(address, pump.stock)
                fresh.alarm = "R"
                self.pumps[address] = fresh

    # -- stream handling ---------------------------------------------------------------------------
    def on_connect(self) -> list[Reply]:
        return []

    def receive(self, data: bytes) -> list[Reply]:
        self._buffer += data
        replies: list[Reply] = []
        while self._buffer:
            if self._buffer[0] == STX:
                if len(self._buffer) < 2 or len(self._buffer) < 1 + self._buffer[1]:
                    break
                frame = bytes(self._buffer[: 1 + self._buffer[1]])
                del self._buffer[: len(frame)]
                try:
                    payload = self._safe.decode_frame(frame)
                except CorruptReply:  # a damaged packet is ignored; the host times out
                    continue
                replies += self._handle(bytes(b for b in payload if b > 0x20).upper(), safe=True)
            else:
                end = self._buffer.find(b"\r")
                if end < 0:
                    break
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                text = bytes(b for b in line if b > 0x20).upper()
                replies += self._handle(text, safe=False)
        return replies

    def _reply(self, pump: _Pump, status: str, data: str, request: bytes, safe: bool) -> Reply:
        body = f"{pump.address:02d}{status}{data}".encode("ascii")
        if safe:
            crc = crc16_ccitt(body)
            return Reply(bytes([STX, len(body) + 4]), body, bytes([crc >> 8, crc & 0xFF, ETX]), request)
        return Reply(bytes([STX]), body, bytes([ETX]), request)

    # -- pump physics ------------------------------------------------------------------------------
    def _advance(self, pump: _Pump) -> None:
        now = self.bench.now_s()
        if pump.running and pump.safe_timeout_s > 0 and pump.last_packet_s is not None \
                and now - pump.last_packet_s > pump.safe_timeout_s:
            self._finish(pump, pump.last_packet_s + pump.safe_timeout_s, alarm="T")
        if not pump.running:
            return
        moved = pump.rate_ul_min * (now - pump.run_start_s) / 60.0
        if pump.stall_after_ul is not None and moved >= pump.stall_after_ul:
            self._finish(pump, now, alarm="S", moved=pump.stall_after_ul)
        elif moved >= pump.target_ul:
            self._finish(pump, now, moved=pump.target_ul)

    def _finish(self, pump: _Pump, at_s: float, alarm: str | None = None, moved: float | None = None) -> None:
        if moved is None:
            moved = min(pump.target_ul, pump.rate_ul_min * (at_s - pump.run_start_s) / 60.0)
        volume = float(format_number(moved)) if moved < 9999.5 else moved
        pump.running, pump.alarm, pump.stall_after_ul = False, alarm, None
        if pump.direction == "INF":
            pump.infused_ul = pump.run_start_ul + volume
            self.bench.add_to_mixture(pump.stock, volume)
        else:
            pump.withdrawn_ul = pump.run_start_ul + volume
        if pump.record is not None:
            pump.record.dispensed_ul, pump.record.finished_s, pump.record.alarm = volume, at_s, alarm
            self.bench.finish_dispense(pump.record)

    def _status(self, pump: _Pump) -> str:
        if pump.running:
            return "I" if pump.direction == "INF" else "W"
        return "S"

    # -- commands ----------------------------------------------------------------------------------
    def _handle(self, payload: bytes, safe: bool) -> list[Reply]:
        match = _COMMAND.match(payload.decode("ascii", errors="replace"))
        address = int(match.group(1)) if match and match.group(1) else 0
        pump = self.pumps.get(address)
        if pump is None:
            return []  # nobody at that address: silence, as on a real line
        self._advance(pump)
        pump.last_packet_s = self.bench.now_s()
        if match is None:
            data = "?"
        else:
            data = self._execute(pump, match.group(2) or "", match.group(3))
        status = f"A?{pump.alarm}" if pump.alarm is not None else self._status(pump)
        return [self._reply(pump, status, data, payload, safe)]

    def _execute(self, pump: _Pump, command: str, argument: str) -> str:
        handler = getattr(self, f"_cmd_{command.lower()}", None) if command else self._cmd_status
        if handler is None:
            return "?"
        try:
            return handler(pump, argument)
        except ValueError:
            return "?OOR"

    def _cmd_status(self, pump: _Pump, argument: str) -> str:
        return "" if not argument else "?"

    def _cmd_ver(self, pump: _Pump, argument: str) -> str:
        return FIRMWARE

    def _cmd_dia(self, pump: _Pump, argument: str) -> str:
        if not argument:
            return format_number(pump.diameter_mm)
        if pump.running:
            return "?NA"
        value = float(argument)
        if not DIAMETER_RANGE_MM[0] <= value <= DIAMETER_RANGE_MM[1]:
            return "?OOR"
        pump.diameter_mm = value
        return ""

    def _cmd_rat(self, pump: _Pump, argument: str) -> str:
        if not argument:
            return f"{format_number(pump.rate_ul_min)}UM"
        match = re.fullmatch(r"([0-9.]+)(UM|MM|UH|MH)", argument)
        if match is None:
            return "?"
        rate = float(match.group(1)) * RATE_UNITS[match.group(2)]
        low, high = self.limits.rate_range_ul_min(pump.diameter_mm)
        if not low * 0.999 <= rate <= high * 1.001:
            return "?OOR"
        pump.rate_ul_min = rate
        return ""

    def _cmd_vol(self, pump: _Pump, argument: str) -> str:
        if argument in ("UL", "ML"):
            pump.volume_unit = argument
            return ""
        if not argument:
            return f"{format_number(pump.target_ul)}UL"
        value = float(argument) * (1.0 if pump.volume_unit == "UL" else 1000.0)
        if value <= 0:
            return "?OOR"
        pump.target_ul = value
        return ""

    def _cmd_dir(self, pump: _Pump, argument: str) -> str:
        if not argument:
            return pump.direction
        if argument not in ("INF", "WDR", "REV"):
            return "?"
        pump.direction = argument if argument != "REV" else ("WDR" if pump.direction == "INF" else "INF")
        return ""

    def _cmd_run(self, pump: _Pump, argument: str) -> str:
        if pump.running:
            return "?IGN"
        if pump.alarm is not None:
            return "?NA"
        if pump.target_ul <= 0:
            return "?NA"
        pump.running, pump.run_start_s = True, self.bench.now_s()
        pump.run_start_ul = pump.infused_ul if pump.direction == "INF" else pump.withdrawn_ul
        pump.record = self.bench.start_dispense(pump.address, pump.stock, pump.target_ul)
        if self.faults.roll("alarm", b"RUN"):
            pump.stall_after_ul = pump.target_ul * 0.5
        return ""

    def _cmd_stp(self, pump: _Pump, argument: str) -> str:
        pump.alarm = None  # an alarm stays in every reply until the host acknowledges it with STP
        if pump.running:
            self._finish(pump, self.bench.now_s())
        return ""

    def _cmd_dis(self, pump: _Pump, argument: str) -> str:
        if max(pump.infused_ul, pump.withdrawn_ul) < 9999.5:
            return f"I{format_number(pump.infused_ul)}W{format_number(pump.withdrawn_ul)}UL"
        return f"I{format_number(pump.infused_ul / 1e3)}W{format_number(pump.withdrawn_ul / 1e3)}ML"

    def _cmd_cld(self, pump: _Pump, argument: str) -> str:
        if argument == "INF":
            pump.infused_ul = 0.0
        elif argument == "WDR":
            pump.withdrawn_ul = 0.0
        else:
            return "?"
        return ""

    def _cmd_saf(self, pump: _Pump, argument: str) -> str:
        pump.safe_timeout_s = float(int(argument))
        return ""

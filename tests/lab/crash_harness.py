"""Crash tests: SIGKILL a campaign runner at chosen points, resume it each time, and check what is left.

A test harness, not part of the product (it drives the CLI). The engine of `benchmarks/kill_resume.py` and of `tests/lab/test_kill_resume.py`. The runner is the real
CLI (`lab campaign run` / `lab campaign resume`) in a separate process: a `subprocess` of the `lab`
entry point, or (`mode="fork"`, for fast tests) a forked copy of this process calling the same CLI
function. Emulated instruments run in their own process (`lab emulate`) so they, and their dispense
log, outlive every runner.

Kills: `Kill(at="mix.start:2+30")` arms `LAB_KILL_AT` (the runner kills itself at the 2nd mix, 30 ms
in: mid-dispense); `Kill(after_s=0.4)` SIGKILLs the runner 0.4 s after it logged `campaign_start`.
Where each kill landed is read back from the runner's structured log (`lab.log`).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from lab.campaign.events import KILL_ENV
from lab.errors import LabError


@dataclass(frozen=True)
class Kill:
    """Where to kill one runner: at a checkpoint (`LAB_KILL_AT` spec) or after a delay [s]."""

    at: str | None = None
    after_s: float | None = None

    @property
    def label(self) -> str:
        """How the kill was asked for."""
        return self.at if self.at is not None else f"+{self.after_s:g} s"


@dataclass(frozen=True)
class KillOutcome:
    """What one runner did: asked kill, whether it died by SIGKILL, where it was then, its exit code."""

    attempt: int
    asked: str
    killed: bool
    landed: str
    returncode: int
    seconds: float


def _cli_main(args: list[str], env: dict[str, str], log: str | None) -> None:
    """Body of a forked runner: the `lab` CLI with `args` (same code path as the console script)."""
    os.environ.update(env)
    if log is not None:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    from lab.cli import app

    app(args, prog_name="lab")


class CliProcess:
    """A `lab ...` command in its own process (`subprocess` or `fork` mode)."""

    def __init__(self, args: Sequence[str], env: dict[str, str] | None = None, mode: str = "subprocess",
                 log: Path | None = None) -> None:
        self.args = list(args)
        env = dict(env or {})
        if mode == "subprocess":
            out = open(log, "ab") if log is not None else subprocess.DEVNULL
            self._popen = subprocess.Popen([sys.executable, "-c", "from lab.cli import main; main()", *self.args],
                                           env={**os.environ, **env}, stdout=out, stderr=out)
            self._proc = None
            self.pid = self._popen.pid
        elif mode == "fork":
            import lab.cli  # noqa: F401 - imported once here, so every forked runner starts at once

            ctx = multiprocessing.get_context("fork")
            self._popen = None
            self._proc = ctx.Process(target=_cli_main, args=(self.args, env, str(log) if log else None), daemon=False)
            self._proc.start()
            self.pid = self._proc.pid
        else:
            raise LabError(f"mode: {mode!r} is not subprocess or fork")

    def wait(self, timeout_s: float) -> int:
        """Wait for the process (killing it after `timeout_s`); its exit code (-9 after SIGKILL)."""
        if self._popen is not None:
            try:
                return self._popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
                self._popen.wait()
                raise LabError(f"`lab {' '.join(self.args)}` did not finish within {timeout_s:g} s") from None
        self._proc.join(timeout_s)
        if self._proc.exitcode is None:
            self.kill()
            self._proc.join()
            raise LabError(f"`lab {' '.join(self.args)}` did not finish within {timeout_s:g} s")
        return int(self._proc.exitcode)

    def running(self) -> bool:
        """Whether the process is still running."""
        return (self._popen.poll() is None) if self._popen is not None else self._proc.is_alive()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` (SIGKILL by default)."""
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass


@contextmanager
def emulators(config: Path, work: Path, mode: str = "subprocess", seed: int = 0,
              timeout_s: float = 120.0) -> Iterator[tuple[Path, Path]]:
    """Run `lab emulate` for the bench file `config` in its own process; yield (bench file, dispense log)."""
    with emulator_process(config, work, mode, seed, timeout_s) as (bench, dispense_log, _power_cycle):
        yield bench, dispense_log


@contextmanager
def emulator_process(config: Path, work: Path, mode: str = "subprocess", seed: int = 0,
                     timeout_s: float = 120.0, faults: float | None = None
                     ) -> Iterator[tuple[Path, Path, Callable[[], None]]]:
    """Like `emulators`, and a function that power-cycles the emulated pumps (SIGUSR1 to `lab emulate`);
    `faults` is the per-reply fault rate the emulators inject."""
    bench, dispense_log = work / "emulated-bench.yaml", work / "dispense.jsonl"
    bench.unlink(missing_ok=True)
    args = ["emulate", "--config", str(config), "--out", str(bench), "--dispense-log", str(dispense_log),
            "--seed", str(seed)] + (["--faults", str(faults)] if faults is not None else [])
    proc = CliProcess(args, mode=mode, log=work / "emulate.out")
    try:
        deadline = time.monotonic() + timeout_s
        while not bench.exists():
            if not proc.running() or time.monotonic() > deadline:
                raise LabError(f"`lab emulate` did not start (see {work / 'emulate.out'})")
            time.sleep(0.1)
        time.sleep(0.2)  # the file is written whole before the servers answer; give them a moment

        def power_cycle() -> None:
            proc.kill(signal.SIGUSR1)
            time.sleep(0.3)  # the emulator's main thread handles it between two waits

        yield bench, dispense_log, power_cycle
    finally:
        proc.kill(signal.SIGTERM)
        try:
            proc.wait(30.0)
        except LabError:
            pass


def where_killed(log_path: Path, pid: int) -> str:
    """Where runner `pid` was when it died, from its last line in the structured log."""
    last = None
    if log_path.exists():
        for line in log_path.read_text().splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("pid") == pid:
                last = event
    if last is None:
        return "startup"
    kind = last["event"]
    detail = f" {last['state']}" if "state" in last else ""
    if kind == "step_start":
        return f"in {last['step']}{detail}"
    if kind == "step_end":
        return f"after {last['step']}{detail}"
    if kind == "checkpoint":
        return f"at {last['checkpoint']}"
    return f"after {kind}"


def _started(log_path: Path, pid: int) -> bool:
    if not log_path.exists():
        return False
    return any(f'"pid": {pid}, "event": "campaign_start"' in line for line in log_path.read_text().splitlines())


def mid_dispense(dispense_log: Path | None) -> bool:
    """Whether the last pump event of the log is a run whose end nobody has seen yet (the runner died mid-dispense)."""
    if dispense_log is None or not dispense_log.exists():
        return False
    events = [line for line in dispense_log.read_text().splitlines() if '"event": "dispense' in line]
    return bool(events) and '"event": "dispense",' in events[-1]


def run_with_kills(first: Sequence[str], resume: Sequence[str], kills: Sequence[Kill], log_path: Path,
                   mode: str = "subprocess", timeout_s: float = 600.0, output: Path | None = None,
                   dispense_log: Path | None = None,
                   after_kill: Callable[[int], None] | None = None) -> list[KillOutcome]:
    """Run `first`, then `resume` after each kill, one runner per `Kill`; then one last `resume` to finish.

    With the emulators' `dispense_log`, a kill that left a pump run unconfirmed is marked "mid-dispense".
    `after_kill(i)` runs after the i-th killed runner died, before the next starts (e.g. a pump power cycle).

    Returns:
        One outcome per runner (the last is the unkilled one; it must exit 0).
    """
    outcomes = []
    for i, kill in enumerate([*kills, None]):
        args = first if i == 0 else resume
        env = {KILL_ENV: kill.at} if kill is not None and kill.at else {KILL_ENV: ""}
        t0 = time.monotonic()
        proc = CliProcess(args, env, mode, log=output)
        if kill is not None and kill.after_s is not None:
            while proc.running() and not _started(log_path, proc.pid) and time.monotonic() - t0 < timeout_s:
                time.sleep(0.02)
            time.sleep(kill.after_s)
            proc.kill()
        code = proc.wait(timeout_s)
        landed = where_killed(log_path, proc.pid) if code == -9 else "finished" if code == 0 else f"error (exit {code})"
        if code == -9 and mid_dispense(dispense_log):
            landed += " (mid-dispense)"
        outcomes.append(KillOutcome(i + 1, kill.label if kill is not None else "(none: finish)", code == -9, landed,
                                    code, time.monotonic() - t0))
        if kill is not None and after_kill is not None:
            after_kill(i)
    return outcomes

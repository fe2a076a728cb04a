"""Wall time of a campaign day through drivers + emulators, and the injected vs detected fault table.

    python benchmarks/emulated_campaign.py --batch 160 --faults 0 0.05

Runs one day of the P3HT/CNT campaign with simulated stations (direct Python) and with emulated hardware
(each fault rate), in this process, and prints the day's wall time, the time spent in the stations, the
film outcome and, for emulated runs, injected vs detected faults per kind and the double dispenses.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from lab.campaign.config import CampaignConfig
from lab.campaign.runner import run_campaign
from lab.scenarios import build_scenario
from lab.store import Store, sqlite_url

KINDS = ("drop", "corrupt", "alarm", "disconnect")


def _timed_steps(scenario) -> list[float]:
    """Wrap the scenario's station calls to accumulate the seconds spent in them."""
    spent = [0.0]

    def timed(fn):
        def call(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t0
        return call

    scenario.maker.cast = timed(scenario.maker.cast)
    scenario.steps = tuple(type(s)(s.state, timed(s.measure)) for s in scenario.steps)
    return spent


def run(hardware: str, faults: float | None, batch: int, seed: int) -> None:
    config = CampaignConfig(days=1, batch=batch, seed=seed, hardware=hardware, faults=faults)
    scenario = build_scenario(config.scenario, seed, config.thickness_fraction, hardware, None, faults)
    spent = _timed_steps(scenario)
    with tempfile.TemporaryDirectory() as tmp, Store(sqlite_url(Path(tmp) / "lab.sqlite")) as store:
        try:
            result = run_campaign(config, store, scenario=scenario)
        finally:
            scenario.close()
    s, h = result.summary, result.history
    label = hardware if faults is None else f"{hardware} faults={faults}"
    print(f"\n== {label}: day {result.day_seconds[0]:.1f} s, in stations {spent[0]:.1f} s; "
          f"{s['films']} films, {s['measured']} measured, {s['failed']} failed, unique ids {h['sample_id'].is_unique}")
    if "faults" in s:
        f = s["faults"]
        print(f"{'kind':<11}{'injected':>9}{'detected':>9}")
        for kind in KINDS:
            print(f"{kind:<11}{f['injected'][kind]:>9}{f['detected'][kind]:>9}")
        print(f"detected alarms not injected (films the probe cannot contact): {f['detected_not_injected']['alarm']}")
        print(f"double dispenses: {f['double_dispenses']}  audit: {f['dispense_audit']}")
    print("failures:", h.loc[h["status"] == "failed", "failure"].str.slice(0, 60).value_counts().to_dict())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=160)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--faults", type=float, nargs="*", default=[0.0, 0.05])
    args = parser.parse_args()
    run("simulated", None, args.batch, args.seed)
    for rate in args.faults:
        run("emulated", rate, args.batch, args.seed)


if __name__ == "__main__":
    main()

"""Power-loss soak: the runner dies and the pumps are power-cycled (counters reset, alarm raised) >= 20 times.

    python benchmarks/power_loss_soak.py [--days 3] [--batch 24] [--mode subprocess|fork] [--out DIR]

Like `benchmarks/kill_resume.py`, but after every kill the emulated pumps lose power (`lab emulate` on SIGUSR1):
a run in progress stops, the volume counters restart from 0, each pump raises its reset alarm. The kills land
mid-dispense, between steps and mid-write; the power cycles after each of them.

The emulated instruments run in their own process (`lab emulate --dispense-log`), so they and their log
survive every runner. Each runner is `lab campaign run` (the first) or `lab campaign resume` (the others),
killed at a named checkpoint (`LAB_KILL_AT`: before/inside steps, mid-dispense, mid-write of a store
transaction) or after a delay. Finally one resume runs to the end, and the script checks:

- every planned film appears exactly once (none lost, none duplicated), none left in flight;
- no liquid was dispensed twice (the emulators' dispense log against the store);
- the store passes `lab.store.integrity.check_integrity`.

Prints one row per runner (where the kill landed, read back from `lab.log`) and the landing distribution.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lab"))  # the crash-test harness

from crash_harness import Kill, emulator_process, run_with_kills  # noqa: E402
from dispense_audit import audit_dispense_log  # noqa: E402

from drivers.config import example_config_path  # noqa: E402
from lab.campaign.config import CampaignConfig  # noqa: E402
from lab.campaign.cycle import plan_day  # noqa: E402
from lab.store import Store, sqlite_url  # noqa: E402
from lab.store.integrity import check_integrity  # noqa: E402

#: Kill points: mostly mid-dispense (where a power cut hurts), some between steps and mid-write.
KILLS = [Kill(at=f"mix.start:{k}+{ms}") for k, ms in ((1, 8), (1, 20), (2, 12), (1, 35), (2, 5), (1, 15))] + [
    Kill(at="propose.start:1"), Kill(at="commit:start_day:1"), Kill(at="commit:plan_films:1"),
    Kill(at="commit:begin_mixing:1"), Kill(at="mix.start:1+5"), Kill(at="mix.start:1+20"), Kill(at="mix.start:1+40"),
    Kill(at="mix.cast:1"), Kill(at="commit:record_cast:1"), Kill(at="measure.start:2"), Kill(at="measure.read:2"),
    Kill(at="commit:record_reading:3"), Kill(after_s=0.1), Kill(after_s=0.25), Kill(at="mix.start:2+10"),
    Kill(at="commit:record_reading:6"),
    Kill(at="commit:finish_day:1"), Kill(at="propose.start:1"), Kill(at="commit:start_day:1"),
    Kill(at="commit:plan_films:1"),
    Kill(at="mix.start:1+15"), Kill(at="mix.cast:1"), Kill(at="measure.read:4"), Kill(after_s=0.2),
    Kill(at="commit:record_cast:1"), Kill(at="commit:record_reading:2"), Kill(at="finish_day.start:1"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--batch", type=int, default=24)
    parser.add_argument("--droplets", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--mode", choices=("subprocess", "fork"), default="subprocess",
                        help="runners as new interpreters (default) or forked from this one (fast)")
    parser.add_argument("--out", type=Path, default=None, help="work directory (default: a temporary one)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    work = args.out or Path(tempfile.mkdtemp(prefix="power-loss-"))
    work.mkdir(parents=True, exist_ok=True)
    data = yaml.safe_load(example_config_path().read_text())
    for section in ("mixer", "gantry", "source_meter", "spectrometer", "thickness"):
        data[section]["link"]["timeout_s"] = 0.6  # tolerate a loaded machine
    (work / "bench-in.yaml").write_text(yaml.safe_dump(data))
    out = work / "campaign"
    t0 = time.perf_counter()
    with emulator_process(work / "bench-in.yaml", work, mode=args.mode) as (bench, dispense_log, power_cycle):
        first = ["campaign", "run", "--hardware", "hardware", "--hardware-config", str(bench), "--days", str(args.days),
                 "--batch", str(args.batch), "--droplets", str(args.droplets), "--seed", str(args.seed),
                 "--name", "power-loss", "--out", str(out), "-q"]
        outcomes = run_with_kills(first, ["campaign", "resume", "--out", str(out), "-q"], KILLS, out / "lab.log",
                                  mode=args.mode, timeout_s=900, output=work / "runners.out", dispense_log=dispense_log,
                                  after_kill=lambda i: power_cycle())
    print(f"{'#':>3}  {'kill asked':<26} {'killed':<6} {'exit':>4} {'s':>6}  landed")
    for o in outcomes:
        print(f"{o.attempt:>3}  {o.asked:<26} {'yes' if o.killed else 'no':<6} {o.returncode:>4} {o.seconds:>6.1f}  {o.landed}")
    landed = Counter(o.landed.split(" (")[0] if "mid-dispense" not in o.landed else "in mix (mid-dispense)"
                     for o in outcomes if o.killed)
    print("\nwhere the kills landed:")
    for where, n in landed.most_common():
        print(f"  {n:>3}  {where}")
    ok = True
    with Store(sqlite_url(out / "lab.sqlite")) as store:
        (campaign,) = store.campaigns()
        history = store.history(campaign.id)
        config = CampaignConfig(days=args.days, batch=args.batch, droplets_per_recipe=args.droplets)
        planned = sorted(k.sample_id for d in store.days(campaign.id) for _, keys in
                         plan_day(config, d.index, [r.id for r in store.day_recipes(campaign.id, d.index)]) for k in keys)
        integrity = check_integrity(store)
        audit = audit_dispense_log(dispense_log, store, campaign.id)
        checks = {
            "campaign done": campaign.status == "done",
            ">= 20 power cycles": sum(o.killed for o in outcomes) >= 20,
            f"films == days x batch ({args.days * args.batch})": len(history) == args.days * args.batch,
            "every planned film exactly once": sorted(history["sample_id"]) == planned and history["sample_id"].is_unique,
            "no film left in flight": set(history["status"]) <= {"measured", "failed"},
            "no double dispense (emulators' log)": audit.double_dispenses == 0,
            "store integrity": integrity.ok,
        }
        counts = history["status"].value_counts().to_dict()
        interrupted = int(history["failure"].str.contains("interrupted while casting").sum())
        reset = int(history["failure"].str.contains("were reset (power cycle)", regex=False).sum())
        checks["every failed film says why"] = bool(history.loc[history["status"] == "failed", "failure"].str.len().gt(0).all())
    print(f"\nkills: {sum(o.killed for o in outcomes)} of {len(KILLS)} asked; runners: {len(outcomes)}; "
          f"wall {time.perf_counter() - t0:.0f} s")
    print(f"power cycles: {sum(o.killed for o in outcomes)}; films: {counts}; failed as 'interrupted while casting: "
          f"needs inspection': {interrupted} (of which after a pump reset: {reset})")
    print(f"dispense log: {audit.pump_runs} pump runs in {len(audit.mixes)} mixes, {audit.droplets} droplets "
          f"({sum(m.purges for m in audit.mixes)} purges) for {audit.recipes_mixed} recipes mixed, "
          f"{audit.films_given} films given to the maker, {audit.films_cast} cast")
    for name, passed in checks.items():
        ok &= bool(passed)
        print(f"  [{'ok' if passed else 'FAIL'}] {name}")
    for line in integrity.problems + audit.problems:
        print(f"  problem: {line}")
    print(f"work directory: {work}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

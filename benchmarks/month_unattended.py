"""A month unattended: `lab serve` runs 30 daily cycles on an accelerated clock against emulated instruments.

    python benchmarks/month_unattended.py [--days 30] [--batch 12] [--faults 0.02] [--mode fork|subprocess]

The instruments run in their own process (`lab emulate --faults RATE`: dropped, corrupted, alarmed and
disconnected replies at that per-reply rate), so they outlive every runner. The runner is `lab serve` with a
schedule of one day every `--day-seconds` real seconds. It is SIGKILLed once every 3 days (at its third day's
`finish_day` commit, mid-transaction) and started again; once a week (after the kill that crosses a week
boundary) the pumps are power-cycled (counters reset, reset alarm raised). Prints the runners, the kills and
power cycles, then checks: campaign done; every planned film exactly once, none lost or duplicated, none in
flight; every failed film with its reason; no double dispense (the emulators' own log); the integrity check.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--droplets", type=int, default=3)
    parser.add_argument("--faults", type=float, default=0.02)
    parser.add_argument("--day-seconds", type=float, default=1.0, help="real seconds between two days' starts")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--mode", choices=("subprocess", "fork"), default="fork")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    work = args.out or Path(tempfile.mkdtemp(prefix="month-"))
    work.mkdir(parents=True, exist_ok=True)
    data = yaml.safe_load(example_config_path().read_text())
    for section in ("mixer", "gantry", "source_meter", "spectrometer", "thickness"):
        data[section]["link"]["timeout_s"] = 0.6
    (work / "bench-in.yaml").write_text(yaml.safe_dump(data))
    out = work / "campaign"
    kills = [Kill(at="commit:finish_day:3") for _ in range(max(0, (args.days - 1) // 3))]
    week_of_kill = [(3 * (i + 1)) // 7 for i in range(len(kills))]
    cycles_after = {i for i in range(len(kills)) if week_of_kill[i] > (week_of_kill[i - 1] if i else 0)}
    cycled: list[int] = []
    t0 = time.perf_counter()
    with emulator_process(work / "bench-in.yaml", work, mode=args.mode, faults=args.faults) as (bench, log, power):
        campaign_file = work / "campaign.yaml"
        campaign_file.write_text(yaml.safe_dump({
            "scenario": "p3ht-cnt", "days": args.days, "batch": args.batch, "droplets_per_recipe": args.droplets,
            "seed": args.seed, "hardware": "hardware", "hardware_config": str(bench), "name": "month",
            "schedule": {"every_hours": args.day_seconds / 3600.0, "start_now": True}}))

        def after_kill(i: int) -> None:
            if i in cycles_after:
                power()
                cycled.append(i)

        serve = ["serve", "--config", str(campaign_file), "--out", str(out), "-q"]
        outcomes = run_with_kills(serve, serve, kills, out / "lab.log", mode=args.mode, timeout_s=1800,
                                  output=work / "runners.out", dispense_log=log, after_kill=after_kill)
    wall = time.perf_counter() - t0
    print(f"{'#':>3}  {'kill asked':<22} {'killed':<6} {'exit':>4} {'s':>6}  landed")
    for o in outcomes:
        print(f"{o.attempt:>3}  {o.asked:<22} {'yes' if o.killed else 'no':<6} {o.returncode:>4} {o.seconds:>6.1f}  {o.landed}")
    ok = True
    with Store(sqlite_url(out / "lab.sqlite")) as store:
        (campaign,) = store.campaigns()
        history = store.history(campaign.id)
        config = CampaignConfig(days=args.days, batch=args.batch, droplets_per_recipe=args.droplets)
        planned = sorted(k.sample_id for d in store.days(campaign.id) for _, keys in
                         plan_day(config, d.index, [r.id for r in store.day_recipes(campaign.id, d.index)]) for k in keys)
        integrity = check_integrity(store)
        audit = audit_dispense_log(log, store, campaign.id)
        failed = history[history["status"] == "failed"]["failure"]
        reasons = Counter(f.split(":")[0] for f in failed)
        days = store.days(campaign.id)
        checks = {
            "campaign done": campaign.status == "done",
            f"days run: {len(days)} of {args.days}": len(days) == args.days,
            f"films == days x batch ({args.days * args.batch})": len(history) == args.days * args.batch,
            "every planned film exactly once (none lost, none duplicated)": sorted(history["sample_id"]) == planned
            and history["sample_id"].is_unique,
            "no film left in flight": set(history["status"]) <= {"measured", "failed"},
            "every failed film with its reason": bool(failed.str.len().gt(0).all()),
            "no double dispense (emulators' log)": audit.double_dispenses == 0,
            "store integrity clean": integrity.ok,
        }
    print(f"\n{args.days} days x {args.batch} films, faults {args.faults:.0%} per reply, wall {wall:.0f} s; "
          f"runners {len(outcomes)}, kills {sum(o.killed for o in outcomes)}, pump power cycles {len(cycled)} "
          f"(after kills {sorted(i + 1 for i in cycled)})")
    print(f"films: {history['status'].value_counts().to_dict()}; partial days: {sum(d.status == 'partial' for d in days)}")
    print("failures by station: " + ", ".join(f"{k} {v}" for k, v in reasons.most_common()))
    print(f"dispense log: {audit.pump_runs} pump runs, {audit.droplets} droplets, double dispenses {audit.double_dispenses}")
    for name, passed in checks.items():
        ok &= bool(passed)
        print(f"  [{'ok' if passed else 'FAIL'}] {name}")
    for line in integrity.problems + audit.problems:
        print(f"  problem: {line}")
    print(f"work directory: {work}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""The approval gate: a day stops after its proposal; approved (edited) it is cast as approved, rejected it is
proposed again; a crash while it waits loses nothing; `lab serve` waits with the stations closed."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from crash_harness import CliProcess
from lab.campaign.config import CampaignConfig, Schedule
from lab.campaign.control import RunControl
from lab.campaign.events import KILL_ENV
from lab.cli import app
from lab.store import Store, sqlite_url
from lab.store.integrity import check_integrity
from lab.store.schema import Proposal, ProposalRow, Recipe

runner = CliRunner()
RUN = ["campaign", "run", "--days", "2", "--batch", "12", "--droplets", "3", "--seed", "1",
       "--thickness-fraction", "1.0", "--approval", "required", "-q"]
NAMES = ["p3ht", "l_swcnt", "s_swcnt", "mwcnt", "dwcnt"]


def _gate(out: Path) -> list[dict]:
    """A campaign stopped at day 1's gate; its proposal.csv rows."""
    result = runner.invoke(app, [*RUN, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return _rows(out / "day-1" / "proposal.csv")


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _snapshot(out: Path) -> tuple:
    with Store(sqlite_url(out / "lab.sqlite"), read_only=True) as db:
        (c,) = db.campaigns()
        return (c.status, [(d.index, d.status) for d in db.days(c.id)], db.count(Recipe), db.count(Proposal),
                db.count(ProposalRow), [(p.round, p.status) for p in db.campaign_proposals(c.id)])


def test_gate_edit_approve_casts_the_edited_recipes_and_keeps_the_provenance(tmp_path):
    out = tmp_path / "out"
    rows = _gate(out)
    assert [r["row"] for r in rows] == ["1", "2", "3", "4"] and {r["origin"] for r in rows} == {"proposed"}
    assert rows[0]["sample_ids"] == "R01-W01-S1-a R01-W01-S1-b R01-W01-S1-c" and rows[3]["position"] == "4"
    assert {"conductivity_pred", "conductivity_low", "conductivity_high", "p_success", "explore_share"} <= set(rows[0])
    assert [r["explore_share"] for r in rows] == ["1.0"] * 4  # day 1: a space-filling design, nothing modelled
    status = runner.invoke(app, ["campaign", "status", "--out", str(out)])
    assert "awaiting approval" in status.output and "day 1 awaits approval: proposal round 1, 4 recipe(s)" in \
        " ".join(status.output.split())
    before = _snapshot(out)
    assert before[0] == "awaiting approval" and before[1] == [(1, "awaiting approval")] and before[2] == 0

    # bad edits: one line, exit 2, nothing written
    def refused(edit, expected: str) -> None:
        bad = [dict(r) for r in rows]
        edit(bad)
        result = runner.invoke(app, ["campaign", "approve", "--out", str(out), "--edited",
                                     str(_write(tmp_path / "bad.csv", bad))])
        assert result.exit_code == 2 and result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
        assert _snapshot(out) == before

    refused(lambda b: b[1].update(p3ht="120"), "line 3 (row 2): p3ht=120 is outside the allowed range [15, 96.3] %")
    refused(lambda b: b[0].update(p3ht=str(float(b[0]["p3ht"]) + 5)), "line 2 (row 1): sum[")
    refused(lambda b: b[2].update(row="9"), "line 4: row '9' is not a row of day 1's proposal")
    refused(lambda b: b[2].update(row="1"), "line 4: row 1 appears twice")
    refused(lambda b: [r.update(extra="x") for r in b], "unknown column 'extra'")
    ok = [dict(r) for r in rows]
    dispensed = {"p3ht": "40", "l_swcnt": "44.99", "s_swcnt": "0", "mwcnt": "0.01", "dwcnt": "15"}
    refused(lambda b: b[0].update(dispensed), "mwcnt=0.01 is 0.01 uL of a 100 uL mix, below the pumps' minimum")

    # the edit: row 1 changed, row 4 removed, a recipe added by hand (empty row)
    edited = [dict(r) for r in rows[:3]]
    edited[0].update(p3ht="50", l_swcnt="30", s_swcnt="10", mwcnt="5", dwcnt="5")
    added = {k: "" for k in ok[0]} | {"p3ht": "40", "l_swcnt": "45", "s_swcnt": "0", "mwcnt": "0", "dwcnt": "15"}
    edited.append(added)
    result = runner.invoke(app, ["campaign", "approve", "--out", str(out), "--edited",
                                 str(_write(tmp_path / "edited.csv", edited)), "--by", "ana", "--note", "more l-SWCNT"])
    assert result.exit_code == 0, result.output
    assert "day 1 proposal round 1 approved (2 approved, 1 edited, 1 rejected, 1 manual)" in " ".join(result.stderr.split())

    with Store(sqlite_url(out / "lab.sqlite")) as db:
        (c,) = db.campaigns()
        assert [(d.index, d.status) for d in db.days(c.id)] == [(1, "done"), (2, "awaiting approval")]
        cast = [r.values for r in db.day_recipes(c.id, 1)]
        expected = [{n: float(e[n]) for n in NAMES} for e in edited]
        assert cast == expected  # the stations cast exactly the approved recipes, in the file's order
        history = db.history(c.id)
        assert len(history) == 12 and history.groupby("recipe_id").size().tolist() == [3, 3, 3, 3]
        (p1,) = db.day_proposals(c.id, 1)
        assert (p1.status, p1.decided_by, p1.note) == ("approved", "ana", "more l-SWCNT")
        assert p1.decided_at is not None
        assert {k: p1.changes[k] for k in ("approved", "edited", "rejected", "manual")} == \
            {"approved": 2, "edited": 1, "rejected": 1, "manual": 1}
        assert p1.changes["edits"]["1"]["p3ht"] == [float(rows[0]["p3ht"]), 50.0]
        outcomes = [(r.row, r.origin, r.outcome, r.recipe_id is not None) for r in p1.rows]
        assert outcomes == [(1, "proposed", "edited", True), (2, "proposed", "approved", True),
                            (3, "proposed", "approved", True), (4, "proposed", "rejected", False),
                            (5, "manual", "approved", True)]
        assert p1.rows[4].final == expected[3] and p1.rows[3].final == {}
        assert check_integrity(db).ok, check_integrity(db).problems
    day2 = _rows(out / "day-2" / "proposal.csv")  # day 2 waits in turn, now with the model's view
    assert len(day2) == 4 and all(float(r["conductivity_low"]) <= float(r["conductivity_pred"]) <=
                                  float(r["conductivity_high"]) for r in day2)
    assert all(0.0 <= float(r["p_success"]) <= 1.0 and abs(float(r["exploit_share"]) + float(r["explore_share"]) - 1)
               < 1e-3 for r in day2)
    # approve as proposed: the campaign finishes; approving again is refused (nothing waits)
    assert runner.invoke(app, ["campaign", "approve", "--out", str(out), "--by", "ana"]).exit_code == 0
    again = runner.invoke(app, ["campaign", "approve", "--out", str(out)])
    assert again.exit_code == 2 and again.stderr.count("\n") == 1
    assert "no day awaits approval (day 2 is done)" in again.stderr
    with Store(sqlite_url(out / "lab.sqlite")) as db:
        (c,) = db.campaigns()
        assert c.status == "done" and [d.status for d in db.days(c.id)] == ["done", "done"]
        assert [r.values for r in db.day_recipes(c.id, 2)] == \
            [{n: float(r[n]) for n in NAMES} for r in day2]


def test_reject_proposes_again_keeping_the_pinned_rows(tmp_path):
    out = tmp_path / "out"
    rows = _gate(out)
    pin = _write(tmp_path / "pin.csv", [rows[2]])
    bad = _write(tmp_path / "badpin.csv", [dict(rows[2], dwcnt="-1")])
    refused = runner.invoke(app, ["campaign", "reject", "--out", str(out), "--pin", str(bad)])
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1 and "dwcnt=-1 is outside" in refused.stderr
    result = runner.invoke(app, ["campaign", "reject", "--out", str(out), "--pin", str(pin), "--by", "bo",
                                 "--note", "too little l-SWCNT"])
    assert result.exit_code == 0, result.output
    again = _rows(out / "day-1" / "proposal.csv")
    assert [r["origin"] for r in again] == ["pinned", "proposed", "proposed", "proposed"]
    assert {n: float(again[0][n]) for n in NAMES} == {n: float(rows[2][n]) for n in NAMES}
    old = {tuple(round(float(r[n]), 6) for n in NAMES) for r in rows}
    assert not old & {tuple(round(float(r[n]), 6) for n in NAMES) for r in again[1:]}  # a new proposal
    with Store(sqlite_url(out / "lab.sqlite")) as db:
        (c,) = db.campaigns()
        r1, r2 = db.day_proposals(c.id, 1)
        assert (r1.status, r1.decided_by, r1.note, r1.round) == ("rejected", "bo", "too little l-SWCNT", 1)
        assert [r.outcome for r in r1.rows] == ["rejected"] * 4 and len(r1.changes["pins"]) == 1
        assert (r2.status, r2.round) == ("pending", 2) and r2.diagnostics["seed"] != r1.diagnostics["seed"]
        assert db.days(c.id)[0].status == "awaiting approval" and db.day_recipes(c.id, 1) == []


def test_a_crash_while_a_day_awaits_approval_loses_nothing(tmp_path):
    out = tmp_path / "out"
    log = tmp_path / "runner.out"
    # the runner dies as it stores the proposal: nothing stored; resumed, it proposes the same and waits
    first = CliProcess([*RUN, "--out", str(out)], {KILL_ENV: "commit:propose_day:1"}, mode="fork", log=log)
    assert first.wait(120) == -9
    with Store(sqlite_url(out / "lab.sqlite")) as db:
        (c,) = db.campaigns()
        assert db.days(c.id) == []
    assert runner.invoke(app, ["campaign", "resume", "--out", str(out), "-q"]).exit_code == 0
    proposal = (out / "day-1" / "proposal.csv").read_bytes()
    # the approval dies as it commits: nothing recorded; a resumed runner waits again, with the same proposal
    approve = CliProcess(["campaign", "approve", "--out", str(out), "--by", "ana"],
                         {KILL_ENV: "commit:approve_proposal:1"}, mode="fork", log=log)
    assert approve.wait(120) == -9
    (out / "day-1" / "proposal.csv").unlink()  # even the file a person reviews can be written again
    before = _snapshot(out)
    assert before[1] == [(1, "awaiting approval")] and before[2] == 0 and before[5] == [(1, "pending")]
    resumed = runner.invoke(app, ["campaign", "resume", "--out", str(out)])
    assert resumed.exit_code == 0 and "day 1 awaits approval" in " ".join(resumed.stderr.split())
    assert (out / "day-1" / "proposal.csv").read_bytes() == proposal and _snapshot(out) == before
    done = runner.invoke(app, ["campaign", "approve", "--out", str(out), "--by", "ana"])
    assert done.exit_code == 0, done.output
    with Store(sqlite_url(out / "lab.sqlite")) as db:
        (c,) = db.campaigns()
        assert [d.status for d in db.days(c.id)] == ["done", "awaiting approval"] and check_integrity(db).ok


class _Clock:
    """A clock that moves only when slept on; each sleep may act (here: the scientist's decision)."""

    def __init__(self, start: datetime, on_sleep) -> None:
        self.t, self.on_sleep = start, on_sleep

    def now(self) -> datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)
        self.on_sleep()


def test_serve_waits_for_approval_with_the_stations_closed(tmp_path, monkeypatch):
    from lab.campaign import runner as runner_module
    from lab.campaign.serve import serve_campaign

    open_scenarios: list = []
    real_build = runner_module.build_scenario

    def build(*args, **kwargs):
        scenario = real_build(*args, **kwargs)
        close = scenario.close
        open_scenarios.append(scenario)

        def closed() -> None:
            open_scenarios.remove(scenario)
            close()

        scenario.close = closed
        return scenario

    monkeypatch.setattr(runner_module, "build_scenario", build)
    out = tmp_path / "out"
    out.mkdir()
    decisions: list[str] = []

    def decide() -> None:
        with Store(sqlite_url(out / "lab.sqlite")) as db:
            (c,) = db.campaigns()
            if c.status != "awaiting approval":  # the schedule's wait between days
                return
            assert db.lock_info(c.id) is not None  # the server keeps the campaign's lock ...
        assert open_scenarios == []  # ... but holds no station (no instrument) while a person decides
        verb = "reject" if not decisions else "approve"
        result = runner.invoke(app, ["campaign", verb, "--out", str(out), "--by", "ana"])
        assert result.exit_code == 0 and "carries on" in result.stderr  # the server's runner holds the lock
        decisions.append(verb)

    config = CampaignConfig(days=2, batch=6, droplets_per_recipe=3, seed=3, strategy="random", name="served",
                            approval="required", schedule=Schedule(every_hours=1))
    clock = _Clock(datetime.now().astimezone(), decide)
    with Store(sqlite_url(out / "lab.sqlite")) as store:
        result, _gate = serve_campaign(config, store, control=RunControl(outputs=out), clock=clock, poll_s=3600.0)
        assert result.status == "done" and len(result.history) == 12
        rounds = [(p.day, p.round, p.status) for p in store.campaign_proposals(result.campaign_id)]
    assert decisions == ["reject", "approve", "approve"]
    assert rounds == [(1, 1, "rejected"), (1, 2, "approved"), (2, 1, "approved")]
    assert open_scenarios == []

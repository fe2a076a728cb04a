"""Resume machinery in one process: the campaign lock, clean stops, quarantine, integrity checks, status."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest
from typer.testing import CliRunner

from lab.campaign.config import CampaignConfig, Schedule, load_campaign_config
from lab.campaign.cycle import RunControl
from lab.campaign.lock import lock_is_stale
from lab.campaign.runner import resume_campaign, run_campaign
from lab.cli import app
from lab.errors import CampaignLocked, ConfigError
from lab.records import Reading
from lab.scenarios import MeasurementStep, build_scenario
from lab.store import Store
from lab.store.integrity import check_integrity
from lab.store.locks import LockInfo
from lab.store.schema import Film, Measurement

runner = CliRunner()
SMALL = dict(days=1, batch=6, droplets_per_recipe=3, seed=1, strategy="random")


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _store(url: str) -> Store:
    return Store(url)


def test_a_second_runner_is_refused_and_a_dead_runners_lock_is_taken_over(store_url):
    with _store(store_url) as store:
        cid = store.create_campaign("c", "p3ht-cnt", 1, CampaignConfig(**SMALL, name="c").model_dump(mode="json"))
        host = socket.gethostname()
        store.acquire_lock(cid, "other-runner", host, os.getpid(), lambda info: False)  # a live runner (this pid)
        with pytest.raises(CampaignLocked, match=rf"being run by pid {os.getpid()} on {host}"):
            resume_campaign(store, cid)
        result = runner.invoke(app, ["campaign", "resume", "--store", store_url])
        assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "being run by pid" in result.stderr
        assert store.campaign(cid).status == "starting" and store.days(cid) == []  # nothing was touched
        # the holder dies: its pid is gone on this host -> stale, taken over, the campaign finishes
        store.release_lock(cid, "other-runner")
        store.acquire_lock(cid, "dead-runner", host, _dead_pid(), lambda info: False)
        done = resume_campaign(store, cid)
        assert done.status == "done" and len(done.history) == 6 and store.lock_info(cid) is None


def test_staleness_by_pid_on_this_host_and_by_heartbeat_elsewhere():
    import time

    now = time.time()
    here = socket.gethostname()
    assert not lock_is_stale(LockInfo(1, "o", here, os.getpid(), now, now, False), 60.0)
    assert lock_is_stale(LockInfo(1, "o", here, _dead_pid(), now, now, False), 60.0)
    assert not lock_is_stale(LockInfo(1, "o", "elsewhere", 1, now, now - 10, False), 60.0)
    assert lock_is_stale(LockInfo(1, "o", "elsewhere", 1, now, now - 61, False), 60.0)


def test_stop_finishes_the_step_and_leaves_a_resumable_campaign(store_url):
    control = RunControl()
    stops = []

    def on_progress(day, done, total):
        if done == 1:
            control.stop.set()  # as SIGTERM / `lab campaign stop` would
            stops.append(done)

    with _store(store_url) as store:
        result = run_campaign(CampaignConfig(**{**SMALL, "days": 2}), store, on_progress=on_progress, control=control)
        assert result.status == "stopped" and stops == [1]
        cid = result.campaign_id
        assert store.campaign(cid).status == "stopped" and store.lock_info(cid) is None
        states = store.film_states(cid)
        assert (states["status"] == "measured").sum() + (states["status"] == "failed").sum() == 3
        assert (states["status"] == "planned").sum() == 3  # the second recipe was never started
        assert check_integrity(store).ok
        status = runner.invoke(app, ["campaign", "status", "--store", store_url])
        assert status.exit_code == 0 and "stopped" in status.output and "no runner" in status.output
        done = resume_campaign(store, cid)
        assert done.status == "done" and len(done.history) == 12 and done.summary["days_done"] == 2
        assert check_integrity(store).ok


def test_a_failing_station_is_retried_then_quarantined_and_the_day_ends_partial(store_url):
    scenario = build_scenario("p3ht-cnt", 1)
    calls = []

    def broken(film):
        calls.append(film)
        raise OSError("spectrometer unplugged")

    scenario.steps = (MeasurementStep("optical", broken, ("absorbance_525",)), *scenario.steps[1:])
    config = CampaignConfig(**{**SMALL, "batch": 12}, retries=1, quarantine_after=2)
    with _store(store_url) as store:
        result = run_campaign(config, store, scenario=scenario)
        h = result.history
        assert len(calls) == 2 * 2  # two films, each tried twice, then the station is quarantined
        assert h["failure"].str.startswith("optical station: failed after 2 attempt(s): OSError").sum() == 2
        quarantined = h["failure"].str.contains("station quarantined: optical failed 2 times in a row")
        assert quarantined.sum() == 12 - 2 - h["failure"].str.startswith("drop-casting").sum()
        (day,) = store.days(result.campaign_id)
        assert day.status == "partial" and "optical" in day.quarantined
        assert result.summary["partial_days"] == [1]
        assert check_integrity(store).ok


def test_integrity_check_finds_broken_rows(store_url):
    with _store(store_url) as store:
        result = run_campaign(CampaignConfig(**SMALL), store)
        assert check_integrity(store).ok
        with store._sessions() as s, s.begin():  # noqa: SLF001 - break the store on purpose
            film = s.query(Film).filter(Film.status == "measured").first()
            s.query(Measurement).filter(Measurement.film_id == film.id, Measurement.quantity == "sheet_resistance").delete()
            other = s.query(Film).filter(Film.id != film.id).first()
            other.status = "optical"
        problems = check_integrity(store, result.campaign_id).problems
        assert any(f"film {film.sample_id}: measured but missing measurement(s) ['sheet_resistance']" in p
                   for p in problems)
        assert any("done with films in flight" in p for p in problems)


def test_campaign_file_is_validated_with_the_field_named(tmp_path):
    path = tmp_path / "campaign.yaml"
    path.write_text("scenario: p3ht-cnt\ndays: 3\nbatch: 12\nschedule: {daily_at: '07:30'}\n")
    config = load_campaign_config(path)
    assert config.days == 3 and config.schedule == Schedule(daily_at="07:30")
    path.write_text("days: 3\nschedule: {every_hours: 0}\n")
    with pytest.raises(ConfigError, match="schedule.every_hours"):
        load_campaign_config(path)
    path.write_text("days: 3\nhardware: hardware\n")
    with pytest.raises(ConfigError, match="hardware_config"):
        load_campaign_config(path)
    result = runner.invoke(app, ["campaign", "start", "--config", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "hardware_config" in result.stderr


def test_readings_after_a_restart_are_not_taken_twice(store_url):
    """A film measured by optical before a crash resumes at the conductivity station only."""
    scenario = build_scenario("p3ht-cnt", 1)
    seen: list[tuple[str, str]] = []
    steps = []
    for step in scenario.steps:
        def measure(film, step=step) -> Reading:
            seen.append((film.sample_id, step.state))
            if step.state == "conductivity" and len(seen) == 4:
                raise KeyboardInterrupt  # the runner dies between two readings of one film
            return step.measure(film)
        steps.append(MeasurementStep(step.state, measure, step.quantities))
    scenario.steps = tuple(steps)
    with _store(store_url) as store:
        with pytest.raises(KeyboardInterrupt):
            run_campaign(CampaignConfig(**SMALL), store, scenario=scenario)
        cid = store.campaigns()[0].id
        assert store.campaign(cid).status == "failed"
        seen.clear()
        done = resume_campaign(store, cid, scenario=scenario)
        assert done.status == "done" and len(done.history) == 6
        first = seen[0]
        assert first[1] == "conductivity"  # the film already read optically goes straight on
        assert len(seen) == len(set(seen))
        assert check_integrity(store).ok

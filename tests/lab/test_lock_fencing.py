"""Lock fencing (audit finding 1) and a stop that never signals a stranger (finding 8), each reproduced."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lab.campaign.config import CampaignConfig
from lab.campaign.lock import CampaignLockHolder, lock_is_stale, owner_token, process_start_time
from lab.cli import app
from lab.errors import CampaignLocked, LockLost
from lab.records import FilmKey
from lab.store import RecipeRecord, Store, sqlite_url
from lab.store.locks import LockInfo

HOST = socket.gethostname()


def _store(tmp_path: Path) -> tuple[Store, int]:
    store = Store(sqlite_url(tmp_path / "lab.sqlite"))
    cid = store.create_campaign("c", "p3ht-cnt", 0, CampaignConfig(days=1, batch=6, name="c").model_dump(mode="json"))
    return store, cid


def test_a_live_runner_on_this_host_is_never_stale_however_old_its_heartbeat() -> None:
    hour_ago = time.time() - 3600  # host suspended, or the clock stepped
    mine = LockInfo(1, owner_token(), HOST, os.getpid(), hour_ago, hour_ago, False)
    assert not lock_is_stale(mine, 60.0)


def test_a_reused_pid_is_not_the_runner(tmp_path: Path) -> None:
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        now = time.time()
        lock = LockInfo(1, "feedc0de@1", HOST, stranger.pid, now, now, False)  # the runner's start time was 1
        assert process_start_time(stranger.pid) != "1"
        assert lock_is_stale(lock, 60.0)
    finally:
        stranger.kill()
        stranger.wait()


def test_a_second_runner_cannot_take_over_a_live_runner_with_an_old_heartbeat(tmp_path: Path) -> None:
    store, cid = _store(tmp_path)
    with store, CampaignLockHolder(store, cid, threading.Event(), heartbeat_s=3600):
        with store._transaction("age") as s:  # the heartbeat is an hour old by the store's clock
            from lab.store.schema import CampaignLock

            s.get(CampaignLock, cid).heartbeat_s -= 3600
        other = Store(store.url)
        with pytest.raises(CampaignLocked):
            CampaignLockHolder(other, cid, threading.Event()).__enter__()
        other.close()


def test_a_runner_whose_lock_was_taken_writes_nothing(tmp_path: Path) -> None:
    store, cid = _store(tmp_path)
    with store:
        holder = CampaignLockHolder(store, cid, threading.Event(), heartbeat_s=3600).__enter__()
        store.start_day(cid, 1, "random", [RecipeRecord(values={"p3ht": 100.0})])
        # another runner takes the lock over behind this one's back (what a wrong staleness verdict did)
        intruder = Store(store.url)
        intruder.release_lock(cid, holder.owner)
        intruder.acquire_lock(cid, "intruder@na", "elsewhere", 1, lambda info: True)
        before = store.history(cid)
        with pytest.raises(LockLost, match="no longer holds the lock"):
            store.plan_films(cid, [(FilmKey(1, 1, 1, "a"), store.day_recipes(cid, 1)[0].id)])
        assert store.day_recipes(cid, 1)[0].films == [] and store.history(cid).equals(before)
        holder.lost = True
        holder.__exit__(None, None, None)
        intruder.close()


def test_heartbeats_use_the_store_clock(tmp_path: Path) -> None:
    store, cid = _store(tmp_path)
    with store, CampaignLockHolder(store, cid, threading.Event()):
        info = store.lock_info(cid)
        assert info.read_s is not None and abs(info.read_s - time.time()) < 5 and info.age_s() < 5


def test_stop_never_signals_a_process_that_is_not_the_runner(tmp_path: Path) -> None:
    store, cid = _store(tmp_path)
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        with store:
            store.acquire_lock(cid, "deadbeef@1", HOST, stranger.pid, lambda info: False)  # a dead runner's lock
        result = CliRunner().invoke(app, ["campaign", "stop", "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert "stale" in result.output
        time.sleep(0.2)
        assert stranger.poll() is None  # still running: not killed
    finally:
        stranger.kill()
        stranger.wait()

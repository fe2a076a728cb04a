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
from lab.store import RecipeRecord, Store
from lab.store.locks import LockInfo

HOST = socket.gethostname()


def _store(url: str) -> tuple[Store, int]:
    store = Store(url)
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


def test_a_second_runner_cannot_take_over_a_live_runner_with_an_old_heartbeat(store_url: str) -> None:
    store, cid = _store(store_url)
    with store, CampaignLockHolder(store, cid, threading.Event(), heartbeat_s=3600):
        with store._transaction("age") as s:  # the heartbeat is an hour old by the store's clock
            from lab.store.schema import CampaignLock

            s.get(CampaignLock, cid).heartbeat_s -= 3600
        other = Store(store.url)
        with pytest.raises(CampaignLocked):
            CampaignLockHolder(other, cid, threading.Event()).__enter__()
        other.close()


def test_a_runner_whose_lock_was_taken_writes_nothing(store_url: str) -> None:
    store, cid = _store(store_url)
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


def test_heartbeats_use_the_store_clock(store_url: str) -> None:
    store, cid = _store(store_url)
    with store, CampaignLockHolder(store, cid, threading.Event()):
        info = store.lock_info(cid)
        assert info.read_s is not None and abs(info.read_s - time.time()) < 5 and info.age_s() < 5


def test_stop_never_signals_a_process_that_is_not_the_runner(store_url: str) -> None:
    store, cid = _store(store_url)
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        with store:
            store.acquire_lock(cid, "deadbeef@1", HOST, stranger.pid, lambda info: False)  # a dead runner's lock
        result = CliRunner().invoke(app, ["campaign", "stop", "--store", store_url])
        assert result.exit_code == 0, result.output
        assert "stale" in result.output
        time.sleep(0.2)
        assert stranger.poll() is None  # still running: not killed
    finally:
        stranger.kill()
        stranger.wait()


def test_a_takeover_waits_for_the_holders_write_to_commit_whole(store_url: str) -> None:
    """The fence's read of the lock row (PostgreSQL: FOR SHARE) holds a takeover off until the write commits."""
    paused, carry_on = threading.Event(), threading.Event()

    def hook(name: str) -> None:  # inside plan_films' transaction, after the fence check, before the commit
        if name == "plan_films":
            paused.set()
            carry_on.wait(30)

    store, cid = _store(store_url)
    store.close()
    holder_store = Store(store_url, before_commit=hook)
    intruder = Store(store_url)
    taken: list[float] = []
    with holder_store, intruder:
        holder = CampaignLockHolder(holder_store, cid, threading.Event(), heartbeat_s=3600).__enter__()
        holder_store.start_day(cid, 1, "random", [RecipeRecord(values={"p3ht": 100.0})])
        rid = holder_store.day_recipes(cid, 1)[0].id
        writer = threading.Thread(target=holder_store.plan_films, args=(cid, [(FilmKey(1, 1, 1, "a"), rid)]))
        writer.start()
        assert paused.wait(30)

        def take_over() -> None:
            intruder.acquire_lock(cid, "intruder@na", "elsewhere", 1, lambda info: True)
            taken.append(time.monotonic())

        thief = threading.Thread(target=take_over)
        thief.start()
        time.sleep(1.0)
        assert not taken  # blocked behind the holder's open write
        released = time.monotonic()
        carry_on.set()
        writer.join(30)
        thief.join(30)
        assert taken and taken[0] >= released
        assert intruder.lock_info(cid).owner == "intruder@na"
        assert [f.key.droplet for f in intruder.day_recipes(cid, 1)[0].films] == ["a"]  # the write landed whole
        with pytest.raises(LockLost):
            holder_store.plan_films(cid, [(FilmKey(1, 1, 1, "b"), rid)])
        holder.lost = True
        holder.__exit__(None, None, None)

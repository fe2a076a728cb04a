"""The light status reader returns exactly what `Store` returns, for SQLite stores at head, and defers otherwise."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from lab.errors import StoreError
from lab.records import CastResult, FilmKey
from lab.store import RecipeRecord, Store, sqlite_url
from lab.store.proposals import ProposedRow
from lab.store.status_reader import SQLiteStatusReader, open_status_reader

FIXTURE = Path(__file__).parent / "data" / "store_release_0_1.sqlite"


def _store_with_everything(url: str) -> None:
    """Two campaigns: one with a finished day (cast and failed films), a running day with a quarantined
    station, a lock; another whose day 1 awaits approval (its second proposal round)."""
    with Store(url) as store:
        cid = store.create_campaign("one", "p3ht-cnt", 3, {"days": 4, "batch": 2}, {"states": ["optical"]})
        day_id, recipes = store.start_day(cid, 1, "random", [RecipeRecord({"a": 0.25, "b": 0.75}),
                                                             RecipeRecord({"a": 0.5, "b": 0.5})])
        films = [FilmKey(1, 1, slot, d) for slot in range(2) for d in "ab"]
        store.plan_films(cid, [(f, recipes[f.sample]) for f in films])
        store.record_cast(cid, [CastResult(films[0], "maker", {"a": 1.0}),
                                CastResult(films[1], "maker", failure="clogged tip")])
        store.finish_day(day_id, "done", busy_s=12.5)
        store.start_day(cid, 2, "default", [RecipeRecord({"a": 0.1, "b": 0.9})])
        store.quarantine(cid, 2, "optical", [], "lamp failed")
        store.acquire_lock(cid, "owner@na", socket.gethostname(), os.getpid(), lambda info: False)
        other = store.create_campaign("two", "electrode", 4, {"days": 2}, None)
        store.propose_day(other, 1, "default", [ProposedRow({"a": 0.3, "b": 0.7}), ProposedRow({"a": 0.6, "b": 0.4})])
        store.reject_proposal(other, 1, by="ana", note="too much a", pins=[])
        store.repropose_day(other, 1, "default", [ProposedRow({"a": 0.2, "b": 0.8})])


def test_the_light_reader_reads_what_the_store_reads(tmp_path):
    url = sqlite_url(tmp_path / "lab.sqlite")
    _store_with_everything(url)
    before = (tmp_path / "lab.sqlite").read_bytes()
    with Store(url, create=False) as store, open_status_reader(url) as light:
        assert isinstance(light, SQLiteStatusReader)
        assert light.campaigns() == store.campaigns()
        for info in store.campaigns():
            assert light.days(info.id) == store.days(info.id)
            assert light.film_counts(info.id) == store.film_counts(info.id)
            assert light.proposal_summary(info.id, 1) == store.proposal_summary(info.id, 1)
            heavy_lock, light_lock = store.lock_info(info.id), light.lock_info(info.id)
            assert (heavy_lock is None) == (light_lock is None)
            if heavy_lock is not None:  # the same row, each read with the store's clock at its own moment
                assert light_lock.owner == heavy_lock.owner and light_lock.pid == heavy_lock.pid
                assert light_lock.heartbeat_s == heavy_lock.heartbeat_s
                assert abs(light_lock.read_s - heavy_lock.read_s) < 5.0
    with open_status_reader(url) as light:
        one, two = light.campaigns()
        assert (one.name, one.config, one.route) == ("one", {"days": 4, "batch": 2}, {"states": ["optical"]})
        assert light.film_counts(one.id) == {1: {"cast": 1, "failed": 1, "planned": 2}}
        assert [(d.status, d.busy_s, d.quarantined) for d in light.days(one.id)] == [
            ("done", 12.5, {}), ("running", 0.0, {"optical": "lamp failed"})]
        assert light.lock_info(one.id).owner == "owner@na" and light.lock_info(two.id) is None
        summary = light.proposal_summary(two.id, 1)
        assert (summary.round, summary.status, summary.rows) == (2, "pending", 1)
        assert light.proposal_summary(two.id, 5) is None
    assert (tmp_path / "lab.sqlite").read_bytes() == before  # read-only: not a byte changed


def test_a_store_the_light_reader_cannot_take_is_refused_as_the_store_refuses_it(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    with pytest.raises(StoreError, match="empty"):
        open_status_reader(sqlite_url(empty))
    with pytest.raises(StoreError, match="no campaign store"):
        open_status_reader(sqlite_url(tmp_path / "missing.sqlite"))
    old = tmp_path / "old.sqlite"  # release 0.1 wrote no revision: the store's own refusal, word for word
    shutil.copy(FIXTURE, old)
    with pytest.raises(StoreError) as heavy:
        Store(sqlite_url(old), create=False, read_only=False)
    with pytest.raises(StoreError) as light:
        open_status_reader(sqlite_url(old))
    assert str(light.value) == str(heavy.value) and "lab store upgrade" in str(light.value)

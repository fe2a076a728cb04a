"""Outputs are written whole or not at all, and a full disk is named (audit finding 15)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from lab.errors import OutputError, StoreError
from lab.files import write_atomic
from lab.store import Store, sqlite_url


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path: Path, monkeypatch) -> None:
    target = write_atomic(tmp_path / "summary.json", '{"days": 1}')

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match=r"summary.json: No space left on device; the previous file"):
        write_atomic(target, '{"days": 2, "much": "more"}')
    assert target.read_text() == '{"days": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temp file left behind


def test_a_full_disk_under_the_store_is_named(tmp_path: Path, monkeypatch) -> None:
    with Store(sqlite_url(tmp_path / "lab.sqlite")) as store:
        from sqlalchemy.orm import Session

        def disk_full(self) -> None:
            raise OperationalError("COMMIT", {}, Exception("database or disk is full"))

        monkeypatch.setattr(Session, "commit", disk_full)
        with pytest.raises(StoreError, match="database or disk is full"):
            store.create_campaign("c", "p3ht-cnt", 0, {})


def test_outputs_get_the_mode_a_plain_open_gives(tmp_path: Path) -> None:
    """Reproduces an audit finding: history.csv and report.html were 0600 (mkstemp's mode), unreadable to the group."""
    import stat

    old = os.umask(0o022)
    try:
        path = write_atomic(tmp_path / "history.csv", "a,b\n")
        plain = tmp_path / "plain.csv"
        plain.write_text("a,b\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == 0o644

"""Schema revisions (Alembic): new stores at head, release-0.1 stores recognised, upgrades whole or not at all."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from lab.cli import app
from lab.errors import StoreError
from lab.store import Store, sqlite_url
from lab.store import revision_ids, revisions
from lab.store.integrity import check_integrity
from lab.store.revision_ids import BASELINE_TABLES, MIGRATIONS, Migrations
from lab.store.revisions import head_of_scripts, known_revisions
from lab.store.schema import Base

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
FIXTURE = DATA / "store_release_0_1.sqlite"
runner = CliRunner()


def _fixture_contents():
    spec = importlib.util.spec_from_file_location("make_store_fixture", DATA / "make_store_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.contents


def _with_0003(monkeypatch, kind: str = "ok") -> None:
    """This release, plus a test-only revision 0003 (`ok`: films gain `note`; `broken`: fails halfway)."""
    monkeypatch.setattr(revision_ids, "MIGRATIONS", Migrations(extra_versions=(str(DATA / "migrations" / kind),),
                                                            head="0003"))


def _revision(url: str) -> list[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as c:
            if not inspect(c).has_table("alembic_version"):
                return []
            return list(c.execute(text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        engine.dispose()


def _schema(url: str) -> dict:
    """Tables as the database describes them: columns (type, nullable), keys, unique and check constraints."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as c:
            ins = inspect(c)
            out = {}
            for t in sorted(set(ins.get_table_names()) - {"alembic_version"}):
                out[t] = {
                    "columns": [(col["name"], str(col["type"]), col["nullable"]) for col in ins.get_columns(t)],
                    "pk": ins.get_pk_constraint(t)["constrained_columns"],
                    "fks": sorted((tuple(fk["constrained_columns"]), fk["referred_table"],
                                   tuple(fk["referred_columns"])) for fk in ins.get_foreign_keys(t)),
                    "unique": sorted(tuple(u["column_names"]) for u in ins.get_unique_constraints(t)),
                    "checks": sorted(re.sub(r"\W", "", ck["sqltext"]) for ck in ins.get_check_constraints(t)),
                }
            return out
    finally:
        engine.dispose()


def _create_all(url: str, release_0_1: bool = True) -> None:
    """Write the tables by `create_all`, no revision recorded: release 0.1's tables (as it did), or this release's."""
    engine = create_engine(url, poolclass=NullPool)
    tables = [Base.metadata.tables[t] for t in sorted(BASELINE_TABLES)] if release_0_1 else None
    Base.metadata.create_all(engine, tables=tables)
    engine.dispose()


def test_the_head_named_in_code_is_the_scripts_head():
    assert MIGRATIONS.head == head_of_scripts() and MIGRATIONS.baseline in known_revisions()


def test_a_new_store_is_made_at_head_with_exactly_the_release_tables(store_url, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    Store(store_url).close()
    assert _revision(store_url) == [MIGRATIONS.head]
    if store_url.startswith("sqlite"):
        legacy = sqlite_url(tmp_path / "legacy.sqlite")
        _create_all(legacy, release_0_1=False)
        assert _schema(store_url) == _schema(legacy)
        assert set(_schema(store_url)) == set(Base.metadata.tables) > BASELINE_TABLES
    engine = create_engine(store_url, poolclass=NullPool)
    with engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []
    engine.dispose()


def test_on_postgres_the_baseline_equals_what_release_0_1_created(store_url):
    if not store_url.startswith("postgresql"):
        pytest.skip("the SQLite case is in test_a_new_store_is_made_at_head_with_exactly_the_release_tables")
    from tests.lab.conftest import postgres_schema

    Store(store_url).close()
    with postgres_schema() as legacy:
        _create_all(legacy, release_0_1=False)
        assert _schema(store_url) == _schema(legacy) and set(_schema(legacy)) == set(Base.metadata.tables)
    with postgres_schema() as legacy:
        _create_all(legacy)
        assert set(_schema(legacy)) == BASELINE_TABLES


def test_a_release_0_1_store_is_the_baseline_and_is_stamped_when_upgraded(store_url, tmp_path):
    _create_all(store_url)
    digest = hashlib.sha256(FIXTURE.read_bytes()).hexdigest()
    copy = tmp_path / "ro.sqlite"
    shutil.copy(FIXTURE, copy)
    with pytest.raises(StoreError, match="older than this release's 0002: run `lab store upgrade"):
        Store(sqlite_url(copy), read_only=True)  # refused as it is (its tables predate this release's)
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest  # and its bytes unchanged
    for kwargs in ({"read_only": True}, {"create": False}):  # refused until upgraded: this release's tables are missing
        with pytest.raises(StoreError, match="revision 0001, older than this release's 0002"):
            Store(store_url, **kwargs)
    assert _revision(store_url) == []
    done = revisions.upgrade_store(store_url)
    assert (done.from_revision, done.to_revision, done.stamped) == ("0001", "0002", True)
    with Store(store_url, create=False) as db:
        assert db.campaigns() == []
    assert _revision(store_url) == [MIGRATIONS.head]


def test_the_release_0_1_fixture_upgrades_with_every_film_and_reading_intact(tmp_path, monkeypatch):
    contents = _fixture_contents()
    expected = json.loads((DATA / "store_release_0_1.json").read_text())
    assert contents(FIXTURE) == expected and expected["counts"]["films"] == 12
    for head in ("0002", "0003"):
        out = tmp_path / head
        out.mkdir()
        shutil.copy(FIXTURE, out / "lab.sqlite")
        if head == "0003":
            _with_0003(monkeypatch)
        result = runner.invoke(app, ["store", "upgrade", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert f"upgraded from revision 0001 (unrecorded, release 0.1) to {head}" in result.output
        assert _revision(sqlite_url(out / "lab.sqlite")) == [head]
        assert contents(out / "lab.sqlite") == expected
        with Store(sqlite_url(out / "lab.sqlite"), create=False) as db:
            (campaign,) = db.campaigns()
            history = db.history(campaign.id)
            assert len(history) == 12 and check_integrity(db).ok
            assert sorted(history["sample_id"]) == sorted(expected["films"])
        again = runner.invoke(app, ["store", "upgrade", "--out", str(out)])
        assert again.exit_code == 0 and "already at revision" in again.output


def test_an_older_store_is_refused_until_lab_store_upgrade(store_url, monkeypatch):
    with Store(store_url) as db:
        cid = db.create_campaign("c", "p3ht-cnt", 0, {"days": 1})
    _with_0003(monkeypatch)
    for kwargs in ({}, {"create": False}, {"read_only": True}):
        with pytest.raises(StoreError) as err:
            Store(store_url, **kwargs)
        message = str(err.value)
        assert "\n" not in message and "revision 0002, older than this release's 0003" in message
        assert "run `lab store upgrade --store " in message
    status = runner.invoke(app, ["campaign", "status", "--store", store_url])
    assert status.exit_code == 2 and status.stderr.count("\n") == 1 and "lab store upgrade" in status.stderr
    result = runner.invoke(app, ["store", "upgrade", "--store", store_url])
    assert result.exit_code == 0, result.output
    assert "upgraded from revision 0002 to 0003" in result.output
    assert _revision(store_url) == ["0003"]
    engine = create_engine(store_url, poolclass=NullPool)
    with engine.connect() as c:
        assert "note" in {col["name"] for col in inspect(c).get_columns("films")}
    engine.dispose()
    with Store(store_url, create=False) as db:
        assert db.campaign(cid).name == "c"


def test_a_failing_migration_is_rolled_back_whole(store_url, monkeypatch):
    with Store(store_url) as db:
        db.create_campaign("c", "p3ht-cnt", 0, {"days": 1})
    before = _schema(store_url)
    _with_0003(monkeypatch, "broken")
    result = runner.invoke(app, ["store", "upgrade", "--store", store_url])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "migration failed and was rolled back, the store is still at revision 0002" in result.stderr
    assert _revision(store_url) == ["0002"]
    assert _schema(store_url) == before  # no `films.note`, no `notes` table
    monkeypatch.setattr(revision_ids, "MIGRATIONS", Migrations())
    with Store(store_url, create=False) as db:
        assert [c.name for c in db.campaigns()] == ["c"]


def test_a_store_of_a_newer_revision_is_refused(store_url, monkeypatch):
    Store(store_url).close()
    _with_0003(monkeypatch)
    revisions.upgrade_store(store_url)
    monkeypatch.setattr(revision_ids, "MIGRATIONS", Migrations())
    with pytest.raises(StoreError, match=r"revision 0003, which this release \(head 0002\) does not know"):
        Store(store_url)
    result = runner.invoke(app, ["store", "upgrade", "--store", store_url])
    assert result.exit_code == 2 and "does not know" in result.stderr and _revision(store_url) == ["0003"]


def test_no_store_is_made_by_opening_without_create_or_by_upgrading(store_url):
    if store_url.startswith("sqlite"):
        with pytest.raises(StoreError, match="no campaign store at"):
            Store(store_url, create=False)
        Path(store_url.removeprefix("sqlite:///")).touch()  # an empty file is refused as such
        with pytest.raises(StoreError, match="is empty"):
            Store(store_url, create=False)
        return
    for kwargs in ({"create": False}, {"read_only": True}):
        with pytest.raises(StoreError, match="holds no campaign store"):
            Store(store_url, **kwargs)
    result = runner.invoke(app, ["store", "upgrade", "--store", store_url])
    assert result.exit_code == 2 and "nothing to upgrade" in result.stderr
    assert _schema(store_url) == {} and _revision(store_url) == []


def test_runners_creating_one_new_store_at_once_all_open_it(store_url):
    """Processes (Alembic's context is per process) opening one new store at the same moment: one creates it."""
    code = ("import sys, time; from lab.store import Store; t = float(sys.argv[2]); time.sleep(max(0.0, t - time.time())); "
            "Store(sys.argv[1]).close()")
    at = time.time() + 3.0  # after every interpreter has started
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code, store_url, str(at)], cwd=ROOT, env=env,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    assert _revision(store_url) == [MIGRATIONS.head]
    if store_url.startswith("sqlite"):
        assert [p.name for p in Path(store_url.removeprefix("sqlite:///")).parent.iterdir()
                if ".new-" in p.name] == []


def test_the_migration_scripts_ship_with_the_package():
    """Every file of `lab/store/migrations` is a module of a found package or matches a package-data glob."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    data = config["package-data"]
    assert config["packages"]["find"]["include"] == ["lab*", "models*", "optimizers*", "drivers*"]
    base = ROOT / "lab" / "store" / "migrations"
    files = [p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert {p.name for p in files} >= {"env.py", "script.py.mako", "0001_baseline.py"}
    for path in files:
        package = ".".join(path.parent.relative_to(ROOT).parts)
        if path.suffix == ".py":
            assert (path.parent / "__init__.py").exists(), f"{path}: not inside a package, would not ship"
        else:
            globs = data.get("*", []) + data.get(package, [])
            assert any(path.match(g) for g in globs), f"{path}: no package-data glob of {package} ships it"

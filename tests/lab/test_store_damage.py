"""Corrupt, empty and missing stores are refused with one line, never recreated (audit finding 9)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lab.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def campaign_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("campaign")
    result = runner.invoke(app, ["campaign", "run", "--scenario", "p3ht-cnt", "--days", "1", "--batch", "12",
                                 "--droplets", "3", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    (dst / "lab.sqlite").write_bytes((src / "lab.sqlite").read_bytes())
    return dst


@pytest.mark.parametrize("command", ["status", "check", "resume", "stop"])
def test_overwritten_bytes_are_refused_as_corrupt(campaign_dir: Path, tmp_path: Path, command: str) -> None:
    out = _copy(campaign_dir, tmp_path / "damaged")
    data = bytearray((out / "lab.sqlite").read_bytes())
    data[4096:5596] = bytes(range(256)) * 5 + bytes(220)  # 1500 overwritten bytes inside the tables
    (out / "lab.sqlite").write_bytes(bytes(data))
    result = runner.invoke(app, ["campaign", command, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "corrupt" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("command", ["status", "check", "resume"])
def test_an_empty_store_is_not_recreated(tmp_path: Path, command: str) -> None:
    (tmp_path / "lab.sqlite").write_bytes(b"")
    result = runner.invoke(app, ["campaign", command, "--out", str(tmp_path)])
    assert result.exit_code == 2 and "empty (0 bytes)" in result.stderr
    assert (tmp_path / "lab.sqlite").stat().st_size == 0


@pytest.mark.parametrize("command", ["check", "resume", "status", "stop"])
def test_no_store_is_created_where_there_is_none(tmp_path: Path, command: str) -> None:
    result = runner.invoke(app, ["campaign", command, "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "lab.sqlite").exists()
    missing = tmp_path / "nowhere"
    result = runner.invoke(app, ["campaign", command, "--out", str(missing)])
    assert result.exit_code == 2 and not missing.exists()

"""A material system written only as files runs daily campaigns end to end (issue: scenarios as files)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lab.cli import app

from tests.lab.scenario_files import write_scenario

runner = CliRunner()


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    return write_scenario(tmp_path_factory.mktemp("blend"))


def _run(scenario_file: Path, out: Path, *extra: str) -> dict:
    result = runner.invoke(app, ["campaign", "run", "--scenario-file", str(scenario_file), "--days", "3",
                                 "--batch", "24", "--seed", "0", "--out", str(out), "-q", *extra])
    assert result.exit_code == 0, result.output
    return json.loads((out / "summary.json").read_text())


def test_simulated_campaign_from_files(scenario_file: Path, tmp_path: Path) -> None:
    summary = _run(scenario_file, tmp_path)
    history = pd.read_csv(tmp_path / "history.csv")
    assert len(history) == 72 and summary["days_done"] == 3
    assert {"pedot", "dmso", "eg", "zonyl", "sheet_resistance", "thickness", "conductivity", "cost",
            "distance_to_data", "extrapolated", "true_conductivity"} <= set(history.columns)
    measured = history[history["status"] == "measured"]
    # thickness on about half of the samples; conductivity exactly where thickness is
    assert 0.3 < measured["thickness"].notna().mean() < 0.7
    assert (measured["conductivity"].notna() == measured["thickness"].notna()).all()
    ok = measured.dropna(subset=["conductivity"])
    assert ((ok["conductivity"] - 1e7 / (ok["sheet_resistance"] * ok["thickness"])).abs() < 1e-6 * ok["conductivity"]).all()
    assert (history.groupby("day").size() == 24).all()
    recipes = history.drop_duplicates(["day", "pedot", "dmso", "eg", "zonyl"])
    assert (recipes[["pedot", "dmso", "eg", "zonyl"]].sum(axis=1) - 1).abs().max() < 1e-6
    assert summary["scenario_file"]["objectives"] == {"conductivity": "graph", "cost": "cost"}
    assert summary["world"]["quantities"]["sheet_resistance"]["cv_r2"] > 0.9
    best = summary["best_true"]["conductivity"]
    assert best == sorted(best) and best[-1] <= summary["world_optimum"]["conductivity"] * (1 + 1e-6)
    report = (tmp_path / "report.html").read_text()
    for text in ("Objectives", "1e7 / (sheet_resistance * thickness)", "graph of GPs over sheet_resistance, thickness",
                 "Emulated world", "extrapolates"):
        assert text in report


def test_campaign_file_accepts_a_scenario_file(scenario_file: Path, tmp_path: Path) -> None:
    config = tmp_path / "campaign.yaml"
    config.write_text(f"scenario_file: {scenario_file}\ndays: 1\nbatch: 8\nseed: 2\n")
    result = runner.invoke(app, ["campaign", "start", "--config", str(config), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    history = pd.read_csv(tmp_path / "out" / "history.csv")
    assert len(history) == 8 and history["sample_id"].str.endswith("-d").sum() == 2  # 4 samples per recipe


@pytest.mark.parametrize("damage", ["drop_column", "too_few_rows"])
def test_a_bad_data_file_is_one_line_and_writes_nothing(tmp_path: Path, damage: str) -> None:
    path = write_scenario(tmp_path / "s")
    table = pd.read_csv(tmp_path / "s" / "past.csv")
    table = table.drop(columns=["eg"]) if damage == "drop_column" else table.head(9)
    table.to_csv(tmp_path / "s" / "past.csv", index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["campaign", "run", "--scenario-file", str(path), "--days", "1", "--batch", "8",
                                 "--out", str(out)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert ("'eg'" if damage == "drop_column" else "distinct recipes with a value") in result.stderr
    assert "world.emulate" in result.stderr
    assert not out.exists()  # nothing written: no directory, no store


def test_emulated_campaign_from_files_goes_through_the_drivers(scenario_file: Path, tmp_path: Path) -> None:
    summary = _run(scenario_file, tmp_path, "--hardware", "emulated")
    history = pd.read_csv(tmp_path / "history.csv")
    assert len(history) == 72 and summary["config"]["hardware"] == "emulated"
    audit = summary["faults"]["dispense_audit"]
    assert summary["faults"]["double_dispenses"] == 0
    assert audit["droplets_logged"] == audit["droplets_planned"] == 72 and audit["extra_pump_runs"] == 0
    measured = history[history["status"] == "measured"]
    # readings come from the instruments: near the world's truth, never equal to it
    rel = (measured["sheet_resistance"] / measured["true_sheet_resistance"]).describe()
    assert 0.7 < rel["mean"] < 1.3 and (measured["sheet_resistance"] != measured["true_sheet_resistance"]).all()
    assert "Objectives" in (tmp_path / "report.html").read_text()


def test_emulated_hardware_refuses_a_quantity_its_station_cannot_measure(tmp_path: Path) -> None:
    path = write_scenario(tmp_path / "s", route=[{"station": "optical", "measures": ["absorbance_525", "haze"]},
                                                  {"station": "conductivity", "measures": ["sheet_resistance"]},
                                                  {"station": "thickness", "measures": ["thickness"]}])
    result = runner.invoke(app, ["campaign", "run", "--scenario-file", str(path), "--days", "1", "--batch", "8",
                                 "--hardware", "emulated", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "station optical measures absorbance_525, absorption_ratio, not 'haze'" in result.stderr

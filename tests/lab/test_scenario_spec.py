"""The scenario file: what a valid file gives, and one line naming the field for each kind of bad file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lab.cli import app
from lab.errors import ConfigError
from lab.scenarios.formulas import parse_formula
from lab.scenarios.spec import load_scenario_file, parse_scenario

from tests.lab.scenario_files import blend_scenario, write_scenario


def test_valid_file_gives_route_quantities_objectives_and_graph(tmp_path: Path) -> None:
    spec = load_scenario_file(write_scenario(tmp_path))
    assert spec.measured == ["absorbance_525", "sheet_resistance", "thickness"]
    assert spec.quantities == [*spec.measured, "conductivity"]
    assert spec.objective_kind("conductivity") == "graph"
    assert spec.objective_kind("cost") == "cost"
    assert spec.intermediates("conductivity") == ["sheet_resistance", "thickness"]
    assert ("sheet_resistance", "conductivity") in spec.model_graph()
    assert spec.mixture_total == 1.0
    assert spec.world_path() == tmp_path.resolve() / "past.csv"
    assert spec.search_space.objective_names == ["conductivity", "cost"]


def test_formula_evaluates_elementwise_and_refuses_code() -> None:
    f = parse_formula("conductivity", "1e7 / (sheet_resistance * thickness)")
    assert f.names == {"sheet_resistance", "thickness"}
    out = f.evaluate({"sheet_resistance": np.array([100.0, 0.0]), "thickness": np.array([200.0, 10.0])})
    assert out[0] == pytest.approx(500.0)
    assert np.isnan(out[1])  # division by zero is a missing value, not an error
    for bad in ("__import__('os').system('x')", "a.b", "[a for a in b]", "open('f')", "lambda: 1", "a if b else c"):
        with pytest.raises(ConfigError, match="derived.q"):
            parse_formula("q", bad)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"route": [{"station": "xrd", "measures": ["peak"]}]}, "route.0.station"),
        ({"objectives": [{"name": "mobility"}]}, "objectives.mobility: built on nothing"),
        ({"derived": {"conductivity": "1e7 / (sheet_resistance * height)"}}, "derived.conductivity: unknown quantity 'height'"),
        ({"derived": {"conductivity": "a2 * 2", "a2": "conductivity + 1"}}, "derived: formulas form a cycle"),
        ({"objectives": [{"name": "cost", "goal": "minimize", "prices": {"water": 1.0}}]},
         "objectives.cost.prices: unknown component 'water'"),
        ({"world": {}}, "world"),
        ({"parameters": [{"name": "pedot", "low": 2, "high": 1}, *blend_scenario()["parameters"][1:]]}, "'pedot'"),
        ({"units": {"color": "nm"}}, "units: 'color'"),
    ],
)
def test_bad_file_names_the_field(tmp_path: Path, changes: dict, field: str) -> None:
    path = write_scenario(tmp_path, **changes)
    with pytest.raises(ConfigError) as info:
        load_scenario_file(path)
    message = str(info.value)
    assert field in message
    assert "\n" not in message and len(message) < 400


def test_binary_and_missing_files_are_one_line(tmp_path: Path) -> None:
    binary = tmp_path / "s.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not a text file"):
        load_scenario_file(binary)
    with pytest.raises(ConfigError, match="cannot read"):
        load_scenario_file(tmp_path / "none.yaml")


def test_anchor_bomb_is_echoed_bounded() -> None:
    data = blend_scenario()
    data["route"] = [{"station": "optical", "measures": ["absorbance_525"] * 2000}] * 50
    with pytest.raises(ConfigError) as info:
        parse_scenario(data, "bomb.yaml")
    assert len(str(info.value)) < 400


def test_scenario_check_prints_route_objectives_and_graph(tmp_path: Path) -> None:
    path = write_scenario(tmp_path)
    result = CliRunner().invoke(app, ["scenario", "check", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for text in ("pedot-additives", "route", "sheet_resistance", "thickness", "1e7 / (sheet_resistance * thickness)",
                 "graph of GP nodes over sheet_resistance, thickness", "recipe cost", "model graph"):
        assert text in result.output


def test_scenario_check_bad_file_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, route=[{"station": "xrd", "measures": ["peak"]}])
    result = CliRunner().invoke(app, ["scenario", "check", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "route.0.station" in result.output


def test_scenario_list_names_the_builtins() -> None:
    result = CliRunner().invoke(app, ["scenario", "list"])
    assert result.exit_code == 0
    assert "p3ht-cnt" in result.output and "electrode" in result.output


def test_the_shipped_example_is_valid_and_its_data_passes() -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "pedot_additives" / "scenario.yaml"
    spec = load_scenario_file(example)
    spec.check_world_data()
    assert spec.name == "pedot-additives" and spec.objective_kind("conductivity") == "graph"


@pytest.mark.parametrize("package", ["p3ht_cnt", "electrode"])
def test_each_builtin_is_its_file_plus_its_package(package: str) -> None:
    from lab.scenarios import builtin_spec, build_scenario, scenario_entries

    spec = builtin_spec(package)
    entry = scenario_entries()[spec.name]
    assert spec.world.builtin == spec.name
    assert entry.samples_per_recipe == spec.recipe.samples_per_recipe
    scenario = build_scenario(spec.name, 0)
    assert scenario.space == spec.search_space
    assert [s.state for s in scenario.steps] == [s.station for s in spec.route]
    assert all(set(s.quantities) == set(r.measures) for s, r in zip(scenario.steps, spec.route))
    for o in spec.objectives:
        if o.prices is not None:  # the file's prices are the world's cost
            X = np.array([[40.0, 60.0, 0, 0, 0], [15.0, 20.0, 0, 65.0, 0]])
            cost = X @ np.array([o.prices[c] for c in spec.parameter_names])
            np.testing.assert_allclose(scenario.known_objectives[o.name](X), cost, rtol=1e-12)


def test_world_fit_prints_each_quantity_cv_r2(tmp_path: Path) -> None:
    path = write_scenario(tmp_path)
    result = CliRunner().invoke(app, ["world", "fit", "--scenario-file", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for q in ("absorbance_525", "sheet_resistance", "thickness", "CV R2", "extrapolated"):
        assert q in result.output
    rows = [line for line in result.output.splitlines() if "sheet_resistance" in line]
    assert float(rows[0].split("│")[2]) > 0.9  # the smooth law is recovered


def test_world_fit_refuses_a_builtin_world(tmp_path: Path) -> None:
    builtin = Path(__file__).resolve().parents[2] / "lab" / "scenarios" / "p3ht_cnt" / "scenario.yaml"
    result = CliRunner().invoke(app, ["world", "fit", "--scenario-file", str(builtin)])
    assert result.exit_code == 2 and "only an emulated world" in result.stderr

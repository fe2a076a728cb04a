"""The P3HT/CNT simulator world: calibration on real films, landscape facts, film statistics, coupling, cost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lab.errors import ConfigError
from lab.scenarios.p3ht_cnt.calibration import (
    CalibrationSettings,
    FaceSelection,
    calibrate_p3ht_cnt,
    composition_scatter,
    data_face_drop,
    default_data_path,
    read_films,
    select_face_features,
    top_composition_check,
    top_neighbourhood_check,
    top_within_factor_by_chance,
)
from lab.scenarios.p3ht_cnt.landscape import COMPONENTS, ConductivityLandscape, sample_feasible
from lab.scenarios.p3ht_cnt.world import MaterialPrices, P3HTCNTWorld, P3HTCNTWorldConfig, campaign_like_compositions

DATA = default_data_path()
needs_data = pytest.mark.skipif(not DATA.exists(), reason=f"shared real data absent: {DATA}")


@pytest.fixture(scope="module")
def world() -> P3HTCNTWorld:
    return P3HTCNTWorld.default()


@pytest.fixture(scope="module")
def calibrated():
    if not DATA.exists():
        pytest.skip(f"shared real data absent: {DATA}")
    return calibrate_p3ht_cnt(DATA, seed=0, front=False)


def _simulate(world: P3HTCNTWorld, n_comp: int, n_rep: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for g, x in enumerate(campaign_like_compositions(n_comp, rng)):
        for _ in range(n_rep):
            film = world.cast_film(x, rng)
            opt = world.measure_optical(film, rng)
            rs = world.measure_sheet_resistance(film, rng)
            t = world.measure_thickness(film, rng)
            rows.append({"group": g, **opt, "sheet_resistance": rs, "thickness": t,
                         "conductivity": 1e7 / (rs * t), "film_conductivity": film.conductivity_s_cm})
    return pd.DataFrame(rows)


def _within(df: pd.DataFrame, col: str) -> pd.Series:
    v = np.log(df[col])
    return v - v.groupby(df["group"]).transform("mean")


@needs_data
def test_calibration_reaches_grouped_cv_r2(calibrated):
    _, report = calibrated
    assert report.n_films == 233 and report.n_compositions == 178
    assert report.mean_pooled_r2 >= 0.85  # the acceptance figure (0.859; 0.872 with the steep 0.003 faces)
    assert report.mean_fold_r2 >= 0.83


@needs_data
def test_shipped_params_reproduce_calibration(calibrated, world):
    # Recalibrating reproduces the shipped fit up to the round-off of the numerical libraries' versions
    # (scipy/scikit-learn releases move the optimum in the 7th digit, the grouped-CV R2 in the 4th).
    params, report = calibrated
    shipped = world.landscape.params
    assert shipped.calibration["mean_fold_r2"] == pytest.approx(report.mean_fold_r2, abs=1e-3)
    assert shipped.calibration["mean_pooled_r2"] == pytest.approx(report.mean_pooled_r2, abs=1e-3)
    X = 100 * sample_feasible(500, np.random.default_rng(3))
    np.testing.assert_allclose(ConductivityLandscape(params).ln_conductivity(X), world.true_log_conductivity(X), atol=1e-4)


def test_local_optimum_in_dwcnt_region(world):
    x, sigma = world.landscape.local_optimum(np.array([38.0, 48.0, 0.5, 0.5, 13.0]))
    assert 35 <= x[0] <= 43 and 44 <= x[1] <= 50 and 10 <= x[4] <= 16
    assert 560 <= sigma <= 740  # real films there: 636-697 S/cm, their neighbours within 2 %: 666


def test_global_optimum_plausible_and_landscape_bounded(world):
    recipe, sigma = world.optimum()
    assert 700 <= sigma <= 800  # the nine real 40/60 films: geometric mean 729 S/cm
    assert 30 <= recipe["p3ht"] <= 50 and recipe["l_swcnt"] >= 50
    assert sum(recipe.values()) == pytest.approx(100, abs=1e-6)
    sampled = np.exp(world.true_log_conductivity(100 * sample_feasible(100_000, np.random.default_rng(7))))
    assert sampled.max() <= sigma * 1.001
    assert sampled.min() >= 1.0


def test_steep_rise_with_l_swcnt(world):
    s = lambda l: float(np.exp(world.true_log_conductivity(np.array([[100 - l, l, 0, 0, 0]])))[0])  # noqa: E731
    assert s(50) / s(5) > 10
    assert s(5) < s(10) < s(40) < s(50) < s(60)


def test_true_properties_conductivity_identity(world):
    props = world.true_properties(100 * sample_feasible(200, np.random.default_rng(1)))
    assert list(props.columns) == ["conductivity", "absorbance_525", "absorption_ratio", "sheet_resistance", "thickness"]
    np.testing.assert_allclose(props["conductivity"], 1e7 / (props["sheet_resistance"] * props["thickness"]), rtol=1e-12)


def test_measurement_statistics_match_campaign(world):
    df = _simulate(world, 150, 6, seed=0)
    med = df.median()
    assert 0.25 <= med["absorbance_525"] <= 0.5 and 0.01 <= df["absorbance_525"].min() and df["absorbance_525"].max() <= 1.8
    assert 0.85 <= med["absorption_ratio"] <= 1.1 and 0.5 <= df["absorption_ratio"].min() and df["absorption_ratio"].max() <= 1.95
    assert 40 <= med["sheet_resistance"] <= 110 and 10 <= df["sheet_resistance"].min()
    assert 600 <= med["thickness"] <= 900 and 75 <= df["thickness"].min() and df["thickness"].max() <= 2000
    assert 120 <= med["conductivity"] <= 300 and df["conductivity"].max() <= 1300
    dof = len(df) - df["group"].nunique()
    assert np.sqrt((_within(df, "absorption_ratio") ** 2).sum() / dof) == pytest.approx(0.012, abs=0.003)
    assert np.sqrt((_within(df, "sheet_resistance") ** 2).sum() / dof) == pytest.approx(0.13, abs=0.02)
    lr, ls, lrs = np.log(df["absorption_ratio"]), np.log(df["conductivity"]), np.log(df["sheet_resistance"])
    assert np.corrcoef(lr, ls)[0, 1] == pytest.approx(0.74, abs=0.15)
    assert np.corrcoef(df["absorbance_525"], ls)[0, 1] == pytest.approx(0.57, abs=0.15)
    assert np.corrcoef(lr, lrs)[0, 1] == pytest.approx(-0.81, abs=0.15)


@pytest.mark.parametrize("coupling", [0.0, 0.07])
def test_ratio_coupling(world, coupling):
    w = P3HTCNTWorld(world.landscape, P3HTCNTWorldConfig(ratio_coupling=coupling))
    df = _simulate(w, 60, 10, seed=2)
    partial = np.corrcoef(_within(df, "absorption_ratio"), _within(df, "film_conductivity"))[0, 1]
    rs_scatter = np.sqrt((_within(df, "sheet_resistance") ** 2).sum() / (len(df) - 60))
    assert rs_scatter == pytest.approx(0.13, abs=0.02)
    if coupling == 0:
        assert abs(partial) < 0.1
    else:
        assert partial > 0.45


def test_coupling_above_scatter_is_refused():
    with pytest.raises(ValueError, match="ratio_coupling"):  # pydantic wraps the ConfigError
        P3HTCNTWorldConfig(ratio_coupling=0.5)


def test_determinism_with_seed(world):
    a, b = _simulate(world, 10, 3, seed=5), _simulate(world, 10, 3, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(_simulate(world, 10, 3, seed=6))


def test_failures_at_rate(world):
    rng = np.random.default_rng(0)
    fails = [world.draw_failure("sheet_resistance", rng) for _ in range(20_000)]
    assert sum(f is not None for f in fails) / len(fails) == pytest.approx(0.01, abs=0.003)
    assert "probe contact check failed" in fails
    never = P3HTCNTWorld(world.landscape, P3HTCNTWorldConfig(failure_rate=0.0))
    assert all(never.draw_failure("cast", rng) is None for _ in range(1000))


def test_cost_from_prices(world):
    X = np.array([[40.0, 60, 0, 0, 0], [15, 0, 0, 85, 0]])
    expected = (0.4 * 500 + 0.6 * 1500) * 0.1e-3
    np.testing.assert_allclose(world.cost(X), [expected, (0.15 * 500 + 0.85 * 5) * 0.1e-3])
    cheap = P3HTCNTWorld(world.landscape, prices=MaterialPrices(l_swcnt=0.0, p3ht=0.0))
    assert cheap.cost(X)[0] == 0.0


def test_bad_composition_names_the_field(world):
    with pytest.raises(ConfigError, match="l_swcnt"):
        world.true_properties(np.array([[30.0, 70, 0, 0, 0]]))
    with pytest.raises(ConfigError, match="sum"):
        world.cast_film(np.array([40.0, 50, 0, 0, 0]), np.random.default_rng(0))
    assert world.cast_film(dict(zip(COMPONENTS, [40.0, 60, 0, 0, 0])), np.random.default_rng(0)).recipe["l_swcnt"] == 60


def test_cli_info_and_bad_data():
    from lab.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["world", "info"])
    assert res.exit_code == 0 and "global optimum" in res.output
    res = runner.invoke(app, ["world", "calibrate", "--data", "/no/such/file.csv"])
    assert res.exit_code == 2 and "not found" in res.output


# ---- the world at the top, against the real films (issue 13) ------------------------------------------------
@needs_data
def test_face_drop_within_what_the_data_support(world):
    X, y = read_films(DATA)
    evidence = data_face_drop(X, y)
    assert (evidence.compositions, evidence.films) == (24, 46)
    assert evidence.slope_per_pct == pytest.approx(-0.103, abs=0.002)
    assert evidence.drop == pytest.approx(0.050, abs=0.002) and evidence.max_drop == pytest.approx(0.082, abs=0.003)
    x_opt, _ = world.landscape.optimum
    drops = world.landscape.face_drop(x_opt, 0.5)
    minor = [drops[c] for c in ("s_swcnt", "mwcnt", "dwcnt")]
    assert max(minor) <= evidence.max_drop  # 6.2 / 5.0 / 5.1 %; the 0.003 offset cost 16.2 / 10.7 / 16.8 %
    assert min(minor) > 0


@needs_data
def test_top_real_compositions_and_the_winners_curse(world):
    X, y = read_films(DATA)
    top = top_composition_check(world.landscape, X, y)
    within = (top["ratio"] <= 1.3) & (top["ratio"] >= 1 / 1.3)
    assert int(within.sum()) == 5  # 4 with the 0.003 offset
    forty_sixty = top[(top["p3ht"] == 40) & (top["l_swcnt"] == 60)].iloc[0]
    assert forty_sixty["n"] == 9 and forty_sixty["ratio"] == pytest.approx(1.01, abs=0.02)  # was 1.14
    # even the truth itself would not put the ten best noisy means within 1.3: their luck is what ranks them
    assert top_within_factor_by_chance(world.landscape, X, y, n_sim=200) < 8


@needs_data
def test_composition_scatter_beyond_replicates(world):
    # distinct compositions < 2 % apart differ by a factor ~1.5 beyond their replicates' scatter: a nugget no smooth
    # world follows (the residual GP's marginal likelihood puts the residuals there too, benchmarks/science.py)
    X, y = read_films(DATA)
    scatter = composition_scatter(world.landscape, X, y)
    assert scatter["pairs"] == 130 and scatter["within_sd"] == pytest.approx(0.2375, abs=1e-3)
    assert scatter["sd"] == pytest.approx(0.40, abs=0.01) and scatter["sd_all_compositions"] == pytest.approx(0.51, abs=0.01)
    # with it, the truth itself would put about one of the ten best real means within 1.3, never ten
    assert top_within_factor_by_chance(world.landscape, X, y, composition_sd=scatter["sd"], n_sim=200) < 2
    shipped = world.landscape.params.calibration
    assert shipped["composition_scatter"]["sd"] == pytest.approx(scatter["sd"], abs=1e-3)
    assert shipped["top10_within_1.3_perfect_world_with_composition_scatter"] < 2
    with pytest.raises(ConfigError, match="max_distance"):
        composition_scatter(world.landscape, X, y, max_distance=1e-6)


@needs_data
def test_top_compositions_judged_by_their_neighbourhoods(world):
    # averaged with the real compositions within 0.03 (precision-weighted), the ten best are matched within 1.3
    # but one: 41.6/46/8.2/0/4.2, a single film with no neighbour (0.48)
    X, y = read_films(DATA)
    check = top_neighbourhood_check(world.landscape, X, y)
    within = (check["ratio"] <= 1.3) & (check["ratio"] >= 1 / 1.3)
    assert int(within.sum()) == 9
    lone = check[~within].iloc[0]
    assert lone["neighbours"] == 1 and lone["ratio"] == pytest.approx(0.48, abs=0.02)
    assert check["neighbours"].iloc[0] == 17 and check["ratio"].iloc[0] == pytest.approx(0.98, abs=0.02)  # 838 S/cm
    assert world.landscape.params.calibration["top10_neighbourhoods_within_1.3"] == 9


def test_optimum_plateau_and_distance_to_data(world):
    plateau = world.landscape.plateau(0.95, n_samples=5000)
    assert plateau["conductivity_at_least"] == pytest.approx(0.95 * world.optimum()[1], rel=1e-3)
    lo, hi = plateau["ranges_pct"]["l_swcnt"]
    assert 58 < lo < 60 and hi == 60
    assert all(0.1 < plateau["ranges_pct"][c][1] < 2 for c in ("s_swcnt", "mwcnt", "dwcnt"))
    d = world.distance_to_data(np.array([[40.0, 60, 0, 0, 0], [20, 10, 10, 50, 10]]))
    assert d[0] == pytest.approx(0.0, abs=1e-9) and d[1] > 0.12
    assert len(world.landscape.params.data_compositions) == 178


def test_true_front_shipped(world):
    front = world.true_front
    assert len(front) >= 20 and front["cost"].is_monotonic_increasing
    assert front["conductivity"].is_monotonic_increasing  # a front: dearer only if more conductive
    assert front["conductivity"].max() == pytest.approx(world.optimum()[1], rel=1e-6)
    assert front["cost"].min() == pytest.approx(0.0079250, rel=1e-6)  # 15 % P3HT / 85 % MWCNT
    assert front["cost"].max() == pytest.approx(0.11, rel=1e-6)  # below the scenario's cost reference, 0.12
    sampled = 100 * sample_feasible(20_000, np.random.default_rng(4))
    sigma, cost = np.exp(world.true_log_conductivity(sampled)), world.cost(sampled)
    # no sampled blend beats the front: each is matched by a front point at most as dear and as conductive
    best_at = np.maximum.accumulate(front["conductivity"].to_numpy())
    idx = np.searchsorted(front["cost"].to_numpy(), cost, side="right") - 1
    assert np.all(sigma <= best_at[np.clip(idx, 0, None)] * 1.001)


@needs_data
def test_face_selection_rules():
    X, y = read_films(DATA)
    settings = CalibrationSettings(n_repeats=1)
    chosen, table = select_face_features(X, y, settings, FaceSelection(candidates=(("log", 0.003), ("log", 0.03))))
    steep, smooth = table.iloc[0], table.iloc[1]
    assert steep["max_face_drop"] > 0.15 and not steep["admissible"]  # the needle: refused by the data's face drop
    assert smooth["admissible"] and smooth["chosen"] and smooth["pooled_cv_r2"] >= 0.85
    assert (chosen.face_feature, chosen.log_offset) == ("log", 0.03)

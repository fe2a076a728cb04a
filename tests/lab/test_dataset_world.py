"""The dataset emulator world: a known smooth law on a 4-component mixture table, bad inputs, the real films."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from lab.errors import ConfigError
from lab.paths import REPO_ROOT, shared_data_dir
from lab.worlds.dataset import DatasetWorld, load_dataset_world

COMPONENTS = ["a", "b", "c", "d"]
#: Reading noise of the synthetic table on the modelled scale (ln for `sigma`, raw for `shift`).
NOISE = {"sigma": 0.10, "shift": 0.05}


def ln_sigma_law(X: np.ndarray) -> np.ndarray:
    """ln of a positive quantity: smooth in the mixture fractions `X` (`n x 4`)."""
    a, b, c, d = X.T
    return 1.0 + 5.0 * a + 8.0 * b * c - 3.0 * d**2


def shift_law(X: np.ndarray) -> np.ndarray:
    """A quantity of either sign, smooth in the mixture fractions."""
    a, b, c, d = X.T
    return 2.0 * np.sin(4.0 * a) - 3.0 * b + 1.5 * c * d - 0.5


def mixture_table(n_recipes: int = 60, seed: int = 0) -> pd.DataFrame:
    """~120 rows: Dirichlet mixtures (sum 1), 1-3 replicates each, `shift` missing on ~30 % of rows."""
    rng = np.random.default_rng(seed)
    recipes = rng.dirichlet(np.full(4, 2.0), n_recipes)
    X = np.repeat(recipes, rng.integers(1, 4, n_recipes), axis=0)
    sigma = np.exp(ln_sigma_law(X) + rng.normal(0, NOISE["sigma"], len(X)))
    shift = shift_law(X) + rng.normal(0, NOISE["shift"], len(X))
    shift[rng.random(len(X)) < 0.3] = np.nan
    table = pd.DataFrame(X, columns=COMPONENTS)
    table["sigma"], table["shift"] = sigma, shift
    return table


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return mixture_table()


@pytest.fixture(scope="module")
def world(table: pd.DataFrame) -> DatasetWorld:
    return DatasetWorld.fit(table, COMPONENTS, ["sigma", "shift"], seed=3)


def fresh_recipes(n: int = 200, seed: int = 11) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.full(4, 3.0), n)


def test_fit_recovers_the_law_scale_and_noise(world: DatasetWorld, table: pd.DataFrame) -> None:
    print(f"\ncv_r2 {world.cv_r2}  noise_sd {world.noise_sd}  truth {NOISE}")
    assert world.parameters == COMPONENTS and world.quantities == ["sigma", "shift"]
    assert world.log_scale == {"sigma": True, "shift": False}
    assert world.rows == len(table)
    for q in world.quantities:
        assert world.cv_r2[q] > 0.8
        assert abs(world.noise_sd[q] / NOISE[q] - 1) < 0.3
    X = fresh_recipes()
    truth = world.true_values(X)
    assert list(truth.columns) == ["sigma", "shift"]
    err_ln = np.log(truth["sigma"].to_numpy()) - ln_sigma_law(X)
    err_shift = truth["shift"].to_numpy() - shift_law(X)
    print(f"fresh-recipe RMSE: ln sigma {np.sqrt(np.mean(err_ln**2)):.3f}, shift {np.sqrt(np.mean(err_shift**2)):.3f}")
    assert np.sqrt(np.mean(err_ln**2)) < 0.1
    assert np.sqrt(np.mean(err_shift**2)) < 0.1


def test_sample_spread_matches_noise_sd(world: DatasetWorld) -> None:
    X = np.repeat(fresh_recipes(1), 4000, axis=0)
    draws = world.sample(X, np.random.default_rng(5))
    truth = world.true_values(X[:1])
    z = {"sigma": np.log(draws["sigma"].to_numpy()), "shift": draws["shift"].to_numpy()}
    center = {"sigma": np.log(truth["sigma"][0]), "shift": truth["shift"][0]}
    for q in world.quantities:
        assert abs(z[q].std() / world.noise_sd[q] - 1) < 0.05
        assert abs(z[q].mean() - center[q]) < 4 * world.noise_sd[q] / np.sqrt(len(X))
    pd.testing.assert_frame_equal(world.sample(X, np.random.default_rng(5)), draws)


def test_same_seed_same_figures_and_torch_rng_untouched(table: pd.DataFrame, world: DatasetWorld) -> None:
    import torch

    state = torch.random.get_rng_state()
    twin = DatasetWorld.fit(table, COMPONENTS, ["sigma", "shift"], seed=3)
    assert torch.equal(state, torch.random.get_rng_state())
    assert twin.cv_r2 == world.cv_r2 and twin.noise_sd == world.noise_sd
    X = fresh_recipes(20)
    pd.testing.assert_frame_equal(twin.true_values(X), world.true_values(X))
    assert twin.describe() == world.describe()


def test_distance_to_data_and_extrapolation(world: DatasetWorld, table: pd.DataFrame) -> None:
    data = table[COMPONENTS].to_numpy()[:5]
    assert np.allclose(world.distance_to_data(data), 0.0, atol=1e-12)
    assert np.allclose(world.distance_to_data(table[COMPONENTS].iloc[:5]), 0.0, atol=1e-12)  # a DataFrame too
    vertex = np.array([0.0, 0.0, 0.0, 1.0])
    path = np.array([data[0] + t * (vertex - data[0]) for t in np.linspace(0, 1, 6)])
    dist = world.distance_to_data(path)
    print(f"\nextrapolation_distance {world.extrapolation_distance:.3f}; distances toward a vertex {np.round(dist, 3)}")
    assert dist[0] == pytest.approx(0.0, abs=1e-12) and dist[-1] > dist[1] > 0
    assert 0.05 <= world.extrapolation_distance < dist[-1]
    flags = world.is_extrapolated(np.vstack([data, vertex]))
    assert not flags[:-1].any() and flags[-1]
    info = world.describe()
    json.dumps(info)
    assert info["rows"] == len(table) and info["distinct_recipes"] == 60
    assert info["extrapolation_distance"] == world.extrapolation_distance
    assert set(info["quantities"]["sigma"]) >= {"cv_r2", "noise_sd", "log_scale", "replicated_recipes"}
    assert info["quantities"]["sigma"]["replicated_recipes"] > 20


def test_four_quantities_on_250_rows_fit_fast() -> None:
    big = mixture_table(n_recipes=125, seed=1)
    big["sigma2"] = big["sigma"] * np.exp(big["a"])
    big["shift2"] = big["shift"] - big["b"]
    start = time.perf_counter()
    w = DatasetWorld.fit(big, COMPONENTS, ["sigma", "shift", "sigma2", "shift2"])
    took = time.perf_counter() - start
    print(f"\n4 quantities on {len(big)} rows: fit + CV {took:.2f} s; cv_r2 {w.cv_r2}")
    assert took < 10.0


def test_module_imports_without_torch() -> None:
    code = "import sys, lab.worlds.dataset; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)


def _error(table: pd.DataFrame, parameters=COMPONENTS, quantities=("sigma", "shift"), **kwargs) -> str:
    with pytest.raises(ConfigError) as info:
        DatasetWorld.fit(table, parameters, list(quantities), **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_bad_tables_name_the_field(table: pd.DataFrame) -> None:
    msg = _error(table, parameters=["a", "b", "c", "e"])
    assert "'e'" in msg and "present: a, b, c, d, sigma, shift" in msg
    assert "'thickness'" in _error(table, quantities=["sigma", "thickness"])
    wide = table.assign(**{f"extra{i}": 0.0 for i in range(20)})
    assert "+16 more" in _error(wide, quantities=["nope"])
    bad = table.astype({"sigma": object})
    bad.loc[7, "sigma"] = "12,5"
    msg = _error(bad)
    assert "'sigma'" in msg and "'12,5'" in msg and "row 7" in msg
    recipe = table.groupby(COMPONENTS, sort=False).ngroup()
    few = table.assign(shift=table["shift"].where(recipe < 8))
    observed = few.dropna(subset=["shift"])[COMPONENTS].drop_duplicates().shape[0]
    msg = _error(few)
    assert "'shift'" in msg and f"{observed} distinct recipes" in msg and "at least 9" in msg
    assert "quantity 'shift': 0 distinct recipes" in _error(table.assign(shift=np.nan))
    assert "'sigma'" in _error(table.assign(sigma=2.0))
    assert "'b'" in _error(table.assign(b=np.where(table.index == 3, np.nan, table["b"])))
    assert "bounds" in _error(table, bounds=(np.zeros(3), np.ones(3)))
    assert "log_scale" in _error(table, log_scale={"shift": True})


def test_bad_files_name_the_path(tmp_path, table: pd.DataFrame) -> None:
    good = tmp_path / "films.csv"
    table.to_csv(good, index=False)
    assert load_dataset_world(good, COMPONENTS, ["sigma"]).quantities == ["sigma"]
    cases = {
        "missing": tmp_path / "nope.csv",
        "directory": tmp_path,
        "binary": tmp_path / "films.parquet",
        "empty": tmp_path / "empty.csv",
        "latin1": tmp_path / "latin1.csv",
    }
    cases["binary"].write_bytes(b"PAR1\x00\x15\x04\x15\x80\x01" * 50)
    cases["empty"].write_text("")
    cases["latin1"].write_bytes("a,b\n\xb5,1\n".encode("latin-1"))
    for name, path in cases.items():
        with pytest.raises(ConfigError) as info:
            load_dataset_world(path, COMPONENTS, ["sigma"])
        message = str(info.value)
        assert message.startswith("path:") and str(path) in message and "\n" not in message, (name, message)


REAL = shared_data_dir() / "p3ht_cnt" / "raw_data.csv"


@pytest.mark.skipif(not REAL.is_file(), reason=f"real P3HT/CNT films not at {REAL}")
def test_real_p3ht_cnt_films() -> None:
    columns = list(pd.read_csv(REAL, nrows=0).columns)
    parameters = [c for c in columns if c.endswith("_content")]
    quantities = [c for c in columns if c not in parameters]
    start = time.perf_counter()
    world = load_dataset_world(REAL, parameters, quantities)
    took = time.perf_counter() - start
    print(f"\nreal films: {world.describe()} ({took:.2f} s)")
    for q in quantities:
        print(f"  {q}: cv_r2 {world.cv_r2[q]:.3f}, noise_sd {world.noise_sd[q]:.3f} (ln scale {world.log_scale[q]})")
        if "conductiv" in q:
            assert world.cv_r2[q] > 0.3

"""P2D (PyBaMM DFN half-cell) per recipe: the energy/power trade-off, failures recorded, never raised."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from lab.errors import ConfigError
from lab.scenarios.electrode.microstructure import MicrostructureConstants
from lab.scenarios.electrode.p2d import P2DSettings, simulate_recipe

DENSE_THICK = {"active_material": 96.0, "solid_content": 73.0, "calendering": 25.0}
POROUS_THIN = {"active_material": 92.7, "solid_content": 55.0, "calendering": 0.0}


@pytest.fixture(scope="module")
def pybamm():
    return pytest.importorskip("pybamm")


@pytest.fixture(scope="module")
def model(pybamm):
    from lab.scenarios.electrode.p2d import make_model

    return make_model()


def test_dense_thick_wins_energy_porous_thin_keeps_power(model):
    dense = simulate_recipe(DENSE_THICK, model=model)
    porous = simulate_recipe(POROUS_THIN, model=model, keep_curves=True)
    assert dense.ok and porous.ok, (dense.failure, porous.failure)
    assert dense.performance["energy_density"] > 1.2 * porous.performance["energy_density"]
    assert porous.performance["power_density"] > 5 * dense.performance["power_density"]
    for r in (dense, porous):
        p = r.performance
        assert 0 < p["capacity_high_mAh_cm2"] < p["capacity_low_mAh_cm2"] <= 1.02 * p["nominal_capacity_mAh_cm2"]
        assert 3.5 < p["mean_voltage_high_V"] < p["mean_voltage_low_V"] < 4.2
        assert 0 < p["utilisation_high"] < 1
        assert r.wall_time_s > 0 and r.failure == ""
    v = porous.curves["low"]["voltage_V"]
    assert v[-1] == pytest.approx(3.5, abs=0.01)  # ended on the cut-off, not the end time
    assert np.all(np.diff(porous.curves["low"]["capacity_mAh"]) >= 0)
    row = porous.as_row()
    assert row["status"] == "ok" and row["calendering"] == 0.0 and "porosity" in row


def test_solver_failure_is_a_failed_result_not_an_exception(model):
    crippled = P2DSettings(solver_options={"dt_max": 1e-3})  # a tiny max step stalls; the no-progress guard stops it
    result = simulate_recipe(POROUS_THIN, settings=crippled, model=model)
    assert result.status == "failed"
    assert "solver error" in result.failure and "1C discharge" in result.failure
    assert math.isnan(result.performance["energy_density"]) and math.isnan(result.performance["power_density"])
    assert result.microstructure["porosity"] > 0.2  # the inputs are still recorded


def test_missing_the_voltage_cut_off_is_a_failed_result(model, monkeypatch):
    # A nominal capacity far below the window's (its capacity left unscaled): the 1C discharge is still running
    # at the (1.5 h) end time.
    from lab.scenarios.electrode import p2d

    monkeypatch.delitem(p2d.WINDOW_CAPACITY_MAH_G, "Xu2019")
    result = simulate_recipe(POROUS_THIN, MicrostructureConstants(specific_capacity_mAh_g=100.0), model=model)
    assert result.status == "failed" and "not the voltage cut-off" in result.failure


def test_unmanufacturable_recipe_is_infeasible_without_simulating():
    result = simulate_recipe({"active_material": 94.0, "solid_content": 64.0, "calendering": 45.0})
    assert result.status == "infeasible" and "porosity" in result.failure
    assert math.isnan(result.performance["energy_density"])


def test_bad_recipe_and_settings_raise_clear_errors():
    with pytest.raises(ConfigError, match="calendering"):
        simulate_recipe({"active_material": 94.0, "solid_content": 64.0})
    with pytest.raises(ConfigError, match="solid_content"):
        simulate_recipe({"active_material": 94.0, "solid_content": "wet", "calendering": 0.0})
    with pytest.raises(ValidationError, match="high_c_rate"):
        P2DSettings(low_c_rate=5.0, high_c_rate=1.0)


def test_specific_capacity_matches_the_parameter_set_window(pybamm):
    values = pybamm.ParameterValues("Xu2019")
    c_max = values["Maximum concentration in positive electrode [mol.m-3]"]
    theta0 = values["Initial concentration in positive electrode [mol.m-3]"] / c_max
    theta = np.linspace(theta0, 1.0, 20001)
    ocp = values["Positive electrode OCP [V]"](theta)
    theta_end = theta[np.argmax(ocp <= values["Lower voltage cut-off [V]"])]
    rho = MicrostructureConstants().am_density_g_cm3 * 1e6  # g/m3
    mah_g = c_max * (theta_end - theta0) * 96485.33 / 3.6 / rho
    from lab.scenarios.electrode.p2d import WINDOW_CAPACITY_MAH_G

    assert WINDOW_CAPACITY_MAH_G["Xu2019"] == pytest.approx(mah_g, rel=0.01)  # as shipped: 245 mAh/g
    assert MicrostructureConstants().specific_capacity_mAh_g == 170.0  # practical NMC532: the window is scaled to it


def test_practical_window_and_high_rate_utilisation(model):
    # scaled to the practical capacity, the window holds the nominal capacity: C/20 delivers ~all of it, 1C ~90 %
    slow = simulate_recipe(POROUS_THIN, settings=P2DSettings(low_c_rate=0.05, high_c_rate=4.0), model=model)
    assert slow.ok and slow.performance["capacity_low_mAh_cm2"] == pytest.approx(
        slow.performance["nominal_capacity_mAh_cm2"], rel=0.02)
    assert P2DSettings().high_c_rate == 4.0
    assert 0.3 < slow.performance["utilisation_high"] < 1.0

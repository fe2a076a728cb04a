from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizers.errors import InfeasibleSpaceError, SearchSpaceError
from optimizers.search_space import SearchSpace

MIX = {
    "parameters": [
        {"name": "a", "low": 15, "high": 96.3},
        {"name": "b", "low": 0, "high": 60},
        {"name": "c", "low": 0, "high": 70},
    ],
    "constraints": [{"sum": ["a", "b", "c"], "equals": 100}],
    "objectives": [{"name": "y", "goal": "maximize", "scale": "log"}, {"name": "cost", "goal": "minimize"}],
}


def test_yaml_round_trip(tmp_path):
    import yaml

    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(MIX))
    space = SearchSpace.from_yaml(path)
    assert space.names == ["a", "b", "c"]
    assert space.objective("y").scale == "log"
    lows, highs = space.bounds
    np.testing.assert_array_equal(lows, [15, 0, 0])
    np.testing.assert_array_equal(highs, [96.3, 60, 70])


def test_feasibility_checks_bounds_and_sum():
    space = SearchSpace.from_dict(MIX)
    X = np.array([[40, 30, 30], [40, 30, 30.001], [10, 45, 45], [30, 0, 70]])
    np.testing.assert_array_equal(space.is_feasible(X), [True, False, False, True])


def test_infeasible_equality_is_refused():
    bad = dict(MIX, constraints=[{"sum": ["a", "b", "c"], "equals": 300}])
    with pytest.raises(InfeasibleSpaceError, match=r"allow \[15, 226.3\]"):
        SearchSpace.from_dict(bad)


def test_inequality_tensors_have_botorch_orientation():
    space = SearchSpace.from_dict(dict(MIX, constraints=[{"sum": ["b", "c"], "at_most": 50}]))
    eq, ineq = space.linear_constraints_tensors()
    assert eq == []
    idx, coef, rhs = ineq[0]
    assert idx.tolist() == [1, 2] and coef.tolist() == [-1.0, -1.0] and rhs == -50.0


@pytest.mark.parametrize(
    "frame, message",
    [
        (pd.DataFrame({"a": [50], "b": [50]}), r"missing parameter column\(s\) \['c'\]"),
        (pd.DataFrame({"a": ["x"], "b": [50], "c": [0]}), "column 'a' row 0 is not a number"),
        (pd.DataFrame({"a": [np.nan], "b": [50], "c": [0]}), "column 'a' row 0 is empty or NaN"),
    ],
)
def test_validate_frame_names_the_problem(frame, message):
    with pytest.raises(SearchSpaceError, match=message):
        SearchSpace.from_dict(MIX).validate_frame(frame)


def test_check_recipe_names_field_and_range():
    space = SearchSpace.from_dict(MIX)
    with pytest.raises(SearchSpaceError, match=r"b=65 is outside the allowed range \[0, 60\]"):
        space.check_recipe({"a": 15, "b": 65, "c": 20})
    with pytest.raises(SearchSpaceError, match="violates the constraint"):
        space.check_recipe({"a": 50, "b": 30, "c": 30})


def test_bad_definitions_name_the_field():
    with pytest.raises(SearchSpaceError, match="parameters"):
        SearchSpace.from_dict({"parameters": [{"name": "a", "low": 2, "high": 1}]})
    with pytest.raises(SearchSpaceError, match="unknown parameters"):
        SearchSpace.from_dict({"parameters": [{"name": "a", "low": 0, "high": 1}], "constraints": [{"sum": ["z"], "equals": 1}]})


def test_objective_reference_is_checked_and_sets_the_reference_point():
    """A scientist's "worst value still worth having" becomes the hypervolume reference point, oriented."""
    from optimizers.surrogates import ObjectiveBelief, reference_point

    base = {"parameters": [{"name": "x", "low": 0.0, "high": 1.0}]}
    with pytest.raises(SearchSpaceError, match=r"objectives.*sigma.reference: -1.0 is not a positive finite number"):
        SearchSpace.from_dict({**base, "objectives": [{"name": "sigma", "scale": "log", "reference": -1.0}]})
    space = SearchSpace.from_dict(
        {**base, "objectives": [{"name": "sigma", "scale": "log", "reference": 10.0}, {"name": "cost", "goal": "minimize"}]}
    )
    beliefs = [
        ObjectiveBelief(space.objectives[0], known=lambda X: np.exp(1.0 + X[:, 0])),
        ObjectiveBelief(space.objectives[1], known=lambda X: 1.0 + X[:, 0]),
    ]
    ref = reference_point(beliefs, np.linspace(0.0, 1.0, 5)[:, None]).numpy()
    assert ref[0] == pytest.approx(np.log(10.0))  # set: log scale, maximized
    assert ref[1] < -2.0  # not set: botorch's rule, a little beyond the dearest blend on the front (cost 2)

"""GPGraph: topological fit on observed rows, conditional vs inputs-only prediction, and its BoTorch posterior."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from botorch.acquisition import qSimpleRegret
from botorch.posteriors.ensemble import EnsemblePosterior

from models.errors import ModelInputError
from models.gp_graph import GPGraph
from models.graph_enumeration import INPUTS
from models.physics_node import LinearPhysicsNode

#: The intercept of the test law Y = ln(1e7) - S - T (a conductivity-like law).
LN_INTERCEPT = math.log(1e7)

PARENTS = {"S": (INPUTS,), "T": (INPUTS,), "Y": ("S", "T")}
LAW = {"Y": LinearPhysicsNode({"S": -1.0, "T": -1.0}, LN_INTERCEPT)}


@pytest.fixture(scope="module")
def films(make_films) -> pd.DataFrame:
    return make_films(with_ratio=False)


@pytest.fixture(scope="module")
def graph(films) -> GPGraph:
    return GPGraph(PARENTS, ["c1", "c2"], "Y", physics=LAW).fit(films, films["recipe"].to_numpy())


def test_nodes_fit_on_their_observed_rows(graph, films):
    nodes = graph.graph_.nodes
    assert graph.order_[-1] == "Y"
    assert nodes["S"]["estimator"].n_train_rows_ == 40  # recipe means
    assert nodes["T"]["estimator"].n_train_rows_ == films.groupby("recipe")["T"].count().gt(0).sum()
    assert nodes["Y"]["estimator"].n_train_rows_ == films["T"].notna().sum()  # physics: rows with S, T and Y
    assert nodes["Y"]["estimator"].noise_var_ < 1e-9


def test_conditional_prediction_is_exact_where_parents_are_measured(graph, films):
    prediction = graph.predict_target(films, condition_on=("S", "T"), n_samples=16, seed=0)
    measured = films["T"].notna().to_numpy()
    np.testing.assert_allclose(prediction.mean[measured], films["Y"][measured], atol=1e-9)
    # Unmeasured thickness is propagated: the spread is T's predictive spread (~0.2), not 0.
    assert 0.1 < np.median(prediction.std[~measured]) < 0.5
    from_inputs = graph.predict_target(films, condition_on=(), n_samples=16, seed=0)
    assert np.all(from_inputs.std > prediction.std[measured].max())


def test_prediction_is_deterministic_given_a_seed(graph, films):
    a = graph.predict_target(films, (), 8, seed=5).means
    b = graph.predict_target(films, (), 8, seed=5).means
    c = graph.predict_target(films, (), 8, seed=6).means
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_bad_graphs_are_refused(films):
    with pytest.raises(ModelInputError, match="cycle"):
        GPGraph({"S": ("T",), "T": ("S",), "Y": ("S",)}, ["c1"], "Y").fit(films)
    with pytest.raises(ModelInputError, match="no column"):
        GPGraph({"Q": (INPUTS,), "Y": ("Q",)}, ["c1"], "Y").fit(films)


def test_botorch_posterior_shapes_and_determinism(graph):
    model = graph.to_botorch(n_samples=32, seed=1)
    assert model.num_outputs == 3 and model.outputs == ("S", "T", "Y")
    X = torch.rand(4, 5, 2, dtype=torch.float64)  # batch x q x d
    posterior = model.posterior(X)
    assert isinstance(posterior, EnsemblePosterior)
    assert posterior.values.shape == (4, 32, 5, 3)
    assert posterior.rsample(torch.Size([7])).shape == (7, 4, 5, 3)  # sample_shape x batch x q x m
    torch.testing.assert_close(model.posterior(X).values, posterior.values)
    # Through the physics node, the target draws obey the law draw by draw.
    values = posterior.values
    torch.testing.assert_close(values[..., 2], LN_INTERCEPT - values[..., 0] - values[..., 1])
    # The ensemble mean tracks the node GPs' means.
    mean_s = torch.as_tensor(graph.graph_.nodes["S"]["estimator"].predict(X.reshape(-1, 2).numpy()))
    assert (posterior.mean[..., 0].reshape(-1) - mean_s).abs().max() < 0.1


def test_mc_acquisition_optimizes_through_the_graph(graph):
    model = graph.to_botorch(outputs=["Y"], n_samples=64, seed=0)
    acquisition = qSimpleRegret(model)
    X = torch.rand(3, 2, 2, dtype=torch.float64, requires_grad=True)
    value = acquisition(X)
    value.sum().backward()
    assert value.shape == (3,) and torch.isfinite(X.grad).all() and X.grad.abs().sum() > 0
    # Lower S (higher c1) means higher conductivity: the acquisition prefers c1 = 1.
    hi = acquisition(torch.tensor([[[1.0, 0.5]]], dtype=torch.float64))
    lo = acquisition(torch.tensor([[[0.0, 0.5]]], dtype=torch.float64))
    assert hi > lo


def test_gp_downstream_node_samples_jointly_per_parent_draw(graph, films):
    shared = {key: node for key, node in ((("S", (INPUTS,)), graph.graph_.nodes["S"]["estimator"]),
                                          (("T", (INPUTS,)), graph.graph_.nodes["T"]["estimator"]))}
    gp_graph = GPGraph({**PARENTS, "Y": (INPUTS, "S")}, ["c1", "c2"], "Y").fit(films, node_cache=shared)
    model = gp_graph.to_botorch(outputs=["S", "Y"], n_samples=16, seed=0, observation_noise=True)
    X = torch.rand(2, 6, 2, dtype=torch.float64)
    values = model.posterior(X).values
    assert values.shape == (2, 16, 6, 2)
    torch.testing.assert_close(model.posterior(X).values, values)
    # Y tracks -S (the law's slope) across draws.
    s, y = values[..., 0].reshape(-1), values[..., 1].reshape(-1)
    assert torch.corrcoef(torch.stack([s, y]))[0, 1] < -0.5

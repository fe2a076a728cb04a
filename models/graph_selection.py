"""Score candidate GP graphs by grouped cross-validation with replicate resampling.

Protocol (what every number in a selection result means):
- Folds: scikit-learn `GroupKFold` over recipes (`groups`), so replicates of one recipe are never split.
- Groups: given, else identical input rows (`identical_input_groups`): replicates of one recipe share a group
  whatever the caller passed, so they never leak across folds.
- In each fold every graph is fitted on the training rows; graphs share fitted nodes with the same parents
  (a node's fit depends only on its parents and the rows). Hyperparameters (`settings.hyperparameters`):
  "per_fold" (default) optimizes them on each fold's training rows, so no held-out row touches them;
  "shared" (~n_folds times faster) optimizes them once per node on all rows and conditions each fold's GP on
  its training rows only (the held-out rows then influence the lengthscales and noise a little).
- Each graph predicts the held-out films twice: with the measured intermediates as they were observed
  (`r2`, `log_likelihood`; unmeasured ones, e.g. thickness on most films, are propagated) and from the recipe
  alone (`r2_from_inputs`, `log_likelihood_from_inputs`, MC propagation through the graph).
- Resamples: each picks one film per recipe among the held-out predictions, as in the study's droplet
  resampling; scores are the mean (and std) over resamples. Training uses every film of the training recipes
  (input-only nodes fit recipe means), so resampling the training side would only add refits.
- Comparisons: see `models.graph_comparison` (paired bootstrap over recipes and resamples).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from sklearn.model_selection import GroupKFold

from models.errors import ModelInputError
from models.gp_graph import GPGraph, NodeCache, TargetPrediction
from models.graph_enumeration import ParentMap, enumerate_graphs
from models.physics_node import LinearPhysicsNode


class SelectionSettings(BaseModel):
    """How graphs are enumerated and scored."""

    model_config = ConfigDict(frozen=True)

    max_path_length: int = Field(3, ge=1, le=6, description="longest path inputs -> target, in edges")
    n_folds: int = Field(5, ge=2, le=20, description="grouped CV folds")
    n_resamples: int = Field(20, ge=1, le=1000, description="one-film-per-recipe resamples")
    n_mc_samples: int = Field(32, ge=1, le=4096, description="MC draws per propagated prediction")
    max_train_rows: int = Field(300, ge=10, le=5000, description="training-row cap per GP node")
    max_fit_rows: int = Field(100, ge=10, le=5000, description="row cap for hyperparameter optimization")
    hyperparameters: Literal["shared", "per_fold"] = Field(
        "per_fold", description="per_fold: optimized on each fold's training rows only; shared: once per node on "
        "all rows (held-out rows included), reused in every fold (faster)"
    )
    outer_folds: int = Field(3, ge=0, le=10, description="nested CV: outer folds scoring the selected graph on "
                             "recipes its selection never saw (0: no nested score)")
    n_bootstrap: int = Field(2000, ge=100, le=100000, description="bootstrap draws per paired comparison")
    min_rows: int = Field(10, ge=4, description="fewest rows with a target value accepted")
    seed: int = 0


@dataclass
class GraphCVResult:
    """Out-of-fold predictions of one graph for every film with a target value (n = films scored).

    Attributes:
        parents: The graph.
        pred: Predictive mean with measured intermediates, `n`.
        log_density: Log predictive density of the measured target with measured intermediates, `n`.
        pred_from_inputs: Predictive mean from the recipe alone, `n`.
        log_density_from_inputs: Log predictive density from the recipe alone, `n`.
    """

    parents: ParentMap
    pred: np.ndarray
    log_density: np.ndarray
    pred_from_inputs: np.ndarray
    log_density_from_inputs: np.ndarray
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class CrossValidation:
    """Out-of-fold results of every graph, with the resampling design shared by all of them.

    Attributes:
        y: Measured target of the scored films, `n`.
        group_index: Recipe index (0..G-1) of each scored film, `n`.
        fold: CV fold of each scored film, `n`.
        row_index: Position of each scored film in the input frame, `n`.
        resamples: Chosen film (index into the scored films) per recipe per resample, `R x G`.
        graphs: One result per graph, in enumeration order (index 0 = inputs -> target).
    """

    y: np.ndarray
    group_index: np.ndarray
    fold: np.ndarray
    row_index: np.ndarray
    resamples: np.ndarray
    graphs: list[GraphCVResult]


def validate_frame(
    data: pd.DataFrame,
    input_columns: Sequence[str],
    intermediates: Sequence[str],
    target: str,
    group_column: str | None = None,
    min_rows: int = 10,
) -> pd.DataFrame:
    """Check names and values; return a copy with every model column numeric (non-numbers become NaN).

    Raises:
        ModelInputError: naming the column (unknown, repeated, non-numeric, empty inputs) or the row count.
    """
    if not input_columns:
        raise ModelInputError("inputs: give at least one input column")
    named = [*input_columns, *intermediates, target] + ([group_column] if group_column else [])
    for name in named:
        if name not in data.columns:
            raise ModelInputError(f"unknown column {name!r} (columns: {', '.join(map(str, data.columns))})")
    if target in intermediates:
        raise ModelInputError(f"target {target!r} is also listed as an intermediate")
    if target in input_columns:
        raise ModelInputError(f"target {target!r} is also listed as an input")
    model_columns = [*input_columns, *intermediates, target]
    repeated = sorted({name for name in model_columns if model_columns.count(name) > 1})
    if repeated:
        raise ModelInputError(f"column {repeated[0]!r} is listed twice among inputs/intermediates/target")
    if group_column in model_columns:
        raise ModelInputError(f"group column {group_column!r} is also a model column")
    frame = data.copy()
    for name in model_columns:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
        if not np.isfinite(frame[name].to_numpy()).any():
            raise ModelInputError(f"column {name!r} has no numbers")
    for name in input_columns:
        missing = np.flatnonzero(~np.isfinite(frame[name].to_numpy()))
        if missing.size:
            raise ModelInputError(f"input column {name!r} has no number in row {int(missing[0]) + 1}")
    n_target = int(np.isfinite(frame[target].to_numpy()).sum())
    if n_target < min_rows:
        raise ModelInputError(f"too few rows: {n_target} rows have a {target!r} value, need at least {min_rows}")
    return frame


def canonical_groups(labels: np.ndarray) -> np.ndarray:
    """Group codes 0..G-1 numbered by first appearance: the same partition of rows gives the same codes (and so
    the same folds) whatever the labels are."""
    _, first, codes = np.unique(np.asarray(labels).astype(str), return_index=True, return_inverse=True)
    renumber = np.empty(len(first), dtype=int)
    renumber[np.argsort(first, kind="stable")] = np.arange(len(first))
    return renumber[codes.reshape(-1)]


def identical_input_groups(frame: pd.DataFrame, input_columns: Sequence[str]) -> np.ndarray:
    """One group per distinct row of the input columns (to 9 decimals): replicates of one recipe."""
    values = np.round(frame[list(input_columns)].to_numpy(dtype=float), 9)
    return np.unique(values, axis=0, return_inverse=True)[1].reshape(-1)


def cross_validate_graphs(
    data: pd.DataFrame,
    input_columns: Sequence[str],
    intermediates: Sequence[str],
    target: str,
    groups: np.ndarray | None = None,
    settings: SelectionSettings | None = None,
    physics: Mapping[str, LinearPhysicsNode] | None = None,
    graphs: Sequence[ParentMap] | None = None,
) -> CrossValidation:
    """Enumerate the graphs and compute every graph's out-of-fold predictions.

    Args:
        data: One row per film (validated by `validate_frame`).
        input_columns: Recipe columns (the `inputs` node).
        intermediates: Measured intermediate columns.
        target: Target column.
        groups: Recipe label per row (replicates); default: identical input rows (`identical_input_groups`).
        settings: Enumeration and scoring settings.
        physics: Known laws for nodes (used when a node's parents match the law's).
        graphs: Candidate graphs (default: `enumerate_graphs(intermediates, target, max_path_length)`).
    """
    settings = settings or SelectionSettings()
    frame = validate_frame(data, input_columns, intermediates, target, None, settings.min_rows).reset_index(drop=True)
    graphs = list(graphs) if graphs is not None else enumerate_graphs(intermediates, target, settings.max_path_length)
    group_labels = identical_input_groups(frame, input_columns) if groups is None else np.asarray(groups)
    if group_labels.shape[0] != len(frame):
        raise ModelInputError(f"groups has {group_labels.shape[0]} labels for {len(frame)} rows")
    group_codes = canonical_groups(group_labels)
    scored = np.flatnonzero(np.isfinite(frame[target].to_numpy()))
    n_groups_scored = np.unique(group_codes[scored]).shape[0]
    if n_groups_scored < settings.n_folds:
        raise ModelInputError(f"too few recipes: {n_groups_scored} with a {target!r} value, need {settings.n_folds} (one per fold)")

    folds = np.full(len(frame), -1)
    for fold, (_, test) in enumerate(GroupKFold(n_splits=settings.n_folds).split(frame, groups=group_codes)):
        folds[test] = fold
    n_scored = scored.shape[0]
    position = np.full(len(frame), -1)
    position[scored] = np.arange(n_scored)
    shared = _shared_hyperparameters(frame, input_columns, target, graphs, group_codes, settings, physics)
    results = [
        GraphCVResult(dict(g), *(np.full(n_scored, np.nan) for _ in range(4))) for g in graphs
    ]
    for fold in range(settings.n_folds):
        train = frame[folds != fold]
        test_rows = scored[folds[scored] == fold]
        test = frame.iloc[test_rows]
        cache: NodeCache = {}
        for result in results:
            fit_predict_fold(result, position[test_rows], train, group_codes[folds != fold], test, input_columns,
                             intermediates, target, settings, physics, settings.seed + fold, cache, shared)
    resamples = draw_resamples(group_codes[scored], settings.n_resamples, settings.seed)
    cv = CrossValidation(
        y=frame[target].to_numpy()[scored],
        group_index=np.unique(group_codes[scored], return_inverse=True)[1],
        fold=folds[scored],
        row_index=scored,
        resamples=resamples,
        graphs=results,
    )
    for result in results:
        result.scores = score_resamples(cv, result)
    return cv


def fit_predict_fold(result: GraphCVResult, where: np.ndarray, train: pd.DataFrame, train_groups: np.ndarray,
                     test: pd.DataFrame, input_columns: Sequence[str], intermediates: Sequence[str], target: str,
                     settings: SelectionSettings, physics, seed: int, cache: NodeCache | None = None,
                     hyperparameters: dict | None = None) -> None:
    """Fit `result`'s graph on `train` and write its predictions of the `test` films into `result` at `where`:
    with the measured intermediates, and from the recipe alone (one MC propagation per distinct recipe)."""
    unique_inputs, inverse = np.unique(test[list(input_columns)].to_numpy(), axis=0, return_inverse=True)
    recipes = pd.DataFrame(unique_inputs, columns=list(input_columns))
    model = _graph(result.parents, input_columns, target, settings, physics)
    model.fit(train, train_groups, node_cache=cache if cache is not None else {}, hyperparameters=hyperparameters)
    observed = model.predict_target(test, intermediates, settings.n_mc_samples, seed)
    from_inputs = model.predict_target(recipes, (), settings.n_mc_samples, seed)
    y_test = test[target].to_numpy()
    result.pred[where] = observed.mean
    result.log_density[where] = observed.log_density(y_test)
    per_film = TargetPrediction(from_inputs.means[inverse.reshape(-1)], from_inputs.variances[inverse.reshape(-1)])
    result.pred_from_inputs[where] = per_film.mean
    result.log_density_from_inputs[where] = per_film.log_density(y_test)


def _graph(parents: ParentMap, input_columns: Sequence[str], target: str, settings: SelectionSettings, physics) -> GPGraph:
    return GPGraph(parents, input_columns, target, settings.max_train_rows, settings.max_fit_rows, physics, settings.seed)


def _shared_hyperparameters(
    frame: pd.DataFrame,
    input_columns: Sequence[str],
    target: str,
    graphs: Sequence[ParentMap],
    group_codes: np.ndarray,
    settings: SelectionSettings,
    physics: Mapping[str, LinearPhysicsNode] | None,
) -> dict[tuple[str, tuple[str, ...]], dict] | None:
    """Optimize each distinct (node, parents) GP once on all rows (settings.hyperparameters == "shared")."""
    if settings.hyperparameters != "shared":
        return None
    cache: NodeCache = {}
    for parents in graphs:
        _graph(parents, input_columns, target, settings, physics).fit(frame, group_codes, node_cache=cache)
    return {key: node.hyperparameters_ for key, node in cache.items() if hasattr(node, "hyperparameters_")}


def draw_resamples(group_codes: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Pick one film per recipe, `n_resamples` times: `R x G` indices into `group_codes` (G = recipes)."""
    rng = np.random.default_rng(seed)
    _, codes = np.unique(group_codes, return_inverse=True)
    members = [np.flatnonzero(codes == g) for g in range(codes.max() + 1)]
    return np.array([[rng.choice(rows) for rows in members] for _ in range(n_resamples)], dtype=int)


def score_resamples(cv: CrossValidation, result: GraphCVResult) -> dict[str, float]:
    """Mean and std over resamples of r2 and total log-likelihood, with and without measured intermediates."""
    metrics: dict[str, list[float]] = {k: [] for k in ("r2", "r2_from_inputs", "log_likelihood", "log_likelihood_from_inputs")}
    for chosen in cv.resamples:
        y = cv.y[chosen]
        total = float(np.sum((y - y.mean()) ** 2))
        metrics["r2"].append(1.0 - float(np.sum((y - result.pred[chosen]) ** 2)) / total)
        metrics["r2_from_inputs"].append(1.0 - float(np.sum((y - result.pred_from_inputs[chosen]) ** 2)) / total)
        metrics["log_likelihood"].append(float(np.sum(result.log_density[chosen])))
        metrics["log_likelihood_from_inputs"].append(float(np.sum(result.log_density_from_inputs[chosen])))
    scores = {}
    for name, values in metrics.items():
        scores[name] = float(np.mean(values))
        scores[f"{name}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return scores

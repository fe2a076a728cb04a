"""Feasible random points and space-filling designs over a constrained search space."""

from __future__ import annotations

import numpy as np
import torch

from optimizers.search_space import SearchSpace


def sample_feasible(space: SearchSpace, n: int, seed: int, faces: float = 0.0) -> np.ndarray:
    """Draw up to `n` points uniformly over the feasible region, shape `n x d`.

    Spaces whose only equality is one plain sum (a mixture) are sampled exactly and fast: shifted
    Dirichlet draws on the simplex face, rejection of bound and inequality violations. Other spaces
    use botorch's hit-and-run polytope sampler. Discrete parameters are then snapped to their nearest
    level; rows that snapping makes infeasible are dropped.

    Args:
        faces: share of mixture points drawn on a random face of the simplex instead (a random subset
            of the components whose lower bound is 0 set exactly to 0): blends of fewer components,
            which uniform draws never produce and real optima often are.
    """
    if n <= 0:
        return np.empty((0, space.dim))
    rng = np.random.default_rng(seed)
    samples = _sample_mixture(space, n, rng, faces)
    if samples is None or samples.shape[0] < n:
        samples = _sample_hit_and_run(space, n, seed)
    samples = snap_discrete(space, samples)
    return samples[space.is_feasible(samples)][:n]


def _sample_mixture(space: SearchSpace, n: int, rng: np.random.Generator, faces: float = 0.0) -> np.ndarray | None:
    """Uniform draws (a share `faces` on random faces) for a box with at most one unit-weight sum equality.

    Returns None where this does not apply.
    """
    equalities = [c for c in space.constraints if c.equals is not None]
    if len(equalities) > 1 or any(c.weights is not None for c in equalities):
        return None
    lows, highs = space.bounds
    index = {name: i for i, name in enumerate(space.names)}
    members = [index[name] for name in equalities[0].names] if equalities else []
    accepted: list[np.ndarray] = []
    have, tries = 0, 0
    while have < n and tries < 20:
        tries += 1
        m = max(2 * (n - have), 256)
        X = lows + rng.random((m, space.dim)) * (highs - lows)
        if members:
            slack = equalities[0].equals - lows[members].sum()
            weights = rng.dirichlet(np.ones(len(members)), size=m)
            if faces > 0:
                weights = _on_random_faces(weights, lows[members] == 0, faces, rng)
            X[:, members] = lows[members] + slack * weights
        X = X[space.is_feasible(X)]
        accepted.append(X)
        have += X.shape[0]
        if tries >= 3 and have < 0.01 * m * tries:  # acceptance too low: let hit-and-run do it
            return None
    out = np.concatenate(accepted)[:n]
    return out


def _on_random_faces(weights: np.ndarray, can_vanish: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Zero a random subset of the components allowed to vanish in a share of rows, renormalised (`m x k`)."""
    m, k = weights.shape
    chosen = rng.random(m) < share
    n_zero = rng.integers(1, max(2, int(can_vanish.sum())), size=m)  # 1 .. (vanishable - 1) zeros
    keys = np.where(can_vanish[None, :], rng.random((m, k)), np.inf)
    ranks = np.argsort(np.argsort(keys, axis=1), axis=1)
    zero = chosen[:, None] & (ranks < n_zero[:, None]) & can_vanish[None, :]
    weights = np.where(zero, 0.0, weights)
    return weights / weights.sum(axis=1, keepdims=True)


def _sample_hit_and_run(space: SearchSpace, n: int, seed: int) -> np.ndarray:
    """Spread points over a general polytope with botorch's hit-and-run sampler, shuffled."""
    equalities, inequalities = space.linear_constraints_tensors()
    from botorch.utils.sampling import get_polytope_samples  # (scipy.spatial with it): general polytopes only

    samples = get_polytope_samples(
        n=n,
        bounds=space.bounds_tensor(),
        equality_constraints=equalities or None,
        inequality_constraints=inequalities or None,
        seed=seed,
        n_burnin=max(200, 20 * space.dim),
        n_thinning=8,
    ).numpy()
    # hit-and-run walks are correlated in order; shuffle so any prefix is spread out
    return samples[np.random.default_rng(seed).permutation(samples.shape[0])]


def snap_discrete(space: SearchSpace, X: np.ndarray) -> np.ndarray:
    """Move each discrete parameter to its nearest level."""
    X = X.copy()
    for j, p in enumerate(space.parameters):
        if p.is_discrete:
            levels = np.asarray(p.values)
            X[:, j] = levels[np.argmin(np.abs(X[:, j : j + 1] - levels[None, :]), axis=1)]
    return X


#: Largest pool a space-filling design picks from: the greedy maximin costs pool x n distance evaluations, so a
#: fixed pool keeps a design of 5000 points at ~1e8 of them (seconds), where 50 x n would grow quadratically.
MAX_DESIGN_POOL = 20_000


def space_scale(space: SearchSpace) -> np.ndarray:
    """Each parameter's range (1 where it is fixed): the unit distances between recipes are measured in."""
    lows, highs = space.bounds
    return np.where(highs > lows, highs - lows, 1.0)


def nearest_distance(X: np.ndarray, Y: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Each row of `X`'s distance to its nearest row of `Y`, in units of `scale` (a k-d tree: memory ~ rows).

    The dense `len(X) x len(Y)` matrix this replaces needed 13.6 GB for 1e5 pending rows.
    """
    from scipy.spatial import cKDTree

    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    if len(Y) == 0:
        return np.full(len(X), np.inf)
    return cKDTree(Y / scale).query(X / scale, k=1)[0]


def maximin_subset(pool: np.ndarray, n: int, scale: np.ndarray, seed: int, existing: np.ndarray | None = None) -> np.ndarray:
    """Greedy farthest-point selection of `n` rows of `pool` (distances in `pool / scale`), shape `n x d`.

    Points in `existing` count as already chosen, so the design also keeps away from them.
    """
    if n > pool.shape[0]:
        raise ValueError(f"cannot pick {n} points from a pool of {pool.shape[0]}")
    Z = torch.as_tensor(pool / scale)
    rng = np.random.default_rng(seed)
    if existing is not None and len(existing):
        dist = torch.as_tensor(nearest_distance(pool, existing, scale))
        chosen: list[int] = []
    else:
        first = int(rng.integers(pool.shape[0]))
        chosen = [first]
        dist = torch.cdist(Z, Z[first : first + 1]).squeeze(1)
    while len(chosen) < n:
        nxt = int(torch.argmax(dist))
        chosen.append(nxt)
        dist = torch.minimum(dist, torch.cdist(Z, Z[nxt : nxt + 1]).squeeze(1))
    return pool[chosen]


def space_filling_design(
    space: SearchSpace, n: int, seed: int, existing: np.ndarray | None = None, faces: float = 0.5
) -> np.ndarray:
    """`n` well-spread feasible points (maximin over a feasible pool, a share `faces` of it on faces), `n x d`."""
    pool = sample_feasible(space, max(2000, min(50 * n, MAX_DESIGN_POOL)), seed, faces=faces)
    return maximin_subset(pool, n, space_scale(space), seed, existing)


def candidate_pool(
    space: SearchSpace,
    n_global: int,
    seed: int,
    centers: np.ndarray | None = None,
    n_local: int = 0,
    max_step: float = 0.15,
    faces: float = 0.5,
) -> np.ndarray:
    """A feasible candidate pool: `n_global` points (a share `faces` on faces) plus `n_local` near `centers`.

    Local points are convex combinations `(1 - a) c + a r` of a centre `c` and a uniform feasible
    point `r` with `a ~ U(0, max_step)`; the feasible region is convex, so they stay feasible
    (discrete levels excepted: those rows are snapped and re-checked).
    """
    rng = np.random.default_rng(seed)
    pool = sample_feasible(space, n_global, seed, faces=faces)
    if centers is None or len(centers) == 0 or n_local <= 0:
        return pool
    centers = np.atleast_2d(centers)
    partners = sample_feasible(space, n_local, seed + 1)
    picks = centers[rng.integers(len(centers), size=len(partners))]
    steps = rng.uniform(0.0, max_step, size=(len(partners), 1))
    local = snap_discrete(space, (1.0 - steps) * picks + steps * partners)
    local = local[space.is_feasible(local)]
    return np.concatenate([pool, local])


def push_to_boundary(space: SearchSpace, X: np.ndarray, partners: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """Move each row of `X` away from its partner, `fraction` of the way to the polytope's boundary.

    The direction `x - partner` lies in the equality constraints' null space when both rows are
    feasible, so only bounds and inequalities limit the step; `fraction = 1` lands on a face. Pool
    points from convex combinations never reach the faces where Pareto sets often lie (a component
    at 0, a parameter at its bound): these moves do. Shapes: `n x d`, `n x d`, `n` -> `n x d`.
    """
    D = X - partners
    lows, highs = space.bounds
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(D > 0, (highs - X) / D, np.where(D < 0, (lows - X) / D, np.inf))
    t_max = np.min(step, axis=1)
    _, inequalities = space.linear_constraints_tensors()
    for idx, coef, rhs in inequalities:  # coef . x[idx] >= rhs
        idx, coef = idx.numpy(), coef.numpy()
        slack = X[:, idx] @ coef - rhs
        rate = D[:, idx] @ coef
        with np.errstate(divide="ignore", invalid="ignore"):
            t_max = np.minimum(t_max, np.where(rate < 0, slack / -rate, np.inf))
    t_max = np.where(np.isfinite(t_max), np.clip(t_max, 0.0, None), 0.0)
    return X + (fraction * t_max)[:, None] * D

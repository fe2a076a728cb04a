"""A fitted GP graph as a BoTorch `Model`: its posterior is an ensemble of MC draws propagated through the DAG.

The optimizer proposes recipes only, so the posterior is the graph's prediction from the inputs alone. For a
`batch_shape x q x d` recipe tensor, nodes are visited in topological order; each GP node's latent posterior is
sampled jointly over the q points (reparameterised, so gradients reach X), then film-level noise is added for
intermediates (downstream nodes were trained on measured, noisy values). The draws form an `EnsemblePosterior`
(`batch_shape x s x q x m`), which BoTorch's MC acquisition functions sample with an `IndexSampler`, and which a
Thompson sampler can read directly (`posterior.values`). The draws are fixed by `seed`: the same X gives the
same posterior, so sample-average acquisition values are deterministic and optimizable.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from botorch.models.ensemble import EnsembleModel
from torch import Tensor

from models.errors import ModelInputError
from models.fitted_graph import FittedGraph
from models.gp_node import GPNode
from models.graph_enumeration import INPUTS
from models.physics_node import LinearPhysicsNode
from models.threads import single_threaded_torch


class GraphPosteriorModel(EnsembleModel):
    """BoTorch model over recipes (`d` = number of input columns) with outputs = chosen graph nodes.

    Args:
        graph: A fitted `GPGraph`.
        outputs: Nodes reported as outputs, in order (default: every non-input node in topological order, so
            the target is last).
        n_samples: Ensemble size s (MC draws per posterior call).
        seed: Seed of the draws.
        observation_noise: Add the target's observation noise (film-level values) instead of its latent mean.
    """

    def __init__(
        self,
        graph: FittedGraph,
        outputs: Sequence[str] | None = None,
        n_samples: int = 128,
        seed: int = 0,
        observation_noise: bool = False,
    ) -> None:
        super().__init__()
        graph._check_fitted()
        self.graph = graph
        self.outputs = tuple(outputs) if outputs is not None else tuple(graph.order_)
        unknown = [name for name in self.outputs if name not in graph.order_]
        if unknown:
            raise ModelInputError(f"output {unknown[0]!r} is not a node of the graph {graph.order_}")
        self.n_samples = n_samples
        self.seed = seed
        self.observation_noise = observation_noise
        self._num_outputs = len(self.outputs)

    @property
    def batch_shape(self) -> torch.Size:
        """The model itself is not batched."""
        return torch.Size([])

    def forward(self, X: Tensor) -> Tensor:
        """Draws at recipes X, `batch_shape x q x d` -> `batch_shape x s x q x m` (see `_propagate`)."""
        with single_threaded_torch():
            return self._propagate(X)

    def _propagate(self, X: Tensor) -> Tensor:
        """Propagate draws through the graph.

        Args:
            X: Recipes, `batch_shape x q x d` (columns in `graph.input_columns` order, recipe units).

        Returns:
            Draws, `batch_shape x s x q x m` (m = len(outputs)), in node units.
        """
        if X.shape[-1] != len(self.graph.input_columns):
            raise ModelInputError(f"X must have {len(self.graph.input_columns)} columns, got {X.shape[-1]}")
        X = X.to(torch.float64)
        generator = torch.Generator().manual_seed(self.seed)
        batch_shape, q = X.shape[:-2], X.shape[-2]
        draw_shape = (*batch_shape, self.n_samples, q)
        X_draws = X.unsqueeze(-3).expand(*batch_shape, self.n_samples, q, X.shape[-1])
        values: dict[str, Tensor] = {}
        for node in self.graph.order_:
            estimator = self.graph.graph_.nodes[node]["estimator"]
            if isinstance(estimator, LinearPhysicsNode):
                design = _design(estimator.parent_names, X_draws, values)
                latent = estimator.posterior_mean(design)
            elif tuple(self.graph.parents[node]) == (INPUTS,):
                latent = _sample_latent(estimator, X, self.n_samples, generator)
            else:
                design = _design(self.graph.parents[node], X_draws, values)
                latent = _sample_latent_batched(estimator, design, generator)
            if node != self.graph.target or self.observation_noise:
                noise = torch.randn(draw_shape, generator=generator, dtype=X.dtype)
                latent = latent + noise * estimator.noise_var_**0.5
            values[node] = latent
        return torch.stack([values[name] for name in self.outputs], dim=-1)


def _design(parents: Sequence[str], X_draws: Tensor, values: dict[str, Tensor]) -> Tensor:
    """A node's inputs, `batch_shape x s x q x d_node`, parents in order."""
    blocks = [X_draws if parent == INPUTS else values[parent].unsqueeze(-1) for parent in parents]
    return torch.cat(blocks, dim=-1)


def _sample_latent(node: GPNode, X: Tensor, n_samples: int, generator: torch.Generator) -> Tensor:
    """Joint latent draws of a recipe-only node: `batch_shape x q x d` -> `batch_shape x s x q`."""
    posterior = node.posterior(X)
    base = torch.randn((n_samples, *posterior.base_sample_shape), generator=generator, dtype=X.dtype)
    draws = posterior.rsample_from_base_samples(torch.Size([n_samples]), base).squeeze(-1)
    return draws.movedim(0, -2)


def _sample_latent_batched(node: GPNode, design: Tensor, generator: torch.Generator) -> Tensor:
    """Joint (over q) latent draws, one per draw of the parents: `batch_shape x s x q x d` -> `batch_shape x s x q`."""
    posterior = node.posterior(design)
    base = torch.randn((1, *posterior.base_sample_shape), generator=generator, dtype=design.dtype)
    return posterior.rsample_from_base_samples(torch.Size([1]), base).squeeze(0).squeeze(-1)

"""Search spaces, acquisition and batch proposal for bi-objective Bayesian optimization."""

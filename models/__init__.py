"""Graph-based multi-output GP regressors and objective models (botorch/gpytorch)."""

"""Packaged example hardware configurations (YAML)."""

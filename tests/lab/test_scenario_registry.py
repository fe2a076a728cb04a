"""The scenario registry: built-in packages found by pkgutil, light to import, the only way generic code builds one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lab.campaign.config import CampaignConfig
from lab.errors import ConfigError
from lab.scenarios import SCENARIOS, ScenarioEntry, build_scenario, scenario_entries, scenario_entry

ROOT = Path(__file__).resolve().parents[2]


def test_builtin_packages_are_registered():
    assert set(SCENARIOS) == {"p3ht-cnt", "electrode"}
    for name, entry in scenario_entries().items():
        assert isinstance(entry, ScenarioEntry) and entry.name == name
        assert entry.description and entry.samples_per_recipe >= 1 and "simulated" in entry.hardware


def test_importing_the_registry_imports_nothing_heavy():
    code = ("import sys, lab.scenarios as s; s.scenario_entries(); "
            "print(sorted(m for m in ('torch', 'botorch', 'gpytorch', 'pybamm') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_config_defaults_come_from_the_entry():
    for name, entry in scenario_entries().items():
        assert CampaignConfig(scenario=name).droplets_per_recipe == entry.samples_per_recipe


def test_unknown_scenario_and_hardware_are_refused():
    with pytest.raises(ConfigError, match="unknown 'nope'"):
        scenario_entry("nope")
    with pytest.raises(ValueError, match="unknown 'nope'"):
        CampaignConfig(scenario="nope")
    with pytest.raises(ConfigError, match="unknown 'robot'"):
        build_scenario("p3ht-cnt", 0, hardware="robot")
    with pytest.raises(ConfigError, match="simulated only"):
        scenario_entry("electrode").build(0, hardware="emulated")  # the scenario refuses it itself

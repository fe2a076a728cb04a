"""The `lab` command starts at once, and records a new campaign before anything heavy is imported.

Each probe is a fresh interpreter (the console script's code path), so what the CLI imports is what a user's
`lab` call imports. Timing is `benchmarks/cli_startup.py`'s job; here only which modules are loaded, and the store
a runner killed at its first torch import leaves behind (`starting`), which `resume` / `serve` then finish.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lab.campaign.config import CampaignConfig
from lab.campaign.session import register_campaign
from lab.cli import app
from lab.store import Store, sqlite_url
from lab.store.integrity import check_integrity

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_FILE = ROOT / "lab" / "scenarios" / "p3ht_cnt" / "scenario.yaml"
#: Never imported by any light command.
TORCH_STACK = ("torch", "botorch", "gpytorch", "pybamm")
#: Not imported by `import lab.cli` / `lab --help` either (every `lab` call pays for what the CLI modules import).
HEAVY = (*TORCH_STACK, "pandas", "scipy", "sklearn", "matplotlib", "dask", "sqlalchemy", "alembic", "pyarrow")

#: Runs `lab ARGS...` in this interpreter, then prints which of the named top-level modules got imported.
PROBE = """
import json, sys
names, args = json.loads(sys.argv[1]), sys.argv[2:]
from lab.cli import app
from typer.main import get_command
get_command(app)  # the whole command tree (every group and each scenario's commands), as `lab` builds it
code = 0
if args:
    try:
        app(args, prog_name="lab")
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "loaded": sorted(n for n in names if n in sys.modules)}), file=sys.stderr)
"""

#: Kills this process (SIGKILL, like a power cut) at its first `torch` import, then runs `lab ARGS...`.
KILL_AT_TORCH = """
import os, signal, sys

class KillAtTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            os.kill(os.getpid(), signal.SIGKILL)
        return None

sys.meta_path.insert(0, KillAtTorch())
from lab.cli import app
app(sys.argv[1:], prog_name="lab")
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def _probe(*args: str, names: tuple[str, ...] = HEAVY) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(names), *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=120)
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_importing_the_cli_and_its_help_loads_nothing_heavy():
    for args in ((), ("--help",), ("campaign", "--help"), ("world", "--help"), ("p2d", "--help")):
        found = _probe(*args)
        assert found == {"code": 0, "loaded": []}, args


def test_status_and_scenario_check_answer_without_torch(tmp_path):
    out = tmp_path / "camp"
    out.mkdir()
    with Store(sqlite_url(out / "lab.sqlite")) as store:
        register_campaign(CampaignConfig(days=2, batch=6, droplets_per_recipe=3, name="probe"), store)
    status = _probe("campaign", "status", "--out", str(out), names=(*TORCH_STACK, "pandas", "sqlalchemy"))
    assert status == {"code": 0, "loaded": []}
    check = _probe("scenario", "check", str(SCENARIO_FILE), names=(*TORCH_STACK, "pandas", "networkx"))
    assert check == {"code": 0, "loaded": []}


def _killed_at_first_torch_import(*args: str) -> None:
    done = subprocess.run([sys.executable, "-c", KILL_AT_TORCH, *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]


def _only_campaign(out: Path):
    with Store(sqlite_url(out / "lab.sqlite"), create=False) as store:
        (info,) = store.campaigns()
        return info, store.days(info.id), store.lock_info(info.id), len(store.history(info.id)), check_integrity(store)


@pytest.mark.parametrize("how", ["run", "serve"])
def test_a_runner_killed_at_its_first_torch_import_leaves_a_starting_campaign_that_is_carried_on(tmp_path, how):
    out = tmp_path / "camp"
    if how == "run":
        start = ["campaign", "run", "--days", "1", "--batch", "6", "--droplets", "3", "--seed", "2",
                 "--strategy", "random", "--name", "kept", "--out", str(out), "-q"]
        carry_on = ["campaign", "resume", "--out", str(out), "-q"]
    else:
        config = tmp_path / "campaign.yaml"
        config.write_text(yaml.safe_dump({"days": 1, "batch": 6, "droplets_per_recipe": 3, "seed": 2,
                                          "strategy": "random", "name": "kept", "schedule": {"every_hours": 24}}))
        start = carry_on = ["serve", "--config", str(config), "--out", str(out), "-q"]
    _killed_at_first_torch_import(*start)
    info, days, lock, films, report = _only_campaign(out)
    assert (info.name, info.status, days, lock, films) == ("kept", "starting", [], None, 0)
    assert report.problems == []
    shown = CliRunner().invoke(app, ["campaign", "status", "--out", str(out)])
    assert shown.exit_code == 0 and "kept" in shown.stdout and "starting" in shown.stdout and "days 0/1" in shown.stdout

    done = CliRunner().invoke(app, carry_on)
    assert done.exit_code == 0, done.output
    info, days, lock, films, report = _only_campaign(out)
    assert (info.status, [d.status for d in days], lock, films) == ("done", ["done"], None, 6)
    assert report.problems == []
    assert (out / "history.csv").is_file() and (out / "report.html").is_file()


def test_a_campaign_whose_scenario_does_not_fit_is_marked_failed_not_left_starting(tmp_path):
    config = tmp_path / "campaign.yaml"  # valid on its own; the built scenario has other objectives
    config.write_text(yaml.safe_dump({"days": 1, "batch": 6, "droplets_per_recipe": 3, "name": "misfit",
                                      "objectives": ["conductivity", "stability"]}))
    out = tmp_path / "camp"
    result = CliRunner().invoke(app, ["campaign", "start", "--config", str(config), "--out", str(out), "-q"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "are not the objectives of scenario 'p3ht-cnt'" in result.stderr
    info, days, lock, films, report = _only_campaign(out)
    assert (info.name, info.status, days, lock, films, report.problems) == ("misfit", "failed", [], None, 0, [])
    assert '"status": "failed"' in (out / "lab.log").read_text()


def test_a_starting_campaign_with_days_is_an_integrity_problem(tmp_path):
    with Store(sqlite_url(tmp_path / "lab.sqlite")) as store:
        cid = register_campaign(CampaignConfig(days=1, batch=6, droplets_per_recipe=3, name="odd"), store)
        assert store.campaign(cid).status == "starting"
        assert check_integrity(store).problems == []
        store.start_day(cid, 1, "random", [])
        assert check_integrity(store).problems == [
            "campaign odd: starting, yet it has 1 day(s) (it is running before its first day)"]

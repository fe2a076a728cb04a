"""`lab dashboard`: its JSON against a finished campaign's store, read-only serving, and a real browser on a live run.

The API tests use Starlette's TestClient on a one-day campaign run here. The browser test starts a short emulated
campaign and the dashboard in subprocesses, loads the page in headless Chromium (Debian's `chromium` and
`chromium-driver`; skipped when they are not installed) and watches the film count rise and the figures draw. The
runner is held (SIGSTOP) from the moment its campaign is in the store until the page shows its first count, then let
go (SIGCONT): however fast the machine, the page sees the campaign before it ends.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from lab.cli import app as cli_app
from lab.dashboard.app import create_app
from lab.dashboard.objectives import campaign_objectives
from lab.scoring import pareto_mask
from lab.dashboard.snapshot import read_campaigns
from lab.errors import StoreError
from lab.store import Store, sqlite_url

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """The output directory of a finished one-day p3ht-cnt campaign (12 films)."""
    out = tmp_path_factory.mktemp("dashboard") / "run"
    result = CliRunner().invoke(cli_app, ["campaign", "run", "--scenario", "p3ht-cnt", "--days", "1", "--batch", "12",
                                          "--droplets", "3", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def _client(out: Path, refresh_s: float = 3.0) -> TestClient:
    return TestClient(create_app(sqlite_url(out / "lab.sqlite"), refresh_s))


def _state(out: Path) -> dict:
    response = _client(out).get("/api/state")
    assert response.status_code == 200, response.text
    return response.json()


def test_state_reports_films_per_state_per_station_and_failures(finished):
    state = _state(finished)
    c = state["campaign"]
    with Store(sqlite_url(finished / "lab.sqlite"), read_only=True) as db:
        info = db.campaigns()[-1]
        films = db.film_states(info.id)
    assert [x["name"] for x in state["campaigns"]] == [info.name] and c["name"] == info.name
    assert c["states"] == ["planned", "cast", *info.route["states"], "measured", "failed"]
    assert c["films"]["total"] == len(films) == 12
    assert c["films"]["by_state"] == {s: int((films["status"] == s).sum()) for s in c["states"]}
    assert c["today"]["day"] == 1 and c["today"]["films"] == 12 and c["days_done"] == c["days_total"] == 1
    assert [s["station"] for s in c["station_progress"]] == info.route["states"]
    measured, failed = c["films"]["by_state"]["measured"], c["films"]["by_state"]["failed"]
    assert all(s["done"] >= measured and s["done"] + s["waiting"] + s["failed"] == 12 for s in c["station_progress"])
    expected = films[films["status"] == "failed"]
    assert {(f["sample_id"], f["failure"]) for f in c["failures"]} == set(zip(expected["sample_id"], expected["failure"]))
    assert sum(r["films"] for r in c["failure_reasons"]) == failed
    assert all(f["failure"] for f in c["failures"])
    assert len(c["recent"]) == 12 and {r["status"] for r in c["recent"]} <= {"measured", "failed"}
    assert c["lock"] is None and c["quarantined"] == {}


def test_pareto_points_are_the_measured_films_objectives(finished):
    c = _state(finished)["campaign"]
    assert [(o["name"], o["goal"]) for o in c["objectives"]] == [("conductivity", "maximize"), ("cost", "minimize")]
    with Store(sqlite_url(finished / "lab.sqlite"), read_only=True) as db:
        history = db.history(db.campaigns()[-1].id).set_index("sample_id")
    points = c["points"]
    assert points, "no measured film with every objective"
    for p in points:
        row = history.loc[p["sample_id"]]
        assert row["status"] == "measured"
        assert p["values"]["conductivity"] == pytest.approx(row["conductivity"])
        assert p["values"]["cost"] == pytest.approx(row["true_cost"])  # recipe-computed: stored as truth at cast
    Y = np.array([[p["values"]["conductivity"], -p["values"]["cost"]] for p in points])
    front = np.array([p["front"] for p in points])
    assert front.any()
    for k in range(len(Y)):  # a front point is dominated by no point; every other point by some point
        dominated = ((Y >= Y[k]).all(axis=1) & (Y > Y[k]).any(axis=1)).any()
        assert dominated == (not front[k])
    best = c["best"]
    assert [b["day"] for b in best] == [1]
    measured = history[history["status"] == "measured"]
    assert best[0]["conductivity"] == pytest.approx(measured["conductivity"].max())
    assert best[0]["cost"] == pytest.approx(measured["true_cost"].min())


def test_pareto_mask_agrees_with_botorch():
    import torch
    from botorch.utils.multi_objective.pareto import is_non_dominated

    rng = np.random.default_rng(3)
    Y = np.round(rng.normal(size=(1200, 3)), 1)  # ties and duplicates included, more rows than one block
    Y[5] = Y[7] = Y[int(np.argmax(Y.sum(axis=1)))]
    assert (pareto_mask(Y) == is_non_dominated(torch.as_tensor(Y)).numpy()).all()
    Y[0, 1] = np.nan
    assert not pareto_mask(Y)[0]
    assert pareto_mask(np.zeros((0, 2))).shape == (0,)


def test_objectives_come_from_the_scenario_file_or_the_stored_names():
    scenario_file = ROOT / "docs" / "examples" / "pedot_additives" / "scenario.yaml"
    views = campaign_objectives("pedot-additives", {"scenario_file": str(scenario_file)})
    assert [(o.name, o.goal, o.scale) for o in views] == [("conductivity", "maximize", "log"), ("cost", "minimize", "linear")]
    fallback = campaign_objectives("no-such-scenario", {"objectives": ["a", "b"]})
    assert [(o.name, o.goal) for o in fallback] == [("a", None), ("b", None)]


def test_lock_holder_heartbeat_and_quarantine_are_shown(finished, tmp_path):
    shutil.copy(finished / "lab.sqlite", tmp_path / "lab.sqlite")
    with Store(sqlite_url(tmp_path / "lab.sqlite")) as db:
        cid = db.campaigns()[-1].id
        db.acquire_lock(cid, "owner-token", "labhost-elsewhere", 4242, is_stale=lambda info: True)
        db.quarantine(cid, 1, "electrical", waiting=(), reason="4-point probe jammed")
    c = _state(tmp_path)["campaign"]
    assert c["lock"]["host"] == "labhost-elsewhere" and c["lock"]["pid"] == 4242
    assert 0 <= c["lock"]["heartbeat_age_s"] < 60 and c["lock"]["stale"] is False
    assert c["quarantined"] == {"electrical": "4-point probe jammed"}


def test_serving_never_writes_the_store(finished):
    store = finished / "lab.sqlite"
    before = (hashlib.sha256(store.read_bytes()).hexdigest(), store.stat().st_mtime_ns, sorted(os.listdir(finished)))
    client = _client(finished)
    for path in ("/", "/api/state", "/api/campaigns", "/api/state", "/static/plotly.min.js"):
        assert client.get(path).status_code == 200
    after = (hashlib.sha256(store.read_bytes()).hexdigest(), store.stat().st_mtime_ns, sorted(os.listdir(finished)))
    assert after == before


def test_page_loads_nothing_from_the_internet(finished):
    client = _client(finished, refresh_s=1.5)
    page = client.get("/").text
    assert 'src="static/plotly.min.js"' in page and "http://" not in page and "https://" not in page
    assert "const REFRESH_MS = 1500;" in page
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"] and len(js.content) > 1_000_000


def test_unknown_campaign_and_unreadable_store(finished, tmp_path):
    response = _client(finished).get("/api/state", params={"campaign": "nope"})
    assert response.status_code == 404 and "nope" in response.json()["error"]
    gone = TestClient(create_app(sqlite_url(tmp_path / "missing.sqlite"))).get("/api/state")
    assert gone.status_code == 503 and "missing.sqlite" in gone.json()["error"]
    con = sqlite3.connect(tmp_path / "young.sqlite")  # a store whose first transaction has not committed yet
    con.execute("CREATE TABLE other (x INTEGER)")
    con.commit()
    con.close()
    young = TestClient(create_app(sqlite_url(tmp_path / "young.sqlite"))).get("/api/state")
    assert young.status_code == 503 and "holds no campaign store" in young.json()["error"]


@pytest.mark.parametrize("args, message", [
    ([], "--out or --store"),
    (["--out", "{tmp}"], "no campaign store"),
    (["--store", "sqlite:///{tmp}/none.sqlite"], "no campaign store"),
    (["--out", "{run}", "--port", "70000"], "--port"),
    (["--out", "{run}", "--refresh", "0"], "--refresh"),
])
def test_bad_input_exits_2_with_one_line(finished, tmp_path, args, message):
    args = [a.format(tmp=tmp_path, run=finished) for a in args]
    result = CliRunner().invoke(cli_app, ["dashboard", *args])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_dashboard_modules_do_not_import_torch():
    code = ("import sys, lab.dashboard.app, lab.dashboard.server, lab.dashboard.snapshot; "
            "heavy = {'torch', 'botorch', 'gpytorch'} & set(sys.modules); assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


# ---------------------------------------------------------------------------------------------- a real browser
def _lab(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-c", "from lab.cli import main; main()", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE if log is None else open(log, "wb"), stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _first_line(proc: subprocess.Popen, timeout_s: float) -> str:
    line: list[bytes] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return line[0].decode().strip() if line else ""


def _wait_for(condition, timeout_s: float, what: str, poll_s: float = 0.2):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


def _has_campaign(out: Path) -> bool:
    """Whether the store in `out` can be read and holds a campaign (its first transactions have committed)."""
    try:
        return bool(read_campaigns(sqlite_url(out / "lab.sqlite")))
    except StoreError:
        return False


def _browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                 "--window-size=1400,1400"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                    reason="headless browser test needs Debian's chromium and chromium-driver (apt-get install -y "
                           "chromium chromium-driver)")
def test_browser_page_follows_a_running_campaign(tmp_path):
    from selenium.webdriver.common.by import By

    out = tmp_path / "run"
    campaign = _lab(["campaign", "run", "--scenario", "p3ht-cnt", "--days", "2", "--batch", "24", "--droplets", "3",
                     "--hardware", "emulated", "--out", str(out), "--quiet"], tmp_path / "campaign.log")
    dashboard = driver = None
    paused = False
    try:
        _wait_for(lambda: (out / "lab.sqlite").is_file() or campaign.poll() is not None, 120, "the store file")
        _wait_for(lambda: _has_campaign(out) or campaign.poll() is not None, 120, "the campaign in the store")
        assert campaign.poll() is None, (tmp_path / "campaign.log").read_text()[-2000:]
        os.kill(campaign.pid, signal.SIGSTOP)  # hold the runner until the page shows its first count
        paused = True
        dashboard = _lab(["dashboard", "--out", str(out), "--port", "0", "--refresh", "0.5"], None)
        line = _first_line(dashboard, 60)
        assert line.startswith("dashboard on http://127.0.0.1:"), line or dashboard.communicate(timeout=5)[0]
        url = line.removeprefix("dashboard on ")
        driver = _browser(tmp_path / "chrome-profile")
        driver.get(url)

        def count() -> int | None:
            """The film count on the page, once it shows a campaign (None before)."""
            if driver.find_element(By.ID, "title").text in ("", "lab dashboard", "no campaign in the store yet"):
                return None
            text = driver.find_element(By.ID, "film-count").text.strip()
            return int(text) if text.isdigit() else None

        first = _wait_for(lambda: (count(),) if count() is not None else None, 60, "the page's first film count")[0]
        os.kill(campaign.pid, signal.SIGCONT)
        paused = False
        seen = [first]
        _wait_for(lambda: seen.append(count()) or (seen[-1] or 0) > first, 120, f"the film count to rise from {first}")
        _wait_for(lambda: seen.append(count()) or seen[-1] == 48, 120, "all 48 films on the page")
        seen = [n for n in seen if n is not None]
        assert seen == sorted(seen), f"the film count went down: {seen}"
        bars = _wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#progress .barlayer .point path"), 30,
                         "the progress bars")
        points = _wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#pareto .scatterlayer .point"), 60,
                           "the Pareto figure's points")
        assert bars and points
        assert driver.find_elements(By.CSS_SELECTOR, "#pareto svg.main-svg")
        failed = int(driver.find_element(By.ID, "failed-count").text)
        _wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#failures tr")) == failed + 1, 10,
                  f"{failed} failures listed with their reasons")
        print(f"film counts seen on the page: {seen}")
        assert campaign.wait(timeout=120) == 0, (tmp_path / "campaign.log").read_text()[-2000:]
    finally:
        if paused:
            os.kill(campaign.pid, signal.SIGCONT)
        if driver is not None:
            driver.quit()
        if dashboard is not None:
            _stop(dashboard)
        _stop(campaign)

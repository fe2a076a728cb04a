"""One short campaign end to end on each store back end (SQLite file, PostgreSQL): `lab campaign run --store URL`."""

from __future__ import annotations

from typer.testing import CliRunner

from lab.cli import app
from lab.store import Store
from lab.store.integrity import check_integrity
from lab.store.revision_ids import MIGRATIONS


def test_a_one_day_campaign_runs_on_the_store(store_url, tmp_path):
    args = ["campaign", "run", "--scenario", "p3ht-cnt", "--days", "1", "--batch", "12", "--droplets", "3",
            "--store", store_url, "--out", str(tmp_path / "out"), "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    with Store(store_url, create=False) as store:
        (campaign,) = store.campaigns()
        assert campaign.status == "done" and store.lock_info(campaign.id) is None
        history = store.history(campaign.id)
        assert len(history) == 12 and set(history["status"]) <= {"measured", "failed"}
        report = check_integrity(store)
        assert report.ok, report.problems
        assert report.checked["films"] == 12
    status = CliRunner().invoke(app, ["campaign", "status", "--store", store_url])
    assert status.exit_code == 0 and "done" in status.output
    upgrade = CliRunner().invoke(app, ["store", "upgrade", "--store", store_url])
    assert upgrade.exit_code == 0 and f"already at revision {MIGRATIONS.head}" in upgrade.output

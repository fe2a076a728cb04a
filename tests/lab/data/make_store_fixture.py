"""Make `store_release_0_1.sqlite`: a 1-day, 12-film P3HT/CNT campaign written by release 0.1 (no migrations).

Release 0.1's store made its tables with `create_all` and recorded no schema revision; this store is what a lab
has on disk from it. Beside it, `store_release_0_1.json` records what the store holds (row counts, every film's
state and every measurement's value) for `tests/lab/test_store_revisions.py` to find intact after an upgrade.

It was made by running this script on release 0.1's code (commit f474779, the last before `lab/store/migrations`):

    mkdir /tmp/release-0.1 && git archive f474779 | tar -x -C /tmp/release-0.1      # from the repository's root
    (cd /tmp/release-0.1 && PYTHONPATH=. python "$OLDPWD/tests/lab/data/make_store_fixture.py" "$OLDPWD/tests/lab/data")

It refuses to run on a later release (one whose store records its revision).
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from pathlib import Path

NAME = "store_release_0_1"


def contents(path: Path) -> dict:
    """What the store holds: row counts, films (sample_id -> [status, failure]) and measurements.

    Measurements are `[sample_id, station, quantity, value, unit, is_truth]`, sorted; read with plain SQL so the
    same function describes the store before and after an upgrade.
    """
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = ["campaigns", "days", "recipes", "recipe_parameters", "films", "measurements"]
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        films = {sid: [status, failure] for sid, status, failure in
                 con.execute("SELECT sample_id, status, failure FROM films ORDER BY sample_id")}
        measurements = [list(r) for r in con.execute(
            "SELECT f.sample_id, m.station, m.quantity, m.value, m.unit, m.is_truth FROM measurements m "
            "JOIN films f ON f.id = m.film_id ORDER BY f.sample_id, m.station, m.quantity")]
    finally:
        con.close()
    return {"counts": counts, "films": films, "measurements": measurements}


def main(out_dir: Path) -> None:
    """Run the campaign into `out_dir/NAME.sqlite` and write `out_dir/NAME.json`."""
    if importlib.util.find_spec("lab.store.revisions") is not None:
        sys.exit("make_store_fixture.py: this is a release with migrations; run it on release 0.1 (see docstring)")
    from lab.campaign.config import CampaignConfig
    from lab.campaign.runner import run_campaign
    from lab.store import Store, sqlite_url

    path = out_dir / f"{NAME}.sqlite"
    path.unlink(missing_ok=True)
    config = CampaignConfig(scenario="p3ht-cnt", days=1, batch=12, droplets_per_recipe=3, seed=0, strategy="random",
                            name="release-0.1")
    with Store(sqlite_url(path)) as store:
        result = run_campaign(config, store)
    assert result.status == "done" and len(result.history) == 12, result.status
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    con.execute("VACUUM")
    con.close()
    (out_dir / f"{NAME}.json").write_text(json.dumps(contents(path), indent=1) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes) and {NAME}.json")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)

"""Which store and which campaign a command means: `--out`/`--store`, and `--campaign` or the only one.

Stdlib only, so that `lab campaign status` picks its campaign without loading the store's ORM.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lab.errors import ConfigError, StoreError
from lab.store.sqlite_file import sqlite_url
from lab.store.views import CampaignInfo

if TYPE_CHECKING:
    from lab.store.status_reader import StatusReader

#: The default store file, in the campaign's output directory.
STORE_FILE = "lab.sqlite"


def store_url_for(out: Path | None, store: str | None) -> str:
    """The store's URL: `store` if given, else `out/lab.sqlite`."""
    if store:
        return store
    if out is None:
        raise ConfigError("--out or --store: say where the campaign's store is")
    return sqlite_url(out / STORE_FILE)


def existing_store_url(out: Path | None, store: str | None) -> str:
    """`store_url_for`, refusing an `--out` directory that holds no store (commands that only read or decide)."""
    if out is not None and not store and not (out / STORE_FILE).exists():
        raise ConfigError(f"--out {out}: no campaign store ({STORE_FILE}) there")
    return store_url_for(out, store)


def select_campaign(store: StatusReader, name: str | None, *, unfinished: bool = False) -> CampaignInfo:
    """The campaign called `name`; without a name, the only (unfinished, if asked) campaign of the store."""
    campaigns = store.campaigns()
    if name is not None:
        found = [c for c in campaigns if c.name == name]
        if not found:
            raise StoreError(f"--campaign: no campaign {name!r} in the store (it has {[c.name for c in campaigns]})")
        return found[0]
    if not campaigns:
        raise StoreError("the store holds no campaign")
    # unfinished: not done, and not a campaign that failed before its first day (nothing of it to carry on)
    pool = [c for c in campaigns if c.status != "done" and (c.status != "failed" or store.days(c.id))] \
        if unfinished else campaigns
    if not pool:
        return campaigns[-1]
    if len(pool) > 1:
        raise StoreError(f"--campaign: the store holds several campaigns {[c.name for c in pool]}; name one")
    return pool[0]

"""Runners racing for one campaign lock, each with its own connection: exactly one wins, on every back end."""

from __future__ import annotations

import threading

import pytest

from lab.errors import CampaignLocked
from lab.store import Store
from lab.store.locks import LockInfo

RUNNERS = 4


def _race(url: str, cid: int, is_stale) -> tuple[list[str], list[str]]:
    """Start `RUNNERS` acquirers at once; return the owners that won and those refused."""
    stores = [Store(url) for _ in range(RUNNERS)]
    start = threading.Barrier(RUNNERS)
    won: list[str] = []
    refused: list[str] = []

    def run(i: int) -> None:
        start.wait()
        try:
            stores[i].acquire_lock(cid, f"runner-{i}", "elsewhere", 1000 + i, is_stale)
            won.append(f"runner-{i}")
        except CampaignLocked:
            refused.append(f"runner-{i}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RUNNERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for s in stores:
        s.close()
    return won, refused


@pytest.mark.parametrize("rounds", [3])
def test_runners_racing_for_a_free_lock_one_wins(store_url, rounds):
    with Store(store_url) as store:
        for r in range(rounds):
            cid = store.create_campaign(f"c{r}", "p3ht-cnt", 0, {"days": 1})
            won, refused = _race(store_url, cid, lambda info: False)
            assert len(won) == 1 and len(refused) == RUNNERS - 1, (won, refused)
            assert store.lock_info(cid).owner == won[0]


def test_runners_racing_to_take_over_a_stale_lock_one_wins(store_url):
    with Store(store_url) as store:
        for r in range(3):
            cid = store.create_campaign(f"c{r}", "p3ht-cnt", 0, {"days": 1})
            store.acquire_lock(cid, "dead-runner", "gone-host", 1, lambda info: False)

            def stale(info: LockInfo) -> bool:  # only the dead runner's lock is stale, not a fresh winner's
                return info.owner == "dead-runner"

            won, refused = _race(store_url, cid, stale)
            assert len(won) == 1 and len(refused) == RUNNERS - 1, (won, refused)
            assert store.lock_info(cid).owner == won[0]

"""One read of a store for the dashboard: a JSON-ready picture of a campaign as it stands.

Each call opens the store read-only (`Store(url, read_only=True)`: a SQLite file is opened with `mode=ro`), reads
through the store's public reads (`campaigns`, `days`, `progress`, `film_states`, `history`, `lock_info`) and closes
it again, so the page follows a running campaign and never writes a byte.
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from lab.campaign.lock import lock_is_stale
from lab.dashboard.objectives import best_so_far, campaign_objectives, maximized, objective_values
from lab.scoring import pareto_mask
from lab.errors import StoreError
from lab.store import Store, film_states_of
from lab.store.locks import LockInfo
from lab.store.progress import CampaignInfo, DayInfo

#: A heartbeat older than this on another host marks the runner as gone (as `lab campaign status` does).
STALE_AFTER_S = 60.0

#: How the error of an unknown `campaign` starts (the app answers it 404, other store errors 503).
UNKNOWN_CAMPAIGN = "campaign: no campaign "

#: A number standing alone in a failure's text (not part of a name such as `absorbance_525` or `4-point`).
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w-])")


@contextmanager
def _reading(url: str) -> Iterator[Store]:
    """The store at `url` opened read-only; a database error while reading (a store whose first transaction is
    still being written has no tables yet) becomes a one-line `StoreError`."""
    try:
        with Store(url, read_only=True, create=False) as db:
            yield db
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        raise StoreError(f"store {url!r} cannot be read now: {detail}") from None


def read_campaigns(url: str) -> list[dict]:
    """Every campaign of the store at `url`: id, name, scenario, status (oldest first)."""
    with _reading(url) as db:
        return [{"id": c.id, "name": c.name, "scenario": c.scenario, "status": c.status} for c in db.campaigns()]


def read_snapshot(url: str, campaign: str | None = None, recent: int = 12, failures: int = 50) -> dict:
    """The dashboard's picture of one campaign of the store at `url` (default: the newest one).

    Args:
        url: SQLAlchemy URL of the store.
        campaign: Campaign name; None picks the newest campaign.
        recent: How many of the latest films to list.
        failures: How many failed films (newest first) to list with their reasons.

    Raises:
        StoreError: the store cannot be opened, or has no campaign called `campaign`.
    """
    with _reading(url) as db:
        infos = db.campaigns()
        listed = [{"id": c.id, "name": c.name, "scenario": c.scenario, "status": c.status} for c in infos]
        base = {"read_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "campaigns": listed}
        if not infos:
            return {**base, "campaign": None}
        if campaign is None:
            info = infos[-1]
        else:
            info = next((c for c in infos if c.name == campaign), None)
            if info is None:
                raise StoreError(f"{UNKNOWN_CAMPAIGN}{campaign!r} in the store (it has {[c.name for c in infos]})")
        days = db.days(info.id)
        return {**base, "campaign": _campaign(info, days, db.progress(info.id), db.film_states(info.id),
                                              db.history(info.id), db.lock_info(info.id), recent, failures)}


def _campaign(info: CampaignInfo, days: list[DayInfo], counts: pd.DataFrame, films: pd.DataFrame,
              history: pd.DataFrame, lock: LockInfo | None, recent: int, failures: int) -> dict:
    states = list(film_states_of(info.route))
    states += [s for s in getattr(counts, "columns", []) if s not in states]
    per_day = [_day(d, counts, states) for d in days]
    today = per_day[-1] if per_day else None
    total = {s: int(counts[s].sum()) if s in getattr(counts, "columns", []) else 0 for s in states}
    failed = films[films["status"] == "failed"] if len(films) else films
    reasons = failed["failure"].map(_reason).value_counts() if len(failed) else pd.Series(dtype=int)
    return {
        "id": info.id, "name": info.name, "scenario": info.scenario, "status": info.status, "seed": info.seed,
        "hardware": info.config.get("hardware"),
        "days_total": info.config.get("days", len(days)), "days_done": sum(d.status != "running" for d in days),
        "lock": _lock(lock),
        "states": states,
        "stations": [{"station": s, "quantities": list(info.route.get("quantities", {}).get(s, []))}
                     for s in info.route.get("states", [])],
        "films": {"total": int(len(films)), "by_state": total},
        "today": today,
        "station_progress": _station_progress(today, info.route.get("states", [])) if today else [],
        "days": per_day,
        "quarantined": today["quarantined"] if today else {},
        "recent": _rows(films[films["status"] != "planned"].tail(recent).iloc[::-1] if len(films) else films),
        "failures": _rows(failed.tail(failures).iloc[::-1]),
        "failure_reasons": [{"reason": str(k), "films": int(v)} for k, v in reasons.items()],
        **_objectives(info, history, [d.index for d in days]),
    }


def _day(d: DayInfo, counts: pd.DataFrame, states: list[str]) -> dict:
    row = counts.loc[d.index] if len(counts) and d.index in counts.index else None
    by_state = {s: int(row[s]) if row is not None and s in row.index else 0 for s in states}
    return {"day": d.index, "status": d.status, "strategy": d.strategy, "films": sum(by_state.values()),
            "counts": by_state, "quarantined": {str(k): str(v) for k, v in d.quarantined.items()},
            "busy_s": round(d.busy_s, 3)}


def _station_progress(today: dict, route: list[str]) -> list[dict]:
    """For each station of the route: today's films past it, waiting for it, and failed (of all today's films)."""
    order = ["cast", *route, "measured"]
    counts = today["counts"]
    out = []
    for k, station in enumerate(route, start=1):
        done = sum(counts.get(s, 0) for s in order[k:])  # a film in state <station> has its reading
        waiting = sum(counts.get(s, 0) for s in ("planned", *order[:k]))
        out.append({"station": station, "done": done, "waiting": waiting, "failed": counts.get("failed", 0),
                    "films": today["films"]})
    return out


def _lock(lock: LockInfo | None) -> dict | None:
    if lock is None:
        return None
    return {"host": lock.host, "pid": lock.pid, "heartbeat_age_s": round(lock.age_s(), 1),
            "acquired_s": lock.acquired_s, "stop_requested": lock.stop_requested,
            "stale": bool(lock_is_stale(lock, STALE_AFTER_S))}


def _reason(failure: str) -> str:
    """A failure's kind: its text with the numbers masked (`no film at (#, #) mm`), so alike failures group."""
    return _NUMBER.sub("#", str(failure)).strip()[:160]


def _rows(frame: pd.DataFrame) -> list[dict]:
    cols = [c for c in ("sample_id", "day", "status", "failure") if c in frame]
    return [{c: (int(v) if c == "day" else str(v)) for c, v in r.items()} for r in frame[cols].to_dict("records")]


def _objectives(info: CampaignInfo, history: pd.DataFrame, all_days: list[int]) -> dict:
    objectives = campaign_objectives(info.scenario, info.config)
    if history.empty or not objectives:
        return {"objectives": [o.to_json() for o in objectives], "points": [], "best": [], "measured": 0}
    values, objectives = objective_values(history, objectives)
    Y = maximized(values, objectives)
    front = pareto_mask(Y) if Y is not None else [False] * len(values)
    measured = history.loc[values.index]
    points = []
    for k, (i, row) in enumerate(values.iterrows()):
        vals = {o.name: _num(row[o.name]) for o in objectives}
        if all(v is not None for v in vals.values()):
            points.append({"sample_id": str(measured.at[i, "sample_id"]), "day": int(measured.at[i, "day"]),
                           "values": vals, "front": bool(front[k])})
    return {"objectives": [o.to_json() for o in objectives], "points": points, "measured": int(len(values)),
            "best": best_so_far(measured["day"], values, objectives, all_days)}


def _num(v: object) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None

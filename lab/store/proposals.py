"""Proposals and their review: a day's recipes as proposed, who decided what about them, when and why.

    day_id = store.propose_day(cid, 3, "default", rows, diagnostics)      # day 3 `awaiting approval`, round 1
    store.reject_proposal(cid, 3, by="ana", note="too much MWCNT", pins=[...])
    store.repropose_day(cid, 3, "default", rows, diagnostics)             # round 2, pending
    store.approve_proposal(cid, 3, [ApprovedRow(1, {...}), ApprovedRow(None, {...})], by="ana", note="...")

Each method is one transaction (see `lab.store.store`): an approval writes the day's recipes, every row's
outcome (approved as proposed, edited, rejected, or added by hand), the decision and the day's new state
`running` together, or nothing. Callers get dataclasses; ORM objects never leave the store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Mapping, Sequence

from sqlalchemy import select

from lab.errors import StoreError
from lab.store.schema import Day, Proposal, ProposalRow, Recipe, RecipeParameter
from lab.store.views import ProposalSummary

#: The state of a day whose proposal waits for a scientist's decision.
AWAITING_APPROVAL = "awaiting approval"
#: Every state of a proposal (see `lab.store.schema.Proposal`).
PROPOSAL_STATES = ("pending", "approved", "rejected", "auto")
#: Relative tolerance under which an edited value counts as unchanged (a spreadsheet's round-off is no edit).
UNCHANGED_RTOL = 1e-6


@dataclass(frozen=True)
class ProposedRow:
    """One recipe of a proposal: its values, where it came from (`proposed` or `pinned`) and the model's view."""

    values: Mapping[str, float]
    origin: str = "proposed"
    prediction: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ApprovedRow:
    """A recipe to cast: the proposal's row number it answers (None: added by hand) and its values."""

    row: int | None
    values: Mapping[str, float]


@dataclass(frozen=True)
class ProposalRowInfo:
    """One row of a stored proposal: number, origin, outcome, values as proposed and as cast, prediction."""

    row: int
    origin: str
    outcome: str
    proposed: dict
    final: dict
    prediction: dict
    recipe_id: int | None


@dataclass(frozen=True)
class ProposalInfo:
    """A stored proposal round of a day, its decision and its rows."""

    id: int
    day: int
    round: int
    strategy: str
    status: str
    decided_by: str
    decided_at: datetime | None
    note: str
    changes: dict
    diagnostics: dict
    created_at: datetime
    rows: list[ProposalRowInfo]


class ProposalMixin:
    """Proposal and approval writes and reads of `lab.store.Store`."""

    def propose_day(self, campaign_id: int, index: int, strategy: str, rows: Sequence[ProposedRow],
                    diagnostics: Mapping | None = None) -> int:
        """Open day `index` awaiting approval, with its first proposal round; return the day id."""
        _check_rows(rows)
        with self._transaction("propose_day") as s:
            day = Day(campaign_id=campaign_id, index=index, strategy=strategy, status=AWAITING_APPROVAL)
            s.add(day)
            s.flush()
            s.add(_proposal(day.id, 1, strategy, "pending", rows, diagnostics))
            return day.id

    def repropose_day(self, campaign_id: int, index: int, strategy: str, rows: Sequence[ProposedRow],
                      diagnostics: Mapping | None = None) -> int:
        """Add the next proposal round of a day whose last round was rejected; return the round."""
        _check_rows(rows)
        with self._transaction("repropose_day") as s:
            day = _day(s, campaign_id, index)
            last = _last_round(s, day)
            if day.status != AWAITING_APPROVAL or last is None or last.status != "rejected":
                raise StoreError(f"day {index}: a new proposal needs its last one rejected "
                                 f"(day {day.status}, last proposal {getattr(last, 'status', 'none')})")
            day.strategy = strategy
            s.add(_proposal(day.id, last.round + 1, strategy, "pending", rows, diagnostics))
            return last.round + 1

    def approve_proposal(self, campaign_id: int, index: int, approved: Sequence[ApprovedRow], *, by: str,
                         note: str = "", units: Mapping[str, str] | None = None) -> list[int]:
        """Decide a pending proposal: cast `approved` (in this order), reject every row not in it; day `running`.

        Returns:
            The ids of the day's recipes, in slot order.
        """
        if not approved:
            raise StoreError("an approval needs at least one recipe to cast (reject the proposal instead)")
        for a in approved:
            _check_finite(a.values, f"row {a.row if a.row is not None else '(added)'}")
        with self._transaction("approve_proposal") as s:
            day, proposal = _pending(s, campaign_id, index)
            by_number = {r.row: r for r in proposal.rows}
            next_row = max(by_number, default=0) + 1
            counts = {"approved": 0, "edited": 0, "rejected": 0, "manual": 0}
            edits: dict[str, dict[str, list[float]]] = {}
            ids = []
            for slot, a in enumerate(approved):
                values = {k: float(v) for k, v in a.values.items()}
                if a.row is None:
                    row = ProposalRow(row=next_row, origin="manual", outcome="approved", proposed={}, final=values,
                                      prediction={})
                    next_row += 1
                    proposal.rows.append(row)
                    counts["manual"] += 1
                else:
                    row = by_number.get(a.row)
                    if row is None or row.outcome != "pending":
                        raise StoreError(f"row {a.row} is not a pending row of day {index}'s proposal")
                    changed = {k: [row.proposed.get(k), v] for k, v in values.items()
                               if not _same(row.proposed.get(k), v)}
                    row.outcome = "edited" if changed else "approved"
                    row.final = values
                    counts[row.outcome] += 1
                    if changed:
                        edits[str(a.row)] = changed
                recipe = Recipe(day_id=day.id, slot=slot)
                recipe.parameters = [RecipeParameter(name=k, value=v, unit=(units or {}).get(k, ""))
                                     for k, v in values.items()]
                s.add(recipe)
                s.flush()
                row.recipe_id = recipe.id
                ids.append(recipe.id)
            for row in proposal.rows:
                if row.outcome == "pending":
                    row.outcome = "rejected"
                    counts["rejected"] += 1
            _decide(proposal, "approved", by, note, {**counts, "edits": edits})
            day.status = "running"
            return ids

    def reject_proposal(self, campaign_id: int, index: int, *, by: str, note: str = "",
                        pins: Sequence[Mapping[str, float]] = ()) -> None:
        """Reject a pending proposal whole; `pins` are recipes the next round must keep. The day stays awaiting."""
        for i, pin in enumerate(pins):
            _check_finite(pin, f"pinned row {i + 1}")
        with self._transaction("reject_proposal") as s:
            _day_row, proposal = _pending(s, campaign_id, index)
            for row in proposal.rows:
                row.outcome = "rejected"
            pinned = [{k: float(v) for k, v in p.items()} for p in pins]
            _decide(proposal, "rejected", by, note, {"rejected": len(proposal.rows), "pins": pinned})

    # ------------------------------------------------------------------ reads
    def day_proposals(self, campaign_id: int, index: int) -> list[ProposalInfo]:
        """Every proposal round of day `index`, oldest first (empty if the day does not exist)."""
        with self._sessions() as s:
            day = s.scalar(select(Day).where(Day.campaign_id == campaign_id, Day.index == index))
            if day is None:
                return []
            rounds = s.scalars(select(Proposal).where(Proposal.day_id == day.id).order_by(Proposal.round)).all()
            return [_info(p, index) for p in rounds]

    def latest_proposal(self, campaign_id: int, index: int) -> ProposalInfo | None:
        """The last proposal round of day `index`, or None."""
        rounds = self.day_proposals(campaign_id, index)
        return rounds[-1] if rounds else None

    def proposal_summary(self, campaign_id: int, index: int) -> ProposalSummary | None:
        """The last proposal round of day `index` in brief (what `lab campaign status` prints), or None."""
        latest = self.latest_proposal(campaign_id, index)
        return None if latest is None else ProposalSummary(latest.round, latest.status, len(latest.rows))

    def campaign_proposals(self, campaign_id: int) -> list[ProposalInfo]:
        """Every proposal round of the campaign, by day and round."""
        with self._sessions() as s:
            rows = s.execute(
                select(Proposal, Day.index).join(Day, Proposal.day_id == Day.id)
                .where(Day.campaign_id == campaign_id).order_by(Day.index, Proposal.round)
            ).all()
            return [_info(p, index) for p, index in rows]


def _proposal(day_id: int, round_: int, strategy: str, status: str, rows: Sequence[ProposedRow],
              diagnostics: Mapping | None) -> Proposal:
    p = Proposal(day_id=day_id, round=round_, strategy=strategy, status=status, diagnostics=dict(diagnostics or {}),
                 changes={})
    p.rows = [ProposalRow(row=i + 1, origin=r.origin, outcome="pending" if status == "pending" else "approved",
                          proposed={k: float(v) for k, v in r.values.items()}, final={},
                          prediction=_jsonable(r.prediction)) for i, r in enumerate(rows)]
    return p


def auto_proposal(day_id: int, strategy: str, diagnostics: Mapping | None) -> Proposal:
    """The record of a proposal nobody was asked to review (`approval: none`): how it was made."""
    return _proposal(day_id, 1, strategy, "auto", (), diagnostics)


def _decide(proposal: Proposal, status: str, by: str, note: str, changes: dict) -> None:
    proposal.status = status
    proposal.decided_by = (by or "")[:100]
    proposal.decided_at = datetime.now(timezone.utc)
    proposal.note = (note or "")[:1000]
    proposal.changes = changes


def _day(s, campaign_id: int, index: int) -> Day:
    day = s.scalar(select(Day).where(Day.campaign_id == campaign_id, Day.index == index))
    if day is None:
        raise StoreError(f"day {index} of campaign {campaign_id} is not in the store")
    return day


def _last_round(s, day: Day) -> Proposal | None:
    return s.scalar(select(Proposal).where(Proposal.day_id == day.id).order_by(Proposal.round.desc()).limit(1))


def _pending(s, campaign_id: int, index: int) -> tuple[Day, Proposal]:
    """The day and its pending proposal, read inside the transaction (a decision is taken once)."""
    day = _day(s, campaign_id, index)
    last = _last_round(s, day)
    if day.status != AWAITING_APPROVAL or last is None or last.status != "pending":
        what = f"its proposal round {last.round} was {last.status}" if last is not None else "it has no proposal"
        raise StoreError(f"day {index} is not awaiting approval (day {day.status}; {what})")
    return day, last


def _info(p: Proposal, index: int) -> ProposalInfo:
    rows = [ProposalRowInfo(r.row, r.origin, r.outcome, dict(r.proposed or {}), dict(r.final or {}),
                            dict(r.prediction or {}), r.recipe_id) for r in p.rows]
    return ProposalInfo(p.id, index, p.round, p.strategy, p.status, p.decided_by or "", p.decided_at, p.note or "",
                        dict(p.changes or {}), dict(p.diagnostics or {}), p.created_at, rows)


def _check_rows(rows: Sequence[ProposedRow]) -> None:
    for i, r in enumerate(rows):
        _check_finite(r.values, f"proposed row {i + 1}")


def _check_finite(values: Mapping[str, float], where: str) -> None:
    for k, v in values.items():
        if v is None or not math.isfinite(float(v)):
            raise StoreError(f"{where}: {k} = {v!r} is not a finite number; nothing was written")


def _same(old: object, new: float) -> bool:
    if old is None:
        return False
    return abs(float(old) - new) <= UNCHANGED_RTOL * max(1.0, abs(new))


def _jsonable(value: object) -> object:
    """Predictions as JSON: NaN and infinities become None (JSON has no NaN)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value

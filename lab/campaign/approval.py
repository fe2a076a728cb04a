"""The approval gate: a day's proposal written for review, the scientist's edited file checked, the decision stored.

    write_proposal(out, config, space, proposal)       # DIR/day-N/proposal.csv (the runner, when a day waits)
    approve_day(store, info, edited=Path("mine.csv"), by="ana", note="less MWCNT")
    reject_day(store, info, pins=Path("keep.csv"), by="ana", note="all too close to day 2")

`proposal.csv` has one row per proposed recipe: `row` (its number), `origin` (proposed, or pinned from a
rejected round), where its samples would go (`wafer`, `position`, `sample_ids`), the parameter columns, and
the model's view: `<objective>_pred`, `_low`, `_high` (90 % interval, the objective's units), `p_success`,
`exploit_share`, `explore_share`. To approve with changes, edit the parameter values, delete rows (they are
rejected) or add rows with an empty `row` (they are cast as manual recipes), and pass the file as `--edited`.
Every row is checked against the space (bounds, constraints) and the pumps (dispensable volumes) before
anything is written; a bad row is one line naming it, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lab.campaign.config import CampaignConfig
from lab.campaign.plan import plan_day
from lab.errors import ConfigError
from lab.files import write_atomic
from lab.records import FilmKey
from lab.store import Store
from lab.store.progress import CampaignInfo
from lab.store.proposals import AWAITING_APPROVAL, ApprovedRow, ProposalInfo

#: The file a waiting day's proposal is written to, under the campaign's output directory.
PROPOSAL_FILE = "proposal.csv"
#: Columns of `proposal.csv` before the parameters.
LEAD_COLUMNS = ("row", "origin", "wafer", "position", "samples", "sample_ids")
#: Per-row explanation columns after the objectives' predictions.
WHY_COLUMNS = ("p_success", "exploit_share", "explore_share")


@dataclass(frozen=True)
class Decision:
    """What `approve_day` / `reject_day` recorded: the day, the round and the counts of what changed."""

    day: int
    round: int
    changes: dict


def proposal_path(out: Path, day: int) -> Path:
    """`out/day-N/proposal.csv`."""
    return Path(out) / f"day-{day}" / PROPOSAL_FILE


def proposal_frame(config: CampaignConfig, space, proposal: ProposalInfo) -> pd.DataFrame:
    """The proposal as the scientist reviews it (see the module docstring), one row per recipe."""
    layout = dict(plan_day(config, proposal.day, list(range(len(proposal.rows)))))
    records = []
    for slot, r in enumerate(proposal.rows):
        keys: list[FilmKey] = layout.get(slot, [])
        rec = {"row": r.row, "origin": r.origin, "wafer": keys[0].wafer if keys else np.nan,
               "position": keys[0].sample if keys else np.nan, "samples": len(keys),
               "sample_ids": " ".join(k.sample_id for k in keys)}
        rec.update({n: r.proposed.get(n, np.nan) for n in space.names})
        for o in space.objectives:
            for part in ("pred", "low", "high"):
                rec[f"{o.name}_{part}"] = r.prediction.get(f"{o.name}_{part}")
        rec.update({c: r.prediction.get(c) for c in WHY_COLUMNS})
        records.append(rec)
    return pd.DataFrame.from_records(records, columns=_columns(space))


def write_proposal(out: Path, config: CampaignConfig, space, proposal: ProposalInfo) -> Path:
    """Write a pending proposal to `out/day-N/proposal.csv` (whole or not at all); return the path."""
    path = proposal_path(out, proposal.day)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = proposal_frame(config, space, proposal)
    shown = [c for c in frame.columns if c not in (*LEAD_COLUMNS, *space.names)]  # recipes exact, the rest legible
    frame[shown] = frame[shown].apply(pd.to_numeric, errors="coerce").apply(lambda c: c.map(_legible))
    return write_atomic(path, frame.to_csv(index=False))


def awaiting_day(store: Store, info: CampaignInfo) -> tuple[int, ProposalInfo]:
    """The campaign's day awaiting approval and its pending proposal; `ConfigError` (one line) if none waits."""
    days = store.days(info.id)
    waiting = next((d for d in days if d.status == AWAITING_APPROVAL), None)
    proposal = store.latest_proposal(info.id, waiting.index) if waiting is not None else None
    if waiting is None or proposal is None or proposal.status != "pending":
        last = f"day {days[-1].index} is {days[-1].status}" if days else "no day has started"
        if waiting is not None:
            last = f"day {waiting.index}'s proposal round {proposal.round if proposal else '?'} was rejected and " \
                   "is being proposed again (`lab campaign resume` proposes it)"
        raise ConfigError(f"campaign {info.name}: no day awaits approval ({last})")
    return waiting.index, proposal


def approve_day(store: Store, info: CampaignInfo, *, edited: Path | None = None, by: str = "", note: str = ""
                ) -> Decision:
    """Approve the waiting day's proposal, as proposed or as `edited`; one transaction (nothing on bad input)."""
    config = CampaignConfig.model_validate(info.config)
    day, proposal = awaiting_day(store, info)
    space, dispense = _space_of(config)
    if edited is None:
        rows = [ApprovedRow(r.row, r.proposed) for r in proposal.rows]
    else:
        rows = read_rows(edited, "--edited", config, space, dispense, proposal)
    units = {p.name: p.unit for p in space.parameters}
    store.approve_proposal(info.id, day, rows, by=by, note=note, units=units)
    after = store.latest_proposal(info.id, day)
    return Decision(day, proposal.round, after.changes if after is not None else {})


def reject_day(store: Store, info: CampaignInfo, *, pins: Path | None = None, by: str = "", note: str = ""
               ) -> Decision:
    """Reject the waiting day's proposal whole; rows of `pins` are kept in the next round (checked first)."""
    config = CampaignConfig.model_validate(info.config)
    day, proposal = awaiting_day(store, info)
    kept: list[dict] = []
    if pins is not None:
        space, dispense = _space_of(config)
        kept = [dict(r.values) for r in read_rows(pins, "--pin", config, space, dispense, None)]
    store.reject_proposal(info.id, day, by=by, note=note, pins=kept)
    return Decision(day, proposal.round, {"rejected": len(proposal.rows), "pins": len(kept)})


def pinned_rows(proposal: ProposalInfo | None, names: list[str]) -> np.ndarray | None:
    """The recipes a rejected round asked the next one to keep (`k x d`), or None."""
    if proposal is None or proposal.status != "rejected":
        return None
    pins = proposal.changes.get("pins") or []
    return np.array([[float(p[n]) for n in names] for p in pins]) if pins else None


def read_rows(path: Path, option: str, config: CampaignConfig, space, dispense, proposal: ProposalInfo | None
              ) -> list[ApprovedRow]:
    """The recipes of an edited proposal (or of a pin file, `proposal=None`), each checked; in file order.

    Raises:
        ConfigError: one line naming the option, the row and what is wrong (unknown column, a row number that
            is not the proposal's or appears twice, a value outside the bounds or constraints, a component the
            pumps cannot dispense, more recipes than the day holds, none at all).
    """
    from optimizers.errors import OptimizerError

    frame = _read_csv(path, option)
    allowed = set(_columns(space))
    unknown = [c for c in frame.columns if c not in allowed]
    if unknown:
        raise ConfigError(f"{option} {path.name}: unknown column {unknown[0]!r} (the proposal's columns: "
                          f"row, the parameters {', '.join(space.names)}, and the prediction columns)")
    if proposal is not None and "row" not in frame.columns:
        raise ConfigError(f"{option} {path.name}: needs the proposal's `row` column (leave it empty for a recipe "
                          "you add)")
    try:
        X = space.validate_frame(frame, what=f"{option} {path.name}").to_numpy()
    except OptimizerError as exc:
        raise ConfigError(str(exc)) from None
    if len(X) == 0:
        raise ConfigError(f"{option} {path.name}: no recipe in the file" +
                          ("; reject the proposal instead" if proposal is not None else ""))
    if len(X) > config.recipes_per_day:
        raise ConfigError(f"{option} {path.name}: {len(X)} recipes, more than the day's {config.recipes_per_day} "
                          f"(batch {config.batch} / {config.droplets_per_recipe} samples per recipe)")
    numbers = _row_numbers(frame, option, path, proposal) if proposal is not None else [None] * len(X)
    rows = []
    for i, (x, number) in enumerate(zip(X, numbers)):
        recipe = dict(zip(space.names, x.tolist()))
        where = f"{option} {path.name} line {i + 2}" + (f" (row {number})" if number is not None else "")
        try:
            space.check_recipe(recipe)
            if dispense is not None:
                dispense.check_dispensable(recipe)
        except OptimizerError as exc:
            raise ConfigError(f"{where}: {str(exc).removeprefix('recipe: ')}") from None
        rows.append(ApprovedRow(number, recipe))
    return rows


def _row_numbers(frame: pd.DataFrame, option: str, path: Path, proposal: ProposalInfo) -> list[int | None]:
    """Each line's proposal row number (None: a recipe added by hand), checked against the proposal."""
    raw = frame["row"]
    numbers = pd.to_numeric(raw, errors="coerce")
    pending = {r.row for r in proposal.rows}
    out: list[int | None] = []
    for i, (given, value) in enumerate(zip(raw, numbers)):
        if pd.isna(given) or str(given).strip() == "":
            out.append(None)
            continue
        if pd.isna(value) or float(value) != int(value) or int(value) not in pending:
            raise ConfigError(f"{option} {path.name} line {i + 2}: row {given!r} is not a row of day "
                              f"{proposal.day}'s proposal (rows {min(pending)}-{max(pending)}; empty for a new recipe)")
        if int(value) in out:
            raise ConfigError(f"{option} {path.name} line {i + 2}: row {int(value)} appears twice")
        out.append(int(value))
    return out


def _read_csv(path: Path, option: str) -> pd.DataFrame:
    if not Path(path).is_file():
        raise ConfigError(f"{option}: no file {path}")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ConfigError(f"{option} {Path(path).name}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{option} {Path(path).name}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.replace({"": np.nan})


def _legible(value: float) -> float:
    """A prediction to 4 significant digits (the recipe columns keep every digit: they are what is cast)."""
    return float(f"{value:.4g}") if pd.notna(value) else value


def _columns(space) -> list[str]:
    preds = [f"{o.name}_{part}" for o in space.objectives for part in ("pred", "low", "high")]
    return [*LEAD_COLUMNS, *space.names, *preds, *WHY_COLUMNS]


def _space_of(config: CampaignConfig):
    """The campaign's search space and dispensing limits, from its scenario built on simulated stations."""
    from lab.scenarios import build_scenario

    scenario = build_scenario(config.scenario, config.seed, config.thickness_fraction, "simulated", None, None,
                              config.conductivity_model, scenario_file=config.scenario_file)
    try:
        return scenario.space, scenario.dispense
    finally:
        scenario.close()

"""The prior of a campaign: past measurements read from a table or from another campaign's store, checked once.

    prior = load_prior("past_films.csv", scenario)            # parameter columns + objective columns
    prior = load_prior("sqlite:////data/2024/lab.sqlite", scenario)

A table holds one row per sample: the scenario's parameter columns and the objective columns it measured
(other columns are ignored). A store contributes the measured samples of its campaigns of the same scenario,
with the objectives the scenario computes from them. Bad input is one line naming the source and the column:
a missing parameter column, no modelled objective, a value that is not a number.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lab.errors import ConfigError
from lab.scenarios import Scenario


def load_prior(source: str, scenario: Scenario) -> pd.DataFrame:
    """The prior's rows: the parameter columns and the modelled objective columns it carries.

    Raises:
        ConfigError: the file or store cannot be read, or lacks the scenario's parameter columns or every
            modelled objective (the message names `prior` and the source).
    """
    from optimizers.errors import OptimizerError
    from optimizers.prior import prior_objectives

    frame = _from_store(source, scenario) if "://" in source else _from_file(Path(source))
    space = scenario.space
    try:
        carried = prior_objectives(space, frame, frozenset(scenario.known_objectives))
    except OptimizerError as exc:
        raise ConfigError(f"{str(exc).replace('prior:', f'prior {_name(source)}:', 1)}") from None
    frame = frame[[*space.names, *carried]].copy()
    frame[carried] = frame[carried].apply(pd.to_numeric, errors="coerce")
    frame = frame[frame[carried].notna().any(axis=1)].reset_index(drop=True)
    if frame.empty:
        raise ConfigError(f"prior {_name(source)}: no row has a value of {carried}")
    return frame


def _from_file(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ConfigError(f"prior: no file {path}")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ConfigError(f"prior {path.name}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ConfigError(f"prior {path.name}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _from_store(url: str, scenario: Scenario) -> pd.DataFrame:
    """The measured samples of the store's campaigns of this scenario, with their objectives."""
    from lab.store import Store

    with Store(url, read_only=True) as store:
        campaigns = [c for c in store.campaigns() if c.scenario == scenario.name]
        if not campaigns:
            raise ConfigError(f"prior {_name(url)}: the store holds no campaign of scenario {scenario.name!r}")
        parts = []
        for c in campaigns:
            history = store.history(c.id)
            if len(history) == 0:
                continue
            objectives = scenario.objective_frame(history)
            for name in objectives.columns:
                history[name] = objectives[name]
            parts.append(history[history["status"] == "measured"])
    if not parts:
        raise ConfigError(f"prior {_name(url)}: its campaigns of {scenario.name!r} have no measured sample")
    return pd.concat(parts, ignore_index=True)


def _name(source: str) -> str:
    """The source as messages name it (a store URL without its password, a file by name)."""
    if "://" in source:
        from lab.store.revisions import shown

        return shown(source)
    return Path(source).name

"""Reading the lab's YAML files (campaign, bench, scenario) with every failure as one line naming the file."""

from __future__ import annotations

from pathlib import Path

import yaml

from lab.errors import ConfigError


def read_yaml(path: str | Path, what: str) -> object:
    """The parsed content of a YAML file; `ConfigError` for a missing, unreadable, binary or malformed file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file ({what} files are YAML)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what} file ({exc.strerror or exc})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None

"""Which films the (slow, expensive) profilometer measures: the thickness rule of a conductivity station.

`per_recipe` (default): the first film (droplet a) of every recipe, then further films of a recipe evenly spread
over its droplets so that about `fraction` of the films are profiled (droplet `i` is profiled when
`floor(i f) > floor((i - 1) f)`: 1 + floor((n - 1) f) of a recipe's n films, e.g. one of six at f = 0.15, three of
six at 0.5). Why: every profile costs the same profilometer time, and the information one more profile of a
recipe adds about that recipe's thickness shrinks with the profiles it already has (0.5 ln(1 + 1/k) nats for the
(k+1)-th, when film scatter dominates), so information per cost is largest when every recipe gets its first
profile before any recipe gets a second: no recipe is left without a thickness (with a random 15 %, 19 of 54
recipes of a 2-day campaign had none). `random`: each film independently with probability `fraction`.
"""

from __future__ import annotations

import math
from typing import Callable, Literal

from lab.records import DROPLET_LETTERS, FilmKey

#: The rules a conductivity station may follow (`CampaignConfig.thickness_rule`).
ThicknessRule = Literal["per_recipe", "random"]
THICKNESS_RULES: tuple[str, ...] = ("per_recipe", "random")


def profiles_thickness(film: FilmKey, fraction: float, rule: str, draw: Callable[[], float]) -> bool:
    """Whether `film` is profiled under `rule` with share `fraction`; `draw()` gives a uniform number in [0, 1)
    (called by the `random` rule only)."""
    if rule == "random":
        return bool(draw() < fraction)
    if rule != "per_recipe":
        raise ValueError(f"thickness_rule: unknown {rule!r}; choose {' or '.join(THICKNESS_RULES)}")
    if fraction <= 0:
        return False
    i = DROPLET_LETTERS.index(film.droplet)
    return i == 0 or math.floor(i * fraction + 1e-9) > math.floor((i - 1) * fraction + 1e-9)

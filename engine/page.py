"""The report as one self-contained HTML page: Jinja2 templates shipped with the package,
autoescaped (every rule id, action and case value is escaped), inline CSS and SVG, no
script, no network."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2

from .blueprint import CARD_H, CARD_W, LABEL_W, VIS_H, Report
from .metrics import EFFORT, REGISTRY

__all__ = ["render_report", "environment"]


def _num(x: Any) -> str:
    """A figure for people: thousands separated, at most two decimals (a cost of 127.4833
    reads 127.48); the exact value stays in the JSON."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    text = f"{x:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _signed(x: float) -> str:
    return "±0" if x == 0 else ("+" if x > 0 else "−") + _num(abs(x))


def _label(name: str) -> str:
    return name.replace("_", " ")


_DEFINITIONS = {**{m.name: m.definition for m in REGISTRY},
                EFFORT: "the manifest's weighted sum of the metrics (its `weights`)"}


def _definition(name: str) -> str:
    return _DEFINITIONS.get(name, name.replace("_", " "))


def _days(x: float) -> str:
    return f"{x:g} day" + ("" if x == 1 else "s")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("friction", "templates"),
        autoescape=True,                      # every value from a policy or case is escaped
        undefined=jinja2.StrictUndefined,     # a template typo fails the render, not silently
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(num=_num, signed=_signed, label=_label, days=_days, definition=_definition)
    env.globals.update(CARD_W=CARD_W, CARD_H=CARD_H, LABEL_W=LABEL_W, VIS_H=VIS_H)
    return env


def render_report(report: Report, version: str = "", comparison: dict[str, Any] | None = None,
                  live: bool = False) -> str:
    """The whole page as text; `comparison` (compare.Comparison.as_dict()) adds the section
    on policy as written against practice as lived; `live` (friction serve) a script that
    reloads the page when the files change."""
    return environment().get_template("report.html.j2").render(r=report, version=version, comparison=comparison,
                                                                 live=live)

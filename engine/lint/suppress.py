"""Suppressions: what a rule's `lint: {ignore, reason}` and the project's lint config keep
out of the report, and the levels the config changes.

The config is `[tool.friction.lint]` in a pyproject.toml or `[lint]` in a friction.toml,
the first found from the policy set's folder upward (a friction.toml first in each
folder; a pyproject.toml without `[tool.friction.lint]` does not count):

    [tool.friction.lint]
    disable = ["unused-attribute"]          # never report these
    levels = {chain-cycle = "error"}        # report these at another level

Load problems (a set that does not load) can be neither suppressed nor lowered: every
other command would refuse the set anyway.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, Sequence

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import did_you_mean
from ..manifest import PolicySet
from .context import rel
from .findings import CODES, LOAD_CODES, Finding

__all__ = ["CONFIG_FILES", "LintConfig", "Suppressed", "apply", "find_config", "read_config"]

CONFIG_FILES = ("friction.toml", "pyproject.toml")   # looked for in this order in each folder


@dataclass(frozen=True)
class Suppressed:
    """A finding kept out of the report, with who kept it out and why."""

    finding: Finding
    by: str          # "rule <id>" or the config file
    reason: str

    def __str__(self) -> str:
        return f"{self.finding} (suppressed by {self.by}: {self.reason})"

    def as_dict(self) -> dict:
        return {**self.finding.as_dict(), "suppressed_by": self.by, "reason": self.reason}


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    disable: tuple[str, ...] = ()
    levels: dict[str, Literal["error", "warning", "info"]] = {}


@dataclass(frozen=True)
class LintConfig:
    path: str | None = None                 # where it was read from; None: no config
    disable: frozenset[str] = frozenset()
    levels: dict[str, str] = field(default_factory=dict)


def find_config(folder: str | Path) -> Path | None:
    """The lint config that applies to a policy set in `folder`, or None."""
    start = Path(folder).resolve()
    for d in (start, *start.parents):
        if (d / CONFIG_FILES[0]).is_file():
            return d / CONFIG_FILES[0]
        pyproject = d / CONFIG_FILES[1]
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                return pyproject     # read_config reports why it cannot be read
            friction = data.get("tool", {}).get("friction") if isinstance(data.get("tool"), dict) else None
            if isinstance(friction, dict) and "lint" in friction:
                return pyproject
    return None


def read_config(path: str | Path) -> tuple[LintConfig, list[Finding]]:
    """The config in `path`, and its problems as error findings (with their line when known)."""
    path = Path(path)
    shown = rel(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as e:
        return LintConfig(), [Finding("error", "config", shown, None, None, f"cannot read the lint config: {e}")]
    except tomllib.TOMLDecodeError as e:
        line = re.search(r"at line (\d+)", str(e))
        return LintConfig(), [Finding("error", "config", shown, int(line[1]) if line else None, None,
                                      f"bad TOML: {e}")]
    # pyproject.toml holds it under [tool.friction.lint]; any other file under [lint]
    pyproject = path.name == CONFIG_FILES[1]
    table: object = data
    for key in ("tool", "friction", "lint") if pyproject else ("lint",):
        table = table.get(key, {}) if isinstance(table, dict) else None
    where = "[tool.friction.lint]" if pyproject else "[lint]"
    try:
        parsed = _Table.model_validate(table)
    except ValidationError as e:
        err = e.errors()[0]
        loc = err["loc"]
        if not loc:
            return LintConfig(), [Finding("error", "config", shown, _line_of(text, "lint"), None,
                                          f"{where} must be a table (disable = [...], levels = {{...}})")]
        hint = did_you_mean(str(loc[0]), _Table.model_fields) if err["type"] == "extra_forbidden" else ""
        return LintConfig(), [Finding("error", "config", shown, _line_of(text, str(loc[-1])), None,
                                      f"{where} {'.'.join(map(str, loc))}: {err['msg']}{hint}")]
    problems = []
    for code in (*parsed.disable, *parsed.levels):
        why = _why_not_suppressible(code)
        if why:
            problems.append(Finding("error", "config", shown, _line_of(text, code), None, f"{where}: {why}"))
    config = LintConfig(rel(path), frozenset(c for c in parsed.disable if not _why_not_suppressible(c)),
                        {c: lv for c, lv in parsed.levels.items() if not _why_not_suppressible(c)})
    return config, problems


# Never suppressed nor lowered: load problems (every other command refuses such a set) and
# mistakes in the suppressions themselves.
_FIXED = LOAD_CODES | {"config", "bad-suppression"}


def _why_not_suppressible(code: str) -> str | None:
    if code not in CODES:
        return f"unknown lint code '{code}'{did_you_mean(code, CODES)}"
    if code in LOAD_CODES:
        return f"'{code}' is a load problem: the set does not load, so it cannot be suppressed or lowered"
    if code in _FIXED:
        return f"'{code}' reports a mistake in the lint config or a suppression: it cannot be suppressed"
    return None


def _line_of(text: str, word: str) -> int | None:
    for n, line in enumerate(text.splitlines(), 1):
        if word in line:
            return n
    return None


def apply(findings: Sequence[Finding], policy_set: PolicySet | None, config: LintConfig,
          catalogs: bool = False) -> tuple[list[Finding], list[Suppressed]]:
    """The findings to report (levels as the config sets them), and those suppressed; plus
    errors for suppressions that name no lint code, and infos for those that match nothing."""
    ignores: dict[str, tuple[frozenset[str], str]] = {}
    problems: list[Finding] = []
    rules = policy_set.rules if policy_set is not None else ()
    for r in rules:
        if r.lint is None:
            continue
        file, line = policy_set.where[r.id]
        for code in r.lint.ignore:
            why = _why_not_suppressible(code)
            if why:
                problems.append(Finding("error", "bad-suppression", file, line, r.id, f"lint.ignore: {why}"))
        ignores[r.id] = (frozenset(r.lint.ignore), r.lint.reason)

    kept: list[Finding] = []
    suppressed: list[Suppressed] = []
    used: set[tuple[str, str]] = set()
    checked: list[Finding] = []
    for f in findings:
        if f.code not in _FIXED and f.rule in ignores and f.code in ignores[f.rule][0]:
            suppressed.append(Suppressed(f, f"rule {f.rule}", ignores[f.rule][1]))
            used.add((f.rule, f.code))
        else:
            checked.append(f)
    for r in rules:
        if r.id in ignores:
            file, line = policy_set.where[r.id]
            for code in sorted(ignores[r.id][0]):
                if (r.id, code) in used or _why_not_suppressible(code) or \
                        (code == "uncatalogued-event" and not catalogs):   # that check did not run
                    continue
                problems.append(Finding("info", "unused-suppression", file, line, r.id,
                                        f"lint.ignore names '{code}', which lint does not report "
                                        "on this rule: take it off the list"))
    for f in checked + problems:
        if f.code in config.disable:
            suppressed.append(Suppressed(f, config.path or "config", f"'{f.code}' is disabled there"))
        else:
            level = config.levels.get(f.code)
            kept.append(replace(f, level=level) if level else f)
    return kept, suppressed

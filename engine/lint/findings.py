"""What lint reports: a `Finding`, the codes and levels, and their plain-text form."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

__all__ = ["CODES", "LEVELS", "LOAD_CODES", "Finding", "format_findings", "has_errors"]

LEVELS = ("error", "warning", "info")

# Codes of load problems (the set, or a catalog given to lint, does not load).
LOAD_CODES = frozenset({
    "unknown-department", "unknown-channel", "unknown-event", "unknown-attribute", "unknown-step",
    "unknown-key", "duplicate-id", "after-cycle", "step-conflict", "missing-channel",
    "bad-condition", "bad-yaml", "no-policy-set", "load", "catalog"})

# Every code lint emits, with its level.
CODES: dict[str, str] = {
    **{c: "error" for c in sorted(LOAD_CODES)},
    "dead-rule": "error", "config": "error", "bad-suppression": "error",
    "uncatalogued-event": "warning", "duplicate-rule": "warning", "shadowed-rule": "warning",
    "chain-cycle": "warning", "confusable-id": "warning", "uncovered-alternatives": "warning",
    "unused-department": "info", "unused-channel": "info", "unused-attribute": "info",
    "unused-event": "info", "shadowed-by-policy": "info", "unused-suppression": "info",
}


@dataclass(frozen=True)
class Finding:
    level: str          # "error" | "warning" | "info"
    code: str           # short kebab-case id, see CODES
    file: str
    line: int | None
    rule: str | None    # rule id, when the finding is about a rule
    message: str        # one line

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        subject = f"rule {self.rule}: " if self.rule else ""
        return f"{where}: {self.level}: {subject}{self.message} [{self.code}]"

    def as_dict(self) -> dict:
        return asdict(self)

    def sort_key(self) -> tuple:
        return (self.file, self.line or 0, self.code, self.rule or "", self.message)


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.level == "error" for f in findings)


def format_findings(findings: Sequence[Finding]) -> str:
    """One line per finding, then a summary line ("2 errors, 3 warnings, 1 info")."""
    counts = {level: sum(1 for f in findings if f.level == level) for level in LEVELS}
    summary = (f"{counts['error']} error{'' if counts['error'] == 1 else 's'}, "
               f"{counts['warning']} warning{'' if counts['warning'] == 1 else 's'}, "
               f"{counts['info']} info")
    return "".join(f"{f}\n" for f in findings) + summary + "\n"

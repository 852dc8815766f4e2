"""Which cases of a catalog get a blueprint in the report (`--cases`): a glob on case ids,
the N worst by effort, or by default every case of a small catalog and the worst of a big one.
Apart from the blueprints so that the command line reads these without the report's imports."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InputError

__all__ = ["Selection", "parse_selection", "ALL_UP_TO", "WORST_DEFAULT"]

ALL_UP_TO = 300       # a catalog up to this many cases gets a blueprint for every case
WORST_DEFAULT = 50    # past it, only the worst cases get one (the file size stays bounded)


@dataclass(frozen=True)
class Selection:
    """Which cases get a blueprint: ids matching a glob, or the N worst by effort, or (None,
    None) all of them up to ALL_UP_TO cases and the WORST_DEFAULT worst beyond."""

    pattern: str | None = None
    worst: int | None = None

    @property
    def default(self) -> bool:
        return self.pattern is None and self.worst is None


def parse_selection(text: str | None) -> Selection:
    """`--cases`: a glob on case ids (`relocate/*`) or `worst:N`."""
    if not text:
        return Selection()
    m = re.fullmatch(r"worst:(\d+)", text.strip())
    if m:
        return Selection(worst=int(m.group(1)))
    if text.startswith("worst"):
        raise InputError(f"--cases: '{text}' is not of the form worst:N (e.g. worst:20)")
    return Selection(pattern=text)

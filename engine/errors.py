"""One error hierarchy for the library. The CLI maps these to exit codes."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(str(word), sorted(set(map(str, choices))), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass(frozen=True)
class Problem:
    """One finding about one input: where it is and what is wrong."""

    file: str
    line: int | None
    subject: str | None  # "rule address.proof" / "case relocate/elder"
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        subject = f" {self.subject}:" if self.subject else ""
        if not where:  # not about a file (an option, an output path): the message says it all
            return one_line(f"{subject.strip()} {self.message}".strip())
        return one_line(f"{where}:{subject} {self.message}")


def one_line(text: str) -> str:
    """User text (a rule id with a newline in it) must not break a one-line message."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


class FrictionError(Exception):
    """Base of every error friction raises on purpose."""


class InputError(FrictionError):
    """Bad policy files, catalogs or options. Carries every problem found, one per line."""

    def __init__(self, problems: Iterable[Problem] | Problem | str):
        if isinstance(problems, (Problem, str)):
            problems = [problems]
        self.problems = [p if isinstance(p, Problem) else Problem("", None, None, p) for p in problems]
        super().__init__("\n".join(map(str, self.problems)))


class EngineError(FrictionError):
    """The rules engine failed on a case that passed validation (a bug, not bad input)."""


class RunError(FrictionError):
    """A run could not finish for a reason outside its input: a worker process ended
    without handing back its work (killed, or out of memory)."""

"""Names: load problems (unknown names, duplicate ids, bad keys) as lint findings."""
from __future__ import annotations

from ..errors import Problem
from .findings import Finding

__all__ = ["from_problem"]


_LOAD_CODES = (  # (text in the message, code); first match wins
    ("unknown department", "unknown-department"),
    ("unknown channel", "unknown-channel"),
    ("unknown start channel", "unknown-channel"),
    ("unknown life event", "unknown-event"),
    ("is not declared in the manifest", "unknown-attribute"),
    ("which no rule defines", "unknown-step"),
    ("is a step no rule requires", "unknown-step"),
    ("which no rule requires", "unknown-step"),
    ("duplicate rule id", "duplicate-id"),
    ("in a cycle", "after-cycle"),
    ("is defined differently", "step-conflict"),
    ("needs a channel", "missing-channel"),
    ("unknown key", "unknown-key"),
    ("bad YAML", "bad-yaml"),
    ("not a policy set", "no-policy-set"),
    ("no such policy set folder", "no-policy-set"),
    ("only numbers are ordered", "bad-condition"),
    ("condition on '", "bad-condition"),
)


def _classify(message: str) -> str:
    for text, code in _LOAD_CODES:
        if text in message:
            return code
    return "load"


def _split_subject(problem: Problem) -> tuple[str | None, str]:
    """(rule id, message): a 'rule X' subject names the rule; any other subject stays in the text."""
    subject, message = problem.subject, problem.message
    if subject and subject.startswith("rule ") and not subject.startswith("rule #"):
        return subject[len("rule "):], message
    return None, f"{subject}: {message}" if subject else message


def from_problem(problem: Problem, code: str | None = None) -> Finding:
    rule, message = _split_subject(problem)
    return Finding("error", code or _classify(problem.message), problem.file, problem.line, rule,
                   " ".join(message.split()))


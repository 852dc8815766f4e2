"""Names: load problems (unknown names, duplicate ids, bad keys) as lint findings, and
rule ids a reader cannot tell apart."""
from __future__ import annotations

import unicodedata

from ..errors import Problem
from .context import Context
from .findings import Finding

__all__ = ["check", "from_problem", "skeleton"]


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



# --------------------------------------------------------------------------- confusable ids

# Letters of other scripts that look like Latin ones, after case folding: the common
# Cyrillic and Greek look-alikes (a small part of Unicode's confusables table, UTS #39),
# plus dotless i and the digits 0 and 1.
_LOOK_ALIKES = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "н": "h", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "ӏ": "l", "м": "m", "о": "o", "р": "p", "ԛ": "q", "с": "c", "ѕ": "s", "т": "t",
    "у": "y", "х": "x", "ԁ": "d", "ԝ": "w", "ѡ": "w",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "h", "ι": "i", "κ": "k", "μ": "m", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ζ": "z", "γ": "y",
    # Latin and digits
    "ı": "i", "0": "o", "1": "l",
})


def skeleton(text: str) -> str:
    """What a reader sees of an id: compatibility forms folded (NFKC: full-width letters,
    ligatures), case folded, invisible format characters (zero-width space, soft hyphen)
    dropped, and common Cyrillic and Greek look-alikes read as the Latin letters they
    resemble."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFKC", visible.translate(_LOOK_ALIKES))


def _odd_characters(rule_id: str) -> str:
    odd = [ch for ch in dict.fromkeys(rule_id) if not ch.isascii()]
    return ", ".join(f"'{ch}' {unicodedata.name(ch, f'U+{ord(ch):04X}')}" for ch in odd)


def check(ctx: Context) -> None:
    """Rule ids that differ only by case or by look-alike characters."""
    groups: dict[str, list[str]] = {}
    for r in ctx.rules:
        groups.setdefault(skeleton(r.id), []).append(r.id)
    for ids in groups.values():
        if len(ids) < 2:
            continue
        ids.sort(key=ctx.order)
        first = ids[0]
        for other in ids[1:]:
            by_case = first.casefold() == other.casefold()
            how = "by case" if by_case else "by look-alike characters"
            odd = _odd_characters(other) or _odd_characters(first)
            ctx.add("warning", "confusable-id", other,
                    f"id '{other}' differs from rule {ctx.at(first)} only {how}"
                    + (f" ({odd})" if odd and not by_case else "")
                    + ": a reader cannot tell them apart; rename one")

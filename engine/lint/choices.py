"""Alternatives: a step whose channel or days depend on the customer should say what every
customer gets. Cases no alternative fits take the first one, which is rarely meant."""
from __future__ import annotations

from ..language import Step
from .context import Context

__all__ = ["check"]


def check(ctx: Context) -> None:
    defined = {}   # the rule that defines each step in full (the first, by id)
    for r in ctx.rules:
        for t in r.then:
            if isinstance(t, Step):
                defined.setdefault(t.action, r.id)
    for action, step in sorted(ctx.ps.steps.items()):
        for name, choices in step.choices.items():
            gap = _uncovered(ctx, choices)
            if gap is not None:
                first = getattr(choices[0], name)
                shown = f"{first:g} days" if name == "days" else first
                ctx.add("warning", "uncovered-alternatives", defined.get(action),
                        f"step '{action}': its {name} alternatives {gap}: such cases get the first ({shown})")


def _uncovered(ctx: Context, choices) -> str | None:
    """What the alternatives leave out, or None when every case is sure to fit one: the last
    has no `when`, or all test one attribute for equality and name every value it can take."""
    if choices[-1].when is None:
        return None
    whens = [c.when for c in choices]
    attrs = {w.attr for w in whens}
    spec = ctx.manifest.attributes.get(next(iter(attrs))) if len(attrs) == 1 else None
    if spec is None or any(w.op != "eq" for w in whens):
        return "cannot be shown to fit every case (end them with one without `when`, or `else:`)"
    (attr,) = attrs
    values = (True, False) if spec.type == "bool" else spec.values
    if values is None:
        return f"by '{attr}' need `else:` ('{attr}' takes values no list can name)"
    missing = [v for v in values if not any(w.value == v and type(w.value) is type(v) for w in whens)]
    if spec.default is None:
        missing.append("(absent: no default)")
    if missing:
        return f"by '{attr}' leave out {', '.join(_show(v) for v in missing)}"
    return None


def _show(v) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)

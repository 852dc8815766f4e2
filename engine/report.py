"""Reporters: an Evaluation to text (table, JSON, CSV, Markdown). They return strings;
the CLI decides where they go."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from typing import Any

from tabulate import tabulate

from .evaluate import CaseResult, Evaluation
from .journey import JourneyStep
from .model import METRICS, Cause

__all__ = ["FORMATS", "render", "evaluation_to_dict", "result_to_dict", "step_cause"]

FORMATS = ("table", "json", "csv", "markdown")

# Short column titles for the terminal table, in METRICS order.
SHORT = {
    "steps": "steps", "customer_steps": "cust", "backstage_steps": "back", "departments": "depts",
    "channels": "chans", "handoffs": "hand-offs", "channel_switches": "switches",
    "repeated_asks": "re-asks", "elapsed_days": "days", "policy_steps": "policy",
}

# The strongest reason a step exists: law outranks systems, systems outrank choices.
_STRENGTH = [Cause.regulation, Cause.system, Cause.practice, Cause.policy]


def step_cause(step: JourneyStep) -> str:
    return next(c.value for c in _STRENGTH if c in step.causes)


def step_to_dict(step: JourneyStep, policy_made: frozenset[str]) -> dict[str, Any]:
    s = step.step
    return {
        "action": step.action, "lane": s.lane.value, "department": s.department,
        "channel": s.channel, "asks": list(s.asks), "days": s.days, "after": list(step.after),
        "informs": s.informs, "cause": step_cause(step), "causes": [c.value for c in step.causes],
        "rules": list(step.rules), "policy_made": step.action in policy_made, "depth": step.depth,
    }


def result_to_dict(r: CaseResult) -> dict[str, Any]:
    c = r.case
    return {
        "id": c.id, "event": c.event, "persona": c.persona, "channel": c.channel,
        "attributes": dict(c.attrs), "metrics": r.metrics.as_dict(), "effort": r.effort,
        "journey": [step_to_dict(s, r.policy_made) for s in r.journey.steps],
        "flags": [f.as_dict() for f in r.flags],
    }


def evaluation_to_dict(ev: Evaluation) -> dict[str, Any]:
    flag_counts = Counter(f.kind for r in ev.results for f in r.flags)
    return {
        "policy_set": {"name": ev.policy_set, "version": ev.version},
        "engine": ev.engine, "catalog": ev.catalog,
        "cases": [result_to_dict(r) for r in ev.results],
        "errors": [{"file": p.file, "line": p.line, "case": (p.subject or "").removeprefix("case ") or None,
                    "message": p.message} for p in ev.problems],
        "totals": {"cases": len(ev.results), **ev.totals, "flags": dict(sorted(flag_counts.items()))},
    }


def _rows(ev: Evaluation) -> list[list[Any]]:
    rows = []
    for r in ev.results:
        kinds = Counter(f.kind for f in r.flags)
        rows.append([r.case.id, *(r.metrics[m] for m in METRICS), r.effort,
                     ", ".join(f"{k}×{n}" if n > 1 else k for k, n in sorted(kinds.items()))])
    return rows


def render(ev: Evaluation, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(evaluation_to_dict(ev), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["case", "event", "persona", "channel", *METRICS, "effort", "flags"])
        for r in ev.results:
            w.writerow([r.case.id, r.case.event, r.case.persona or "", r.case.channel,
                        *(r.metrics[m] for m in METRICS), r.effort, len(r.flags)])
        return out.getvalue()
    if fmt not in ("table", "markdown"):
        raise ValueError(f"unknown format {fmt!r}")
    headers = ["case", *(SHORT[m] for m in METRICS), "effort", "flags"]
    t = ev.totals
    total_row = [f"TOTAL ({len(ev.results)} cases)", *(t[m] for m in METRICS), t["effort"], ""]
    tablefmt = "github" if fmt == "markdown" else "simple"
    table = tabulate(_rows(ev) + [total_row], headers=headers, tablefmt=tablefmt,
                     floatfmt="g", disable_numparse=False)
    title = f"{ev.policy_set} {ev.version} × {ev.catalog} ({ev.engine} engine)"
    if fmt == "markdown":
        return f"### {title}\n\n{table}\n"
    return f"{title}\n\n{table}\n"

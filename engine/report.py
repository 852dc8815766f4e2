"""Reporters: an Evaluation to text (table, JSON, CSV, Markdown). They return strings;
the CLI decides where they go."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
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


# --------------------------------------------------------------------------- explain


def render_explain(ex, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(asdict(ex), indent=2, ensure_ascii=False, default=str) + "\n"
    md = fmt == "markdown"
    attrs = ", ".join(f"{k}={_show(v)}" for k, v in ex.attributes.items())
    out = [f"{'## ' if md else ''}{ex.case_id}: life event {ex.event}, persona {ex.persona or '-'}, "
           f"starts in {ex.channel}", f"attributes: {attrs}", ""]
    if not ex.steps:
        out.append("No rule requires any step for this case.")
    for s in ex.steps:
        tag = "  [policy-made]" if s.policy_made else ""
        where = s.channel if s.channel != "internal" else "internal"
        plural = "" if s.days == 1 else "s"
        out.append(f"{'### ' if md else ''}{s.position}. {s.action}  "
                   f"({s.lane}, {s.department}, {where}, {s.days:g} day{plural}){tag}")
        if len(s.chain) > 1:
            out.append("   chain: " + " → ".join(f"{step} [{rule}]" for step, rule in s.chain))
        for r in s.reasons:
            out.append(f"   required by {r.rule} ({r.cause}, owner {r.owner}) at {r.where}")
            out.append(f"     why: {r.rationale}" + (f"  (source: {r.source})" if r.source else ""))
            if r.event:
                out.append(f"     ✓ life event is {r.event}")
            for st in r.on_steps:
                out.append(f"     ✓ step '{st}' is already in the journey")
            for c in r.checks:
                actual = ", ".join(f"{k} = {v}" for k, v in c.actual.items())
                out.append(f"     {'✓' if c.holds else '✗'} {c.condition}   (actual: {actual})")
        out.append("")
    return "\n".join(out)


def _show(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


# --------------------------------------------------------------------------- diff


def _signed(x: float) -> str:
    return "0" if x == 0 else f"{x:+g}"


def render_diff(d, fmt: str, only_changed: bool = True) -> str:
    from .diff import DIFF_KEYS
    if fmt == "json":
        return json.dumps({
            "baseline": d.baseline, "draft": d.draft, "catalog": d.catalog,
            "cases": [{"id": c.case, "before": c.before, "after": c.after, "delta": c.delta,
                       "removed_steps": c.removed_steps, "added_steps": c.added_steps,
                       "flags_gone": c.flags_gone, "flags_new": c.flags_new} for c in d.cases],
            "totals": {"before": d.totals_before, "after": d.totals_after, "delta": d.totals_delta},
        }, indent=2, ensure_ascii=False) + "\n"
    md = fmt == "markdown"
    keys = [k for k in DIFF_KEYS]
    headers = ["case", *(SHORT.get(k, k) for k in keys)]
    rows = []
    shown = [c for c in d.cases if c.changed or not only_changed]
    for c in shown:
        if c.before is None or c.after is None:
            rows.append([f"{c.case} ({'only in draft' if c.before is None else 'only in baseline'})"]
                        + [""] * len(keys))
        else:
            rows.append([c.case, *(_signed(c.delta[k]) for k in keys)])
    tb, ta, td = d.totals_before, d.totals_after, d.totals_delta
    rows.append([f"TOTAL ({len(d.cases)} cases)", *(f"{tb[k]:g} → {ta[k]:g} ({_signed(td[k])})" if md
                                                    else _signed(td[k]) for k in keys)])
    table = tabulate(rows, headers=headers, tablefmt="github" if md else "simple", disable_numparse=True)
    title = f"{d.baseline} → {d.draft} on {d.catalog}"
    out = [f"### {title}" if md else title, "", table, ""]
    if not md:
        out.append("totals: " + ", ".join(f"{SHORT.get(k, k)} {tb[k]:g} → {ta[k]:g}" for k in keys))
        out.append("")
    details = [c for c in shown if c.removed_steps or c.added_steps or c.flags_gone or c.flags_new]
    if details:
        out.append("#### What changes per case" if md else "What changes per case:")
        for c in details:
            out.append(f"- **{c.case}**" if md else f"- {c.case}")
            for label, items in (("steps removed", c.removed_steps), ("steps added", c.added_steps),
                                 ("flags gone", c.flags_gone), ("flags new", c.flags_new)):
                if items:
                    out.append(f"  - {label}: " + "; ".join(items))
        out.append("")
    unchanged = len(d.cases) - sum(c.changed for c in d.cases)
    out.append(f"{sum(c.changed for c in d.cases)} case(s) changed, {unchanged} unchanged.")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- rank


def render_rank(rk, fmt: str, top: int | None = None, metrics: tuple[str, ...] = ()) -> str:
    from .rank import RANK_METRICS
    metrics = metrics or (*RANK_METRICS, "effort")
    if fmt == "json":
        def dump(items):
            return [{"name": a.name, "cause": a.cause, "owner": a.owner, "rules": a.rules, "cases": a.cases,
                     "removed": a.removed} for a in items]
        return json.dumps({"by": rk.by, "cases": rk.cases, "rules": dump(rk.rules), "owners": dump(rk.owners),
                           "causes": dump(rk.causes)}, indent=2, ensure_ascii=False) + "\n"
    md = fmt == "markdown"
    tf = "github" if md else "simple"
    rules = rk.rules[:top] if top else rk.rules
    out = [f"{'### ' if md else ''}What each rule costs across {rk.cases} cases (removed without it), "
           f"ranked by {rk.by}", ""]
    out.append(tabulate([[i, a.name, a.cause, a.owner, a.cases, *(a.removed[m] for m in metrics)]
                         for i, a in enumerate(rules, 1)],
                        headers=["#", "rule", "cause", "owner", "cases", *(SHORT.get(m, m) for m in metrics)],
                        tablefmt=tf, floatfmt="g"))
    if top and len(rk.rules) > top:
        out.append(f"... {len(rk.rules) - top} more rules (--top 0 shows all)")
    for title, items in (("per owner", rk.owners), ("per cause", rk.causes)):
        out += ["", f"{'#### ' if md else ''}Rolled up {title} (sum of each rule's own attribution)", ""]
        out.append(tabulate([[a.name, a.rules, *(a.removed[m] for m in metrics)] for a in items],
                            headers=[title.split()[1], "rules", *(SHORT.get(m, m) for m in metrics)],
                            tablefmt=tf, floatfmt="g"))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- coverage


def render_coverage(cov, fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"rules": {"total": cov.rules_total, "fired": cov.rules_fired,
                                     "percent": cov.rule_percent,
                                     "unfired": [{"rule": r, "where": w} for r, w in cov.unfired]},
                           "pairs": {"total": cov.pairs_total, "covered": cov.pairs_covered,
                                     "percent": cov.pair_percent,
                                     "missing": [{"event": e, "persona": p} for e, p in cov.missing_pairs]}},
                          indent=2) + "\n"
    out = [f"rules fired by some case: {cov.rules_fired}/{cov.rules_total} ({cov.rule_percent:g}%)",
           f"life event × persona pairs exercised: {cov.pairs_covered}/{cov.pairs_total} ({cov.pair_percent:g}%)"]
    if cov.unfired:
        out += ["", "Rules no case fires:"]
        out.append(tabulate(cov.unfired, headers=["rule", "where"], tablefmt="github" if fmt == "markdown" else "simple"))
    if cov.missing_pairs:
        out += ["", "Life event × persona pairs no case exercises:"]
        by_event: dict[str, list[str]] = {}
        for e, p in cov.missing_pairs:
            by_event.setdefault(e, []).append(p)
        out += [f"  {e}: {', '.join(ps)}" for e, ps in by_event.items()]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- test


def render_test(run, snap=None) -> str:
    out = []
    for o in run.outcomes:
        if o.passed:
            continue
        out.append(f"FAIL {o.file}:{o.line}: {o.expectation} [{o.case}]")
        for what, expected, actual in o.failures:
            out.append(f"     {what}: expected {expected}, actual {actual}")
    if snap is not None:
        for cid, m, a, b in snap.regressions:
            out.append(f"FAIL snapshot: {cid}: {m} rose {a:g} → {b:g}")
        for cid in snap.missing:
            out.append(f"FAIL snapshot: {cid}: in the snapshot but no longer in the catalog")
        for cid, m, a, b in snap.improvements:
            out.append(f"better: {cid}: {m} fell {a:g} → {b:g}")
        for cid in snap.new:
            out.append(f"new: {cid}: not in the snapshot")
    passed = sum(o.passed for o in run.outcomes)
    failed = len(run.outcomes) - passed
    summary = f"{passed} passed, {failed} failed"
    if snap is not None:
        summary += (f"; snapshot: {len(snap.regressions)} regressions, {len(snap.improvements)} improvements, "
                    f"{len(snap.missing)} missing, {len(snap.new)} new")
    out.append(summary)
    return "\n".join(out) + "\n"

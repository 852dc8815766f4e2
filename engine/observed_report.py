"""Reporters for observed journeys (the per life event distributions) and for a comparison
of model and log. Strings out; the CLI decides where they go."""
from __future__ import annotations

import csv
import io
import json
from typing import Any, Mapping

from .report import SHORT, tabulate

__all__ = ["render_distributions", "render_comparison"]

STATS = ("median", "p90", "max", "mean")


def render_distributions(summary: Mapping[str, Mapping[str, Any]], fmt: str, title: str = "") -> str:
    """Per life event: each metric's median, 90th percentile, maximum and mean over its cases."""
    metrics = _metrics(summary)
    if fmt == "json":
        return json.dumps({"distributions": summary}, indent=2, ensure_ascii=False) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps({"event": e, **s}, ensure_ascii=False) + "\n" for e, s in summary.items())
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["event", "cases", "metric", *STATS])
        for e, s in summary.items():
            for m in metrics:
                w.writerow([e, s["cases"], m, *(s[m][k] for k in STATS)])
        return buf.getvalue()
    md = fmt == "markdown"
    out = [f"### {title}" if md and title else title, ""] if title else []
    for e, s in summary.items():
        out.append(f"{'#### ' if md else ''}{e}: {s['cases']} cases (median, 90th percentile, max, mean)")
        out.append("")
        out.append(tabulate([[k, *(s[m][k] for m in metrics)] for k in STATS],
                            headers=["", *(SHORT.get(m, m) for m in metrics)],
                            tablefmt="github" if md else "simple", floatfmt="g"))
        out.append("")
    return "\n".join(out)


def _metrics(summary: Mapping[str, Mapping[str, Any]]) -> list[str]:
    first = next(iter(summary.values()), {})
    return [k for k in first if k != "cases"]


# --------------------------------------------------------------------------- compare


def render_comparison(cmp: Any, fmt: str, top: int = 5) -> str:
    doc = cmp.as_dict()
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    md = fmt == "markdown"
    tf = "github" if md else "simple"
    h = (lambda n, t: f"{'#' * n} {t}") if md else (lambda n, t: t + (":" if n > 3 else ""))
    out = [h(3, f"{doc['policy_set']['name']} {doc['policy_set']['version']} × {doc['catalog']} "
                f"against {doc['log']} (map {doc['map']})"), ""]
    if doc["log_problems"]:
        out += [f"{doc['log_problems']} case(s) of the log could not be read (see stderr); they are left out.", ""]
    for e in doc["events"]:
        out += [h(4, f"{e['event']}: {e['model_cases']} modelled case(s), {e['observed_cases']} observed"), ""]
        rows = [[SHORT.get(m, m), _num(v["model"]), _num(v["observed"]), _gap(v["gap"])]
                for m, v in e["medians"].items()]
        out += [tabulate(rows, headers=["median", "model", "observed", "gap"], tablefmt=tf, disable_numparse=True), ""]
        if e["unmodelled"]:
            out += [h(5, "Observed steps no rule requires (practice nobody wrote down)"), ""]
            out.append(tabulate([[s["action"], s["cases"], f"{s['share']:.1%}", s["events"],
                                  "yes" if s["in_policy_set"] else "no"] for s in e["unmodelled"]],
                                headers=["step", "cases", "of cases", "events", "defined in the set"], tablefmt=tf,
                                disable_numparse=True))
            out.append("")
        if e["unobserved"]:
            out += [h(5, "Modelled steps never observed (rules not practised, or done outside the log)"), ""]
            out.append(tabulate([[s["action"], s["model_cases"], ", ".join(s["rules"])] for s in e["unobserved"]],
                                headers=["step", "modelled cases", "rules"], tablefmt=tf, disable_numparse=True))
            out.append("")
        if e["variants"]:
            share = e["fitting_cases"] / e["observed_cases"]
            out += [h(5, f"Most common observed variants (of {e['distinct_variants']} distinct; "
                         f"{e['fitting_cases']} cases, {share:.1%}, fit a modelled journey)"), ""]
            out.append(tabulate([[v["cases"], f"{v['share']:.1%}", "yes" if v["fits"] else "no",
                                  " → ".join(v["steps"]) or "(no steps)"] for v in e["variants"][:top]],
                                headers=["cases", "share", "fits", "steps"], tablefmt=tf, disable_numparse=True))
            out.append("")
    for what, names in doc["unlisted"].items():
        out += [f"{what.capitalize()} in the log that the manifest does not list (events): "
                + ", ".join(f"{n} ({k:,})" for n, k in names.items()), ""]
    for label, key in (("Life events only in the log", "only_observed"), ("Life events only in the model", "only_modelled")):
        if doc[key]:
            out += [f"{label}: {', '.join(doc[key])}", ""]
    return "\n".join(out)


def _num(v: Any) -> str:
    return "-" if v is None else f"{v:g}"


def _gap(v: Any) -> str:
    return "-" if v is None else ("0" if v == 0 else f"{v:+g}")

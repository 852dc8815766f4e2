"""A journey as a Mermaid flowchart in blueprint lanes, for the places people review text:
`explain --format mermaid` and the Markdown of `diff` (GitHub draws Mermaid in Markdown).

Every label is text from a policy or a case: it is written inside quotes with Mermaid's
entity codes for the characters that could end the quote or start markup, and node ids
are generated (s1, s2 ...), never taken from rule or step names."""
from __future__ import annotations

import html
from typing import Any, Iterable

from .blueprint import LANE_TITLES, LANES, transitions
from .diff import Diff
from .evaluate import CaseResult, Evaluation

__all__ = ["case_chart", "journey_chart", "diff_charts", "label"]

_CODES = {'"': "#quot;", "#": "#35;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;",
          "\n": " ", "\r": " "}
MAX_DIFF_CHARTS = 10   # changed cases drawn in a diff's Markdown (the biggest changes first)


def label(text: Any) -> str:
    """`text` safe inside a quoted Mermaid label."""
    return "".join(_CODES.get(ch, ch) for ch in str(text))


def _days(x: float) -> str:
    return f"{x:g} day" + ("" if x == 1 else "s")


def journey_chart(journey: list[dict[str, Any]], start_channel: str, flags: Iterable[dict[str, Any]] = (),
                  marks: dict[str, str] | None = None, edges: Iterable[tuple[int, int]] = ()) -> str:
    """A flowchart of a journey (steps as CaseResult.as_dict() gives them) in lanes, steps
    numbered in journey order; `marks` maps an action to "removed" or "added"; `edges` are
    the dependency edges (Journey.edges), along which staff hand-offs are counted."""
    marks = marks or {}
    waits = {s for f in flags if f["kind"] == "silent-wait" for s in f["steps"]}
    ids = {s["action"]: f"s{i}" for i, s in enumerate(journey, 1)}
    out = ["flowchart LR"]
    for lane in LANES:
        steps = [(i, s) for i, s in enumerate(journey, 1) if s["lane"] == lane]
        if not steps:
            continue
        title = LANE_TITLES[lane] + (" — below the line of visibility" if lane == "backstage" else "")
        out.append(f'  subgraph {lane}["{label(title)}"]')
        out.append("    direction LR")
        for i, s in steps:
            tags = []
            if s["policy_made"]:
                tags.append("⚑ POLICY-MADE")
            if s["action"] in marks:
                tags.append({"removed": "✖ REMOVED", "added": "✚ NEW"}[marks[s["action"]]])
            if s["action"] in waits:
                tags.append("◷ silent wait")
            lines = [f"{i}. {label(s['action'])}",
                     f"{label(s['department'])} · {label(s['channel'])} · {_days(s['days'])}"]
            if tags:
                lines.append(" · ".join(tags))
            out.append(f'    {ids[s["action"]]}["{"<br/>".join(lines)}"]')
        out.append("  end")
    for (a, b), (handoff, switch) in zip(zip(journey, journey[1:]), transitions(journey, start_channel, edges)[1:]):
        staff = "" if b["lane"] in ("customer", "frontstage") else "staff "
        what = ([f"{staff}hand-off"] if handoff else []) + ([f"switch to {label(b['channel'])}"] if switch else [])
        arrow = "==>" if handoff else "-.->" if switch else "-->"
        text = f'|"{", ".join(what)}"|' if what else ""
        out.append(f"  {ids[a['action']]} {arrow}{text} {ids[b['action']]}")
    styles = {"policy": "stroke:#b42318,stroke-width:3px", "removed": "stroke-dasharray:5 4,opacity:0.7",
              "added": "stroke:#05603a,stroke-width:4px"}
    classes = {"policy": [ids[s["action"]] for s in journey if s["policy_made"]],
               "removed": [ids[a] for a, m in marks.items() if m == "removed" and a in ids],
               "added": [ids[a] for a, m in marks.items() if m == "added" and a in ids]}
    for name, members in classes.items():
        if members:
            out.append(f"  classDef {name} {styles[name]}")
            out.append(f"  class {','.join(members)} {name}")
    return "\n".join(out) + "\n"


def case_chart(result: CaseResult, marks: dict[str, str] | None = None) -> str:
    d = result.as_dict()
    return journey_chart(d["journey"], d["channel"], d["flags"], marks, result.journey.edges)


def diff_charts(before: Evaluation, after: Evaluation, d: Diff, limit: int = MAX_DIFF_CHARTS) -> str:
    """Markdown: for the changed cases with the biggest change in effort, the journey as-is
    and in the draft, each in a folded block."""
    a = {r.case.id: r for r in before.results}
    b = {r.case.id: r for r in after.results}
    changed = [c for c in d.cases if c.changed and c.case in a and c.case in b]
    changed.sort(key=lambda c: (-abs(c.delta.get("effort", 0)), c.case))
    if not changed:
        return ""
    out = ["#### Journeys before and after", ""]
    if len(changed) > limit:
        out += [f"The {limit} cases whose effort changes most, of {len(changed)} changed "
                "(`friction report --baseline` draws them all).", ""]
    for c in changed[:limit]:
        removed = dict.fromkeys(c.removed_steps, "removed")
        added = dict.fromkeys(c.added_steps, "added")
        effort = c.delta.get("effort", 0)
        out += [f"<details><summary><b>{_html(c.case)}</b>: effort {effort:+g}, steps removed "
                f"{len(c.removed_steps)}, added {len(c.added_steps)}</summary>", "",
                f"As-is ({_html(d.baseline)}):", "", "```mermaid", case_chart(a[c.case], removed).rstrip(), "```", "",
                f"Draft ({_html(d.draft)}):", "", "```mermaid", case_chart(b[c.case], added).rstrip(), "```", "",
                "</details>", ""]
    return "\n".join(out)


def _html(text: str) -> str:
    return html.escape(text, quote=False)

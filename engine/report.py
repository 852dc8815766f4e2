"""Reporters: an Evaluation to text (table, JSON, CSV, Markdown). They return strings;
the CLI decides where they go."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from operator import add
from typing import Any, Iterable, NamedTuple, TextIO

from .errors import Problem
from .capacity import YearlyLoad
from .ci_formats import figure
from .evaluate import CaseResult, Evaluation, Row
from .judge import FLAG_KINDS
from .measure import tidy_number
from .metrics import COLUMNS, HEADLINE, SCORES, YEARLY_FIGURES
from .manifest import Capacity

__all__ = ["FORMATS", "STREAMING_FORMATS", "Block", "BlockEncoder", "Encoded", "RowEncoder", "RowTally", "RowWriter", "render", "evaluation_to_dict", "result_to_dict",
           "problem_row"]

FORMATS = ("table", "json", "jsonl", "csv", "markdown")
STREAMING_FORMATS = frozenset({"jsonl", "csv"})   # written row by row, never held in memory

SHORT = COLUMNS   # short column titles for the terminal table, from the metric registry


def tabulate(rows: Any, **options: Any) -> str:
    """tabulate.tabulate, imported on first use: JSON Lines and CSV draw no table, and the
    import (it pulls in importlib.metadata) would add tens of milliseconds to every start."""
    from tabulate import tabulate as draw
    return draw(rows, **options)


# Flag kinds as the terminal table shows them (JSON and CSV keep the full names).
FLAG_LABEL = {"policy-made": "policy", "channel-switch": "switch", "repeated-ask": "re-ask",
              "silent-wait": "wait", "handoffs": "handoffs", "limit": "limit"}


def result_to_dict(r: CaseResult) -> dict[str, Any]:
    return r.as_dict()


def problem_row(p: Problem) -> dict[str, Any]:
    """A case that could not be evaluated, as an output row: its id and what went wrong."""
    subject = p.subject or ""
    return {"id": subject.removeprefix("case ") if subject.startswith("case ") else None,
            "error": p.message, "file": p.file, "line": p.line}



class Encoded(NamedTuple):
    """A row ready for a writer, small and cheap to send back from a worker process (a
    tuple pickles several times faster than a dataclass)."""

    id: str | None
    values: tuple[float, ...] | None    # METRICS then effort; None for an error row
    flags: tuple[str, ...]               # flag kinds
    text: str | None = None              # the line itself, for streaming formats
    data: dict[str, Any] | None = None   # the whole row, for JSON
    error: dict[str, Any] | None = None
    volume: float = 1                    # cases a year the row stands for
    load: Any = None                     # its capacity.CaseLoad, when the row is an evaluation's


# json.dumps(..., ensure_ascii=False) makes an encoder per call; one per process will do
_to_json = json.JSONEncoder(ensure_ascii=False).encode


class RowEncoder:
    """Turns rows into `Encoded` for one format. The JSON of a shared outcome was encoded
    once, when it was first computed (see evaluate.Outcome), not once per case."""

    def __init__(self, fmt: str, columns: tuple[str, ...] = SCORES):
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}")
        self.fmt = fmt
        self.columns = columns   # values of plain dict rows: metrics, or "effort"
        self._buf = io.StringIO()
        self._csv = csv.writer(self._buf, lineterminator="")

    def _csv_line(self, fields: list[Any]) -> str:
        self._buf.seek(0)
        self._buf.truncate()
        self._csv.writerow(fields)
        return self._buf.getvalue()

    def encode(self, row: Row | dict[str, Any] | Problem) -> Encoded:
        """`row` may also be a row read back from JSON Lines, an error row included."""
        if isinstance(row, Problem) or (isinstance(row, dict) and "error" in row):
            err = problem_row(row) if isinstance(row, Problem) else row
            text = None
            if self.fmt == "jsonl":
                text = json.dumps(err, ensure_ascii=False)
            elif self.fmt == "csv":
                text = self._csv_line([err["id"] or "", "", "", "", *([""] * len(self.columns)), "",
                                       *([""] * len(FLAG_KINDS)), f"{err['file']}:{err['line']}: {err['error']}"])
            return Encoded(err["id"], None, (), text, None, err)
        volume, load = 1, None
        if isinstance(row, Row):
            case, out = row.case, row.outcome
            values, kinds, volume, load = out.values, out.flag_kinds, row.volume, out.load
        else:
            case, out = row, None
            values = tuple(row["effort"] if c == "effort" else row["metrics"][c] for c in self.columns)
            flags = row["flags"]   # a list of flags, or {kind: count} in summary rows
            kinds = (tuple(k for k, n in flags.items() for _ in range(n)) if isinstance(flags, dict)
                     else tuple(f["kind"] for f in flags))
        text = data = None
        if self.fmt == "jsonl":
            if out is None:
                text = json.dumps(row, ensure_ascii=False)
            else:
                text = _to_json(case)[:-1] + ", " + out.fragment + "}"
        elif self.fmt == "csv":
            per_kind = Counter(kinds)
            text = self._csv_line([case["id"], case["event"], case["persona"] or "", case["channel"],
                                   *values, len(kinds), *(per_kind[k] for k in FLAG_KINDS), ""])
        elif self.fmt == "json":
            data = row.as_dict() if isinstance(row, Row) else row
        return Encoded(case["id"], values, kinds, text, data, None, volume, load)


@dataclass
class RowTally:
    """What is counted of rows as they are written: cases, error rows, the sums of the
    columns, flags by kind and, with a yearly load, the rows' loads by volume. Tallies of
    blocks merge by adding (a worker's block into the parent's; a cluster's on a worker)."""

    width: int                          # values per row: the columns summed
    yearly: YearlyLoad | None = None
    cases: int = 0
    errors: int = 0
    totals: list[float] = field(init=False)
    flags: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.totals = [0.0] * self.width

    def add(self, row: Encoded) -> None:
        if row.error is not None:
            self.errors += 1
            return
        self.cases += 1
        self.totals = list(map(add, self.totals, row.values))
        if row.flags:
            self.flags.update(row.flags)
        if self.yearly is not None and row.load is not None:
            self.yearly.add(row.load, row.volume, row.values[-1])

    def merge(self, other: RowTally) -> None:
        self.cases += other.cases
        self.errors += other.errors
        self.totals = [a + b for a, b in zip(self.totals, other.totals)]
        self.flags.update(other.flags)
        if self.yearly is not None and other.yearly is not None:
            self.yearly.merge(other.yearly)


class Block(NamedTuple):
    """Rows encoded where they were evaluated (a worker process): their lines as UTF-8, in
    order, and what a RowWriter tallies of them. The parent writes the bytes as they are."""

    data: bytes
    tally: RowTally
    problems: list[Problem]   # the error rows' problems, in order (the CLI reports them)


class BlockEncoder:
    """`run_cases(..., combine=BlockEncoder(fmt))`: a chunk of encoded rows (Problems in
    place) into one Block, in the process that evaluated them. Streaming formats only; with
    `capacity`, the rows' loads are tallied by volume (a cluster's totals.json shows them)."""

    def __init__(self, fmt: str, capacity: Capacity | None = None, columns: tuple[str, ...] = SCORES):
        if fmt not in STREAMING_FORMATS:
            raise ValueError(f"blocks are for streaming formats, not {fmt!r}")
        self.fmt, self.capacity, self.columns = fmt, capacity, columns
        self._encoder: RowEncoder | None = None

    def __call__(self, rows: Iterable[Encoded | Problem]) -> Block:
        if self._encoder is None:
            self._encoder = RowEncoder(self.fmt, self.columns)
        out = io.StringIO()
        writer = RowWriter(self.fmt, out, "", "", "", "", self.columns, capacity=self.capacity, header=False,
                           tally_yearly=True)
        problems = []
        for row in rows:
            if isinstance(row, Problem):
                problems.append(row)
                row = self._encoder.encode(row)
            writer.add(row)
        return Block(out.getvalue().encode("utf-8"), writer.tally, problems)

    def __getstate__(self) -> dict[str, Any]:   # the encoder holds a csv writer: made again where used
        return {**self.__dict__, "_encoder": None}


class RowWriter:
    """Writes encoded rows in one format. JSON Lines and CSV go out row by row; the other
    formats need every row and are written on close(). Totals are kept as rows pass."""

    def __init__(self, fmt: str, out: TextIO, policy_set: str, version: str, engine: str, catalog: str,
                 columns: tuple[str, ...] = SCORES, meta: dict[str, Any] | None = None, title: str | None = None,
                 capacity: Capacity | None = None, header: bool = True, tally_yearly: bool = False):
        """`columns`, `meta` (the JSON document's header) and `title` let rows other than an
        evaluation's (observed journeys) go through the same writers. With `capacity` (a
        manifest's, when it gives minutes or costs) rows' loads are tallied by volume and the
        yearly figures close the document."""
        self.capacity = capacity
        # Streaming formats have no document to close with the yearly figures: not tallied
        # unless asked (`tally_yearly`: a block whose tally goes on to a cluster's totals).
        tallied = capacity is not None and (tally_yearly or fmt not in STREAMING_FORMATS)
        self.tally = RowTally(len(columns), YearlyLoad() if tallied else None)
        self.fmt, self.out, self.columns = fmt, out, columns
        self.meta = meta or {"policy_set": {"name": policy_set, "version": version}, "engine": engine,
                             "catalog": catalog}
        self.title = title or f"{policy_set} {version} × {catalog} ({engine} engine)"
        self.errors: list[dict[str, Any]] = []
        self.kept: list[Encoded] = []
        if fmt == "csv" and header:
            out.write(",".join(["case", "event", "persona", "channel", *columns, "flags",
                                *(f"flags:{k}" for k in FLAG_KINDS), "error"]) + "\n")

    def add(self, row: Encoded) -> None:
        # written first, then counted: an interrupted run never counts a row it did not write
        if row.text is not None:
            self.out.write(row.text + "\n")
        elif row.error is None:
            self.kept.append(row)
        if row.error is not None:
            self.errors.append(row.error)
        self.tally.add(row)

    def add_block(self, block: Block) -> None:
        """A Block's rows, written as they were encoded, and their tallies."""
        write = getattr(self.out, "write_bytes", None)
        if write is not None:
            write(block.data)
        elif getattr(self.out, "buffer", None) is not None and (self.out.encoding or "").lower().replace("-", "") == "utf8":
            self.out.flush()   # standard output: the bytes go under the text layer, in order
            self.out.buffer.write(block.data)
        else:
            self.out.write(block.data.decode("utf-8"))
        self.tally.merge(block.tally)
        self.errors.extend(problem_row(p) for p in block.problems)

    @property
    def cases(self) -> int:
        return self.tally.cases

    @property
    def totals(self) -> list[float]:
        return self.tally.totals

    @property
    def flags(self) -> Counter:
        return self.tally.flags

    @property
    def yearly(self) -> YearlyLoad | None:
        return self.tally.yearly

    def summary(self) -> dict[str, Any]:
        return {"cases": self.cases, "errors": len(self.errors),
                **{k: tidy_number(v) for k, v in zip(self.columns, self.totals)},
                "flags": dict(sorted(self.flags.items()))}

    def close(self, extra: dict[str, Any] | None = None, yearly: dict[str, Any] | None = None) -> None:
        """`extra`: more top-level keys for the JSON document; `yearly`: the yearly figures
        (default: those tallied from the rows, when a capacity was given)."""
        if yearly is None and self.yearly is not None:
            yearly = self.yearly.report(self.capacity)
        if self.fmt in STREAMING_FORMATS:
            return
        if self.fmt == "json":
            doc = {**self.meta, "cases": [r.data for r in self.kept], "errors": self.errors,
                   "totals": self.summary(), **({"yearly": yearly} if yearly else {}), **(extra or {})}
            self.out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
            return
        rows = []
        for r in self.kept:
            kinds = Counter(FLAG_LABEL.get(k, k) for k in r.flags)
            rows.append([r.id, *r.values, " ".join(f"{k}×{n}" if n > 1 else k for k, n in sorted(kinds.items()))])
        t = self.summary()
        rows.append([f"TOTAL ({self.cases} cases)", *(t[m] for m in self.columns), ""])
        md = self.fmt == "markdown"
        table = tabulate(rows, headers=["case", *(SHORT.get(m, m) for m in self.columns), "flags"],
                         tablefmt="github" if md else "simple", floatfmt="g")
        title = self.title
        self.out.write(f"### {title}\n\n{table}\n" if md else f"{title}\n\n{table}\n")
        if yearly:
            self.out.write("\n" + render_yearly(yearly, md))
        if self.errors:
            self.out.write(f"\n{len(self.errors)} case(s) could not be evaluated (see stderr).\n")


def _whole(x: float) -> str:
    return f"{x:,.0f}"


def render_yearly(y: dict[str, Any], md: bool = False) -> str:
    """The yearly figures as a table footer: load per department against practical capacity,
    contacts per channel, the customer's hours, and over-capacity findings."""
    fmt = "github" if md else "simple"
    head = (f"Both sides of the stage, per year (time-driven activity-based costing): {_whole(y['cases_per_year'])} "
            f"cases; customer effort {_whole(y['effort'])}, {_whole(y['customer_hours'])} h; "
            f"staff {_whole(y['staff_hours'])} h; "
            f"cost {_whole(y['cost'])}")
    depts = [[d, _whole(v["hours"]), "" if v["capacity_hours"] is None else _whole(v["capacity_hours"]),
              "" if v["utilisation"] is None else f"{v['utilisation']:.0%}", _whole(v["cost"])]
             for d, v in y["departments"].items()]
    chans = [[c, _whole(v["contacts"]), _whole(v["cost"])] for c, v in y["channels"].items()]
    out = [f"#### {head}" if md else head, ""]
    if depts:
        out += [tabulate(depts, headers=["department", "hours/yr", "practical capacity", "utilisation", "cost/yr"],
                         tablefmt=fmt, disable_numparse=True, colalign=("left", "right", "right", "right", "right")), ""]
    if chans:
        out += [tabulate(chans, headers=["channel", "contacts/yr", "cost/yr"], tablefmt=fmt,
                         disable_numparse=True, colalign=("left", "right", "right")), ""]
    out += [f"- over-capacity: {f['message']}" for f in y["findings"]]
    return "\n".join(out).rstrip("\n") + "\n"


def render(ev: Evaluation, fmt: str) -> str:
    """A whole Evaluation as text in one format."""
    out = io.StringIO()
    writer = RowWriter(fmt, out, ev.policy_set, ev.version, ev.engine, ev.catalog)
    encoder = RowEncoder(fmt)
    for r in ev.results:
        writer.add(encoder.encode(r.as_dict()))
    for p in ev.problems:
        writer.add(encoder.encode(p))
    writer.close(yearly=ev.yearly_report())
    return out.getvalue()


def evaluation_to_dict(ev: Evaluation) -> dict[str, Any]:
    return json.loads(render(ev, "json"))


# --------------------------------------------------------------------------- explain


def render_explain(ex, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(ex.as_dict(), indent=2, ensure_ascii=False) + "\n"
    md = fmt == "markdown"
    attrs = ", ".join(f"{k}={_show(v)}" for k, v in ex.attributes.items())
    out = [f"{'## ' if md else ''}{ex.case_id}: life event {ex.event}, persona {ex.persona or '-'}, "
           f"starts in {ex.channel}", f"attributes: {attrs}", ""]
    if not ex.steps:
        out.append("No rule requires any step for this case.")
    for s in ex.steps:
        tag = "  [policy-made]" if s.policy_made else ""
        where = s.channel
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
                shown = f"   (actual: {actual})" if actual else ""
                out.append(f"     {'✓' if c.holds else '✗'} {c.condition}{shown}")
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
                       "flags_gone": c.flags_gone, "flags_new": c.flags_new, "flag_change": c.flag_change}
                      for c in d.cases],
            "totals": {"before": d.totals_before, "after": d.totals_after, "delta": d.totals_delta},
            **({"yearly": {"before": d.yearly_before, "after": d.yearly_after}, "findings": d.findings}
               if d.yearly_before is not None else {}),
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
    details = [c for c in shown if c.removed_steps or c.added_steps or c.flag_change]
    if details:
        out.append("#### What changes per case" if md else "What changes per case:")
        for c in details:
            out.append(f"- **{c.case}**" if md else f"- {c.case}")
            for label, items in (("steps removed", c.removed_steps), ("steps added", c.added_steps)):
                if items:
                    out.append(f"  - {label}: " + "; ".join(items))
            if c.flag_change:
                out.append("  - flags: " + ", ".join(f"{k} {n:+d}" for k, n in c.flag_change.items()))
        out.append("")
    if d.yearly_before is not None:
        out.append(_yearly_diff(d.yearly_before, d.yearly_after, md))
        out += [f"- burden-shift: {f['message']}" for f in d.findings]
        out.append("")
    unchanged = len(d.cases) - sum(c.changed for c in d.cases)
    out.append(f"{sum(c.changed for c in d.cases)} case(s) changed, {unchanged} unchanged.")
    return "\n".join(out) + "\n"


def _yearly_diff(b: dict[str, Any], a: dict[str, Any], md: bool) -> str:
    """Where the draft moves work: the customer's effort and hours, the staff's hours in all
    and per department, and the cost, a year."""
    def change(x: float) -> str:
        return "0" if round(x) == 0 else f"{x:+,.0f}"

    rows = [[label, _whole(b[k]), _whole(a[k]), change(a[k] - b[k]), ""]
            for label, k in (("customer effort/yr", "effort"), ("customer hours/yr", "customer_hours"),
                             ("staff hours/yr", "staff_hours"))]
    for d in sorted(set(b["departments"]) | set(a["departments"])):
        hb = b["departments"].get(d, {}).get("hours", 0)
        da = a["departments"].get(d, {})
        ha, util = da.get("hours", 0), da.get("utilisation")
        if hb or ha:
            rows.append([d, _whole(hb), _whole(ha), change(ha - hb), "" if util is None else f"{util:.0%}"])
    rows.append(["cost/yr", _whole(b["cost"]), _whole(a["cost"]), change(a["cost"] - b["cost"]), ""])
    head = "Both sides of the stage, per year (time-driven activity-based costing):"
    table = tabulate(rows, headers=["", "baseline", "draft", "change", "draft utilisation"],
                     tablefmt="github" if md else "simple", disable_numparse=True,
                     colalign=("left", "right", "right", "right", "right"))
    return f"{'#### ' if md else ''}{head}\n\n{table}\n"


# --------------------------------------------------------------------------- rank


def render_rank(rk, fmt: str, top: int | None = None, metrics: tuple[str, ...] = ()) -> str:
    # with minutes or costs in the set, the staff hours and cost a year each rule makes
    metrics = metrics or (*HEADLINE, "effort", *(("staff_hours", "yearly_cost") if rk.yearly else ()))
    if rk.by not in metrics:   # the column ranked by is always shown
        metrics = (*metrics[:-1], rk.by, metrics[-1]) if metrics[-1] == "effort" else (*metrics, rk.by)
    if fmt == "json":
        def dump(items):
            return [{"name": a.name, "cause": a.cause, "owner": a.owner, "rules": a.rules, "cases": a.cases,
                     "removed": a.removed} for a in items]
        return json.dumps({"by": rk.by, "cases": rk.cases, "rules": dump(rk.rules), "owners": dump(rk.owners),
                           "causes": dump(rk.causes)}, indent=2, ensure_ascii=False) + "\n"
    md = fmt == "markdown"
    tf = "github" if md else "simple"
    rules = rk.rules[:top] if top else rk.rules

    def cells(a) -> list:   # yearly figures to the whole hour or unit: "g" would print 1.2e+06
        return [round(a.removed[m]) if m in YEARLY_FIGURES else a.removed[m] for m in metrics]
    out = [f"{'### ' if md else ''}What each rule costs across {rk.cases} cases (removed without it), "
           f"ranked by {rk.by}", ""]
    out.append(tabulate([[i, a.name, a.cause, a.owner, a.cases, *cells(a)]
                         for i, a in enumerate(rules, 1)],
                        headers=["#", "rule", "cause", "owner", "cases", *(SHORT.get(m, m) for m in metrics)],
                        tablefmt=tf, floatfmt="g"))
    if top and len(rk.rules) > top:
        out.append(f"... {len(rk.rules) - top} more rules (--top 0 shows all)")
    for title, items in (("per owner", rk.owners), ("per cause", rk.causes)):
        out += ["", f"{'#### ' if md else ''}{title.capitalize()}: removed when all its rules are removed together",
                ""]
        out.append(tabulate([[a.name, a.rules, a.cases, *cells(a)] for a in items],
                            headers=[title.split()[1], "rules", "cases", *(SHORT.get(m, m) for m in metrics)],
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
                                     "missing": [{"event": e, "persona": p} for e, p in cov.missing_pairs]},
                           "events": {"unhandled": [{"event": e, "cases": n} for e, n in cov.unhandled_events]}},
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
    if cov.unhandled_events:
        out += ["", "Life events of the catalog no rule handles (their journeys are empty):"]
        out += [f"  {e}: {n} case{'' if n == 1 else 's'}" for e, n in cov.unhandled_events]
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
            out.append(f"FAIL snapshot: {cid}: {m} rose {figure(a)} → {figure(b)}")
        for cid in snap.missing:
            out.append(f"FAIL snapshot: {cid}: in the snapshot but no longer in the catalog")
        for cid, m, a, b in snap.improvements:
            out.append(f"better: {cid}: {m} fell {figure(a)} → {figure(b)}")
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

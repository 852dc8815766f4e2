"""The report's content: a catalog's overview and a service blueprint per case, as plain
data for the HTML page (engine/page.py draws it). Everything is read from the one
evaluation (each case's result and trace), explain, rank, diff and coverage; nothing here
measures a journey again.

A catalog is read as a stream: the overview keeps running totals and the few cases it
draws, so a catalog of any length fits in memory."""
from __future__ import annotations

import fnmatch
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .compile import CompiledPolicySet, compile_policy_set
from .coverage import Coverage, CoverageTally
from .diff import CaseDiff, case_diff
from .errors import EngineError, InputError, Problem
from .evaluate import CaseResult, Evaluator
from .explain import explain
from .judge import FLAG_KINDS
from .load import load_policy_set
from .catalog import CatalogStream, open_catalog
from .measure import tidy_number
from .metrics import EFFORT, METRICS, SCORES
from .vocabulary import CUSTOMER_VISIBLE, Lane
from .case import Case
from .rank import Ranking, rank
from .selection import ALL_UP_TO, WORST_DEFAULT, Selection, parse_selection

__all__ = ["Selection", "Report", "CaseView", "Blueprint", "build_report", "parse_selection",
           "LANES", "LANE_TITLES", "ALL_UP_TO", "WORST_DEFAULT", "transitions", "report_from_paths"]

TOP_CASES = 20        # rows of the overview's "worst cases" and "biggest changes" tables
TOP_BARS = 15         # bars per attribution chart

# Blueprint lanes top to bottom (Bitner, Ostrom & Morgan 2008); the line of visibility
# runs between frontstage and backstage.
LANES = ("customer", "frontstage", "backstage", "support")
LANE_TITLES = {"customer": "Customer actions", "frontstage": "Frontstage (seen by the customer)",
               "backstage": "Backstage (unseen)", "support": "Support processes"}

# Geometry of a blueprint, in CSS pixels: the page positions cards and draws connectors
# with the same numbers.
LABEL_W, CARD_W, GAP, LANE_H, CARD_H, VIS_H, PAD = 124, 176, 44, 232, 214, 28, 10
EMPTY_LANE_H = 52   # a lane no step of the case is in stays, short


@dataclass
class Card:
    n: int                   # position in the journey, from 1
    step: dict[str, Any]     # the step as CaseResult.as_dict() gives it
    lane_row: int
    x: int
    y: int
    flags: list[str]         # kinds of the flags that name this step
    why: Any                 # explain.StepWhy
    change: str | None       # "removed" (gone in the draft) / "added" (new in the draft)
    handoff_from: tuple[str, ...]   # departments it is handed off from (transitions)
    switch_from: str | None      # the previous step's channel, when the customer changes channel


@dataclass
class Connector:
    path: str
    handoff: bool
    switch: bool
    title: str


@dataclass
class Blueprint:
    """One journey drawn in lanes: cards in journey order, connectors between them."""

    title: str               # "As-is: bank 2024.3"
    cards: list[Card]
    connectors: list[Connector]
    width: int
    height: int
    lane_bands: list[dict[str, Any]]   # each lane's name, title, y and height
    visibility_y: int
    metrics: dict[str, float]
    effort: float
    flags: list[dict[str, Any]]

    @property
    def flag_counts(self) -> dict[str, int]:
        n = Counter(f["kind"] for f in self.flags)
        return {k: n[k] for k in sorted(n, key=lambda k: (FLAG_KINDS.index(k) if k in FLAG_KINDS else 99, k))}


@dataclass
class CaseView:
    id: str
    anchor: str
    event: str
    persona: str | None
    channel: str
    attributes: dict[str, Any]
    blueprints: list[Blueprint]        # as-is; or as-is then draft
    diff: CaseDiff | None = None


@dataclass
class Overview:
    cases: int = 0
    totals: dict[str, float] = field(default_factory=dict)          # metric -> sum (and effort)
    totals_after: dict[str, float] | None = None                    # draft mode: the draft's
    flags: Counter = field(default_factory=Counter)
    flags_after: Counter | None = None
    worst: list[dict[str, Any]] = field(default_factory=list)       # rows: id, effort, metrics
    changes: list[dict[str, Any]] = field(default_factory=list)     # draft mode: biggest changes
    changed: int = 0
    ranking: Ranking | None = None
    coverage: Coverage | None = None


@dataclass
class Report:
    policy_set: str
    catalog: str
    engine: str
    metrics: list[str]                 # metric names in report order (from the results)
    overview: Overview
    cases: list[CaseView]
    selection_note: str
    baseline: str | None = None        # draft mode: the as-is policy set
    problems: list[Problem] = field(default_factory=list)   # cases that could not be evaluated
    flag_kinds: tuple[str, ...] = FLAG_KINDS


def anchor(case_id: str) -> str:
    """A fragment id for a case: readable, unique for distinct ids, safe in a URL."""
    return "case-" + re.sub(r"[^A-Za-z0-9_-]", lambda m: f".{ord(m.group()):x}.", case_id)


def blueprint(cps: CompiledPolicySet, result: CaseResult, title: str,
              changed: Iterable[str] = (), change: str | None = None) -> Blueprint:
    """The blueprint of one result; steps named in `changed` are marked with `change`."""
    d = result.as_dict()
    why = explain(cps, result).steps
    changed = set(changed)
    by_step: dict[str, list[str]] = {}
    for f in d["flags"]:
        for s in f["steps"]:
            kinds = by_step.setdefault(s, [])
            if f["kind"] not in kinds:
                kinds.append(f["kind"])
    bands, y = [], 0
    row_y = {}
    used = {s["lane"] for s in d["journey"]}
    for lane in LANES:
        if lane == "backstage":
            vis_y = y
            y += VIS_H
        row_y[lane] = y
        h = LANE_H if lane in used else EMPTY_LANE_H
        bands.append({"name": lane, "title": LANE_TITLES[lane], "y": y, "height": h})
        y += h
    cards = [Card(n=i + 1, step=s, lane_row=LANES.index(s["lane"]), x=LABEL_W + i * (CARD_W + GAP),
                  y=row_y[s["lane"]] + (LANE_H - CARD_H) // 2, flags=by_step.get(s["action"], []), why=why[i],
                  change=change if s["action"] in changed else None, handoff_from=h, switch_from=w)
             for i, (s, (h, w)) in enumerate(zip(d["journey"], transitions(d["journey"], d["channel"], result.journey.edges)))]
    connectors = []
    for a, b in zip(cards, cards[1:]):
        x1, y1 = a.x + CARD_W, a.y + CARD_H // 2
        x2, y2 = b.x, b.y + CARD_H // 2
        mid = x1 + GAP // 2
        path = f"M{x1},{y1} H{mid} V{y2} H{x2 - 2}" if y1 != y2 else f"M{x1},{y1} H{x2 - 2}"
        what = []
        if b.handoff_from:
            staff = "" if b.step["lane"] in _VISIBLE else "staff "
            what.append(f"{staff}hand-off {', '.join(b.handoff_from)} → {b.step['department']}")
        if b.switch_from:
            what.append(f"channel switch {b.switch_from} → {b.step['channel']}")
        connectors.append(Connector(path, bool(b.handoff_from), bool(b.switch_from),
                                    f"step {a.n} → {b.n}" + (": " + "; ".join(what) if what else "")))
    width = LABEL_W + max(1, len(cards)) * (CARD_W + GAP) + PAD
    return Blueprint(title=title, cards=cards, connectors=connectors, width=width, height=y, lane_bands=bands,
                     visibility_y=vis_y, metrics=d["metrics"], effort=d["effort"], flags=d["flags"])


def transitions(journey: list[dict[str, Any]], start_channel: str,
                edges: Iterable[tuple[int, int]] = ()) -> list[tuple[tuple[str, ...], str | None]]:
    """For each step (as CaseResult.as_dict() gives them), what the drawing marks on the way
    into it, counted exactly as the metrics count (DESIGN.md, "Two sides, two paths"):
    - the departments it is handed off from: on the customer path (customer and frontstage
      lanes), the previous step on that path when its department is another (`handoffs`);
      for a staff step, one per dependency edge (`edges`, positions as Journey.edges) into
      it from a step of another department (`staff_handoffs`);
    - the channel the customer switches from: the last step the customer acted in (or the
      start channel) was in another one; a frontstage message (`informs`) is no act
      (`channel_switches`). None where there is none."""
    into: dict[int, list[int]] = {}
    for a, b in edges:
        into.setdefault(b, []).append(a)
    out: list[tuple[tuple[str, ...], str | None]] = []
    previous, acting = None, start_channel
    for i, s in enumerate(journey):
        switch = None
        if s["lane"] in _VISIBLE:
            handoff = (previous,) if previous is not None and previous != s["department"] else ()
            previous = s["department"]
            if not (s["informs"] and s["lane"] == Lane.frontstage.value):
                switch = acting if acting != s["channel"] else None
                acting = s["channel"]
        else:
            handoff = tuple(journey[a]["department"] for a in sorted(into.get(i, ()))
                            if journey[a]["department"] != s["department"])
        out.append((handoff, switch))
    return out


_VISIBLE = frozenset(lane.value for lane in CUSTOMER_VISIBLE)


def _case_view(r: CaseResult, blueprints: list[Blueprint], cd: CaseDiff | None = None) -> CaseView:
    c = r.case
    return CaseView(c.id, anchor(c.id), c.event, c.persona, c.channel, dict(c.attrs), blueprints, cd)


def _values(r: CaseResult) -> dict[str, float]:
    return {**r.metrics.as_dict(), "effort": r.effort}


def _add(totals: dict[str, float], values: dict[str, float]) -> None:
    for k, v in values.items():
        totals[k] = tidy_number(totals.get(k, 0) + v)


class _Keeper:
    """The results a report draws, chosen as the stream goes by: every case up to ALL_UP_TO
    (then the worst only), a glob's matches, or the N worst. Memory: bounded by what is drawn."""

    def __init__(self, sel: Selection):
        self.sel = sel
        self.limit = sel.worst if sel.worst is not None else WORST_DEFAULT
        self.all: list[tuple] | None = [] if sel.default else None
        self.worst: list[tuple] = []
        self.matched: list[tuple] = []

    def offer(self, key: float, cid: str, item: tuple) -> None:
        if self.sel.pattern is not None:
            if fnmatch.fnmatchcase(cid, self.sel.pattern):
                self.matched.append(item)
            return
        if self.all is not None:
            self.all.append(item)
            if len(self.all) > ALL_UP_TO:
                self.all = None
        self.worst.append((-key, cid, item))
        if len(self.worst) > 2 * self.limit + 64:
            self._trim()

    def _trim(self) -> None:
        self.worst.sort(key=lambda t: t[:2])   # worst effort first, ties by case id
        del self.worst[self.limit:]

    def chosen(self) -> list[tuple]:
        if self.sel.pattern is not None:
            return self.matched
        if self.all is not None:
            return self.all
        self._trim()
        return [t[2] for t in self.worst]


def _bounded(rows: list[tuple]) -> None:
    """Keep the TOP_CASES first of (sort key, case id, row) rows once the list grows."""
    if len(rows) > 4 * TOP_CASES:
        rows.sort(key=lambda t: t[:2])
        del rows[TOP_CASES:]


def _worst_rows(rows: list[tuple], n: int) -> list[dict[str, Any]]:
    rows.sort(key=lambda t: t[:2])
    return [t[2] for t in rows[:n]]


def build_report(cps: CompiledPolicySet, stream: CatalogStream, *, engine: str = "compiled",
                 selection: Selection = Selection(), baseline: CompiledPolicySet | None = None,
                 baseline_stream: CatalogStream | None = None,
                 watch: Callable[[Iterator], Iterator] = iter, workers: int = 1) -> Report:
    """The report of `cps` on a catalog. With `baseline` (and the same catalog opened for it as
    `baseline_stream`), draft mode: `cps` is the draft, each case is drawn as-is then draft.
    `workers` > 1: attribution (most of the time on a big catalog) in worker processes."""
    if baseline is not None:
        return _draft_report(baseline, cps, baseline_stream, stream, engine, selection, watch)
    evaluator = Evaluator(cps, engine, detail="summary")
    ov = Overview()
    tally = CoverageTally()
    keeper = _Keeper(selection)
    worst: list[tuple] = []
    problems: list[Problem] = []

    def cases() -> Iterator[Case]:
        # The one pass over the catalog: each case's outcome (cached by the rules that fired,
        # so most cases cost one firing) feeds the overview; the case goes on to rank for
        # attribution. Only the cases to draw are kept, and evaluated in full at the end.
        for item in watch(iter(stream)):
            if isinstance(item, Problem):
                problems.append(item)
                continue
            try:
                fired, out = evaluator.outcome(item)
            except EngineError as e:
                problems.append(Problem("<engine>", None, f"case {item.id}", str(e)))
                continue
            values = dict(zip(SCORES, out.values))
            ov.cases += 1
            _add(ov.totals, values)
            ov.flags.update(out.flag_kinds)
            tally.add(fired, item)
            worst.append((-values[EFFORT], item.id, _row(item, values, len(out.flag_kinds))))
            _bounded(worst)
            keeper.offer(values[EFFORT], item.id, (item,))
            yield item

    ranking, _ = rank(evaluator, cases(), workers=workers)
    ov.ranking = ranking
    ov.worst = _worst_rows(worst, TOP_CASES)
    ov.coverage = tally.coverage(cps, stream.loaded)
    chosen = keeper.chosen()
    _check_selection(selection, chosen, ov.cases)
    views = []
    for (case,) in chosen:
        r = evaluator.evaluate(case)
        views.append(_case_view(r, [blueprint(cps, r, f"{cps.name} {cps.manifest.version}")]))
    return Report(policy_set=f"{cps.name} {cps.manifest.version}", catalog=stream.name, engine=engine,
                  metrics=list(METRICS), overview=ov, cases=views,
                  selection_note=_note(selection, len(views), ov.cases),
                  problems=list(dict.fromkeys(problems)))


def report_from_paths(policy_set: str, catalog: str, *, baseline: str | None = None,
                      selection: Selection = Selection(), engine: str = "compiled",
                      watch: Callable[[Iterator], Iterator] = iter, workers: int = 1) -> Report:
    """Load, compile and draw: `friction report` and `friction serve` in one call."""
    cps = compile_policy_set(load_policy_set(policy_set))
    base = base_stream = None
    if baseline:
        base = compile_policy_set(load_policy_set(baseline))
        base_stream = open_catalog(catalog, base.manifest)
    return build_report(cps, open_catalog(catalog, cps.manifest), engine=engine, selection=selection,
                        baseline=base, baseline_stream=base_stream, watch=watch, workers=workers)


def _row(c: Case, values: dict[str, float], flags: int) -> dict[str, Any]:
    return {"id": c.id, "anchor": anchor(c.id), "event": c.event, "persona": c.persona, "values": values,
            "flags": flags}


def _check_selection(sel: Selection, chosen: list, cases: int) -> None:
    if sel.pattern is not None and not chosen and cases:
        raise InputError(f"--cases: no case id matches '{sel.pattern}'")


def _note(sel: Selection, drawn: int, cases: int) -> str:
    if sel.pattern is not None:
        return f"Blueprints of the {drawn} case(s) whose id matches '{sel.pattern}', of {cases}."
    if sel.worst is not None:
        return f"Blueprints of the {drawn} worst case(s) by effort, of {cases} (--cases worst:{sel.worst})."
    if drawn < cases:
        return (f"This catalog has {cases} cases, more than {ALL_UP_TO}: to keep this file small, only the "
                f"{drawn} worst by effort get a blueprint (choose others with --cases).")
    return f"A blueprint for each of the {cases} case(s), in catalog order."


def _lockstep(pairs: Iterator[tuple], name: str) -> Iterator[tuple]:
    try:
        yield from pairs
    except ValueError:   # zip(strict=True): one set expanded the catalog into more cases
        raise InputError(f"{name}: the two policy sets read this catalog into different cases; "
                         "compare them with `friction diff`") from None


def _draft_report(base: CompiledPolicySet, draft: CompiledPolicySet, base_stream: CatalogStream,
                  draft_stream: CatalogStream, engine: str, selection: Selection,
                  watch: Callable[[Iterator], Iterator]) -> Report:
    eb, ed = Evaluator(base, engine), Evaluator(draft, engine)
    ov = Overview(totals_after={}, flags_after=Counter())
    keeper = _Keeper(selection)
    worst: list[tuple] = []
    changes: list[tuple] = []
    problems: list[Problem] = []
    pairs = zip(iter(base_stream), iter(draft_stream), strict=True)
    for a_item, b_item in watch(_lockstep(pairs, base_stream.name)):
        ids = [x.id if isinstance(x, Case) else x.subject for x in (a_item, b_item)]
        if isinstance(a_item, Case) and isinstance(b_item, Case) and a_item.id != b_item.id:
            raise InputError(f"{base_stream.name}: the two policy sets read this catalog differently "
                             f"(case {ids[0]} against {ids[1]}); compare them with `friction diff`")
        results = []
        for item, ev in ((a_item, eb), (b_item, ed)):
            if isinstance(item, Problem):
                problems.append(item)
                results.append(None)
                continue
            try:
                results.append(ev.evaluate(item))
            except EngineError as e:
                problems.append(Problem("<engine>", None, f"case {item.id}", str(e)))
                results.append(None)
        a, b = results
        if a is None or b is None:
            continue
        cd = case_diff(a.case.id, a, b)
        ov.cases += 1
        _add(ov.totals, cd.before)
        _add(ov.totals_after, cd.after)
        ov.flags.update(f.kind for f in a.flags)
        ov.flags_after.update(f.kind for f in b.flags)
        row = _row(a.case, cd.before, len(a.flags)) | {"after": cd.after, "delta": cd.delta}
        worst.append((-a.effort, a.case.id, row))
        if cd.changed:
            ov.changed += 1
            changes.append((-abs(cd.delta.get("effort", 0)), a.case.id, row))
            _bounded(changes)
        _bounded(worst)
        keeper.offer(a.effort, a.case.id, (a, b, cd))
    ov.worst = _worst_rows(worst, TOP_CASES)
    ov.changes = _worst_rows(changes, TOP_CASES)
    chosen = keeper.chosen()
    _check_selection(selection, chosen, ov.cases)
    bname, dname = f"{base.name} {base.manifest.version}", f"{draft.name} {draft.manifest.version}"
    views = [_case_view(a, [blueprint(base, a, f"As-is: {bname}", cd.removed_steps, "removed"),
                            blueprint(draft, b, f"Draft: {dname}", cd.added_steps, "added")], cd)
             for a, b, cd in chosen]
    return Report(policy_set=dname, baseline=bname, catalog=draft_stream.name, engine=engine, metrics=list(METRICS),
                  overview=ov, cases=views, selection_note=_note(selection, len(views), ov.cases),
                  problems=list(dict.fromkeys(problems)))

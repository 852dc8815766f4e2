"""`friction report` without a browser: escaping, which cases get a blueprint, streaming,
bad cases. (tests/test_browser.py opens the page in Chromium.)"""
from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import friction
from builders import BASE_MANIFEST, rule, step, write_set
from friction import blueprint
from friction.page import render_report

ROOT = Path(__file__).resolve().parent.parent


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Tags:
    t = Tags()
    t.feed(html)
    return t


def report(folder: Path, catalog: Path, **kw) -> blueprint.Report:
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    return blueprint.build_report(cps, friction.open_catalog(catalog, cps.manifest), **kw)


# Effort is customer_steps only: a case with products p has 1 + (p >= 3) + (p >= 6) steps.
STEPS = [rule("a.one", [step("first")], event="move"),
         rule("b.two", [step("second")], event="move", all=[{"attr": "products", "ge": 3}]),
         rule("c.three", [step("third")], event="move", all=[{"attr": "products", "ge": 6}])]
MANIFEST = {**BASE_MANIFEST, "weights": {"customer_steps": 1}}


def counted_set(tmp_path: Path) -> Path:
    return write_set(tmp_path / "set", {"r.yaml": STEPS}, MANIFEST)


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_every_value_from_policy_and_case_is_escaped(tmp_path):
    evil = "<script>alert(1)</script>"
    manifest = {**BASE_MANIFEST, "departments": ["A", "R&D <marquee>x</marquee>"]}
    folder = write_set(tmp_path / "set", {"r.yaml": [
        {**rule(f"x.{evil}", [step(f"sign {evil} & \"go\"", department="R&D <marquee>x</marquee>")], event="move"),
         "owner": evil, "rationale": f"because {evil}"}]}, manifest)
    cat = jsonl(tmp_path / "c.jsonl", [{"id": "m/<img src=x onerror=alert(2)>", "event": "move"}])
    html = render_report(report(folder, cat))
    t = parse(html)
    assert "script" not in t.tags and "img" not in t.tags and "marquee" not in t.tags
    assert not any(k.startswith("on") for k, _ in t.attrs)
    text = "".join(t.text)
    assert f"x.{evil}" in text and f"sign {evil} & \"go\"" in text and "m/<img src=x onerror=alert(2)>" in text
    assert "R&D <marquee>x</marquee>" in text


def test_worst_n_picks_by_effort_counted_by_hand(tmp_path):
    cat = jsonl(tmp_path / "c.jsonl", [{"id": f"p{p}", "event": "move", "attrs": {"products": p}}
                                        for p in (1, 7, 4, 0, 6)])
    rep = report(counted_set(tmp_path), cat, selection=blueprint.parse_selection("worst:3"))
    # efforts: p1 1, p7 3, p4 2, p0 1, p6 3 -> worst three: p6 and p7 (3, ties by id), then p4
    assert [c.id for c in rep.cases] == ["p6", "p7", "p4"]
    assert [row["id"] for row in rep.overview.worst] == ["p6", "p7", "p4", "p0", "p1"]
    assert rep.overview.cases == 5 and rep.overview.totals["customer_steps"] == 10
    assert "3 worst" in rep.selection_note


def test_glob_selection_and_bad_selections(tmp_path):
    cat = jsonl(tmp_path / "c.jsonl", [{"id": f"{e}/p{p}", "event": e, "attrs": {"products": p}}
                                        for e in ("move", "ask") for p in (1, 7)])
    rep = report(counted_set(tmp_path), cat, selection=blueprint.parse_selection("move/*"))
    assert [c.id for c in rep.cases] == ["move/p1", "move/p7"]
    with pytest.raises(friction.InputError, match="no case id matches 'nope/\\*'"):
        report(counted_set(tmp_path), cat, selection=blueprint.parse_selection("nope/*"))
    with pytest.raises(friction.InputError, match="worst:N"):
        blueprint.parse_selection("worst:many")


def test_big_catalog_gets_the_worst_blueprints_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(blueprint, "ALL_UP_TO", 4)
    monkeypatch.setattr(blueprint, "WORST_DEFAULT", 2)
    rows = [{"id": f"p{p}", "event": "move", "attrs": {"products": p}} for p in range(8)]
    rep = report(counted_set(tmp_path), jsonl(tmp_path / "c.jsonl", rows))
    assert [c.id for c in rep.cases] == ["p6", "p7"]
    assert "8 cases, more than 4" in rep.selection_note and "2 worst" in rep.selection_note
    small = report(counted_set(tmp_path), jsonl(tmp_path / "s.jsonl", rows[:3]))
    assert [c.id for c in small.cases] == ["p0", "p1", "p2"]   # catalog order


def test_overview_streams_without_holding_cases(tmp_path, monkeypatch):
    """A long JSON Lines catalog: what the report keeps of it stays bounded by what is drawn."""
    rows = [{"id": f"c{i:05d}", "event": "move", "attrs": {"products": i % 11}} for i in range(1500)]
    cat = jsonl(tmp_path / "c.jsonl", rows)
    peak = [0]

    class Watched(blueprint._Keeper):
        def offer(self, key, cid, item):
            super().offer(key, cid, item)
            peak[0] = max(peak[0], len(self.all or ()) + len(self.worst) + len(self.matched))

    monkeypatch.setattr(blueprint, "_Keeper", Watched)
    rep = report(counted_set(tmp_path), cat, selection=blueprint.parse_selection("worst:3"))
    assert rep.overview.cases == 1500 and rep.overview.totals["customer_steps"] == sum(
        1 + (p >= 3) + (p >= 6) for p in (i % 11 for i in range(1500)))
    assert [c.id for c in rep.cases] == ["c00006", "c00007", "c00008"]   # effort 3, first ids
    assert 0 < peak[0] <= 2 * 3 + 64 + 1, peak[0]
    default = report(counted_set(tmp_path), cat)
    assert len(default.cases) == blueprint.WORST_DEFAULT
    assert peak[0] <= blueprint.ALL_UP_TO + 1 + 2 * blueprint.WORST_DEFAULT + 64


def test_bad_case_is_listed_others_drawn_exit_2(tmp_path):
    folder = counted_set(tmp_path)
    cat = jsonl(tmp_path / "c.jsonl", [{"id": "good", "event": "move"}, {"id": "bad", "event": "mvoe"}])
    out = tmp_path / "r.html"
    r = subprocess.run([sys.executable, "-m", "friction", "report", str(folder), str(cat), "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "bad" in r.stderr and "Traceback" not in r.stderr
    html = out.read_text()
    assert 'data-case="good"' in html and "could not be evaluated" in html and "mvoe" in html


def test_report_cli_on_the_bundled_bank(tmp_path):
    out = tmp_path / "r.html"
    r = subprocess.run([sys.executable, "-m", "friction", "report", "--cases", "worst:2", "-o", str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    t = parse(out.read_text())
    assert t.tags.count("section") >= 3 and "script" not in t.tags
    assert "2 blueprints" in r.stderr


def test_serve_binds_loopback_only_and_shows_load_problems(tmp_path):
    from friction import serve
    folder = counted_set(tmp_path)
    (folder / "bad.yaml").write_text("rules:\n  - {id: y, cause: policy, owner: o, rationale: r, when: {event: mvoe},"
                                     " then: [first]}\n")
    live = serve.LiveReport(lambda: render_report(blueprint.report_from_paths(
        str(folder), str(jsonl(tmp_path / "c.jsonl", [{"id": "c", "event": "move"}])))), [folder])
    server = serve.make_server(live, 0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()
    html, ok = live.page()
    assert not ok
    t = "".join(parse(html).text)
    assert "bad.yaml:2" in t and "rule y" in t and "mvoe" in t   # the load problem, with file, line and rule
    assert "unknown-event" in t                                  # and lint's finding on it


def test_attribution_in_workers_gives_the_same_overview(tmp_path):
    rows = [{"id": f"p{i}", "event": "move", "attrs": {"products": i % 9}} for i in range(40)]
    cat = jsonl(tmp_path / "c.jsonl", rows)
    one, two = (report(counted_set(tmp_path), cat, workers=w) for w in (1, 2))
    # by hand: b.two fires for products >= 3 (6 of every 9), c.three for >= 6 (3 of every 9); each adds 1 step
    assert {a.name: a.removed["customer_steps"] for a in one.overview.ranking.rules} == {
        "a.one": 40, "b.two": sum(i % 9 >= 3 for i in range(40)), "c.three": sum(i % 9 >= 6 for i in range(40))}
    assert [(a.name, a.removed) for a in one.overview.ranking.rules] == [(a.name, a.removed) for a in two.overview.ranking.rules]
    assert one.overview.totals == two.overview.totals and [c.id for c in one.cases] == [c.id for c in two.cases]


def _marks(result: friction.CaseResult) -> tuple[int, int, int]:
    """(customer-path hand-offs, staff hand-offs, channel switches) as the blueprint marks them."""
    bp = blueprint.blueprint(result.journey.cps, result, "t")
    visible = [c for c in bp.cards if c.step["lane"] in ("customer", "frontstage")]
    staff = [c for c in bp.cards if c not in visible]
    return (sum(len(c.handoff_from) for c in visible), sum(len(c.handoff_from) for c in staff),
            sum(1 for c in bp.cards if c.switch_from))


def test_the_blueprint_marks_a_fan_out_as_staff_hand_offs_only(tmp_path):
    # one notice (department A) reaches three teams: the customer is handed nowhere (0),
    # each receiving team is one staff hand-off (3); a posted letter from A is no switch.
    folder = write_set(tmp_path / "p", {"r.yaml": [
        rule("tell", [step("tell us once", department="A", channel="web")], event="move"),
        *[rule(f"to {d}", [step(f"update {d}", lane="backstage", department=d)], step="tell us once")
          for d in ("B", "C", "D")],
        rule("letter", [step("confirmation letter", lane="frontstage", department="A", channel="post",
                             informs=True)], step="tell us once"),
    ]}, {**BASE_MANIFEST, "departments": ["A", "B", "C", "D"], "channels": ["web", "phone", "post"]})
    ev = friction.evaluate_paths(str(folder), str(jsonl(tmp_path / "c.jsonl", [
        {"id": "c", "event": "move", "channel": "web"}])))
    r, = ev.results
    assert (r.metrics.handoffs, r.metrics.staff_handoffs, r.metrics.channel_switches) == (0, 3, 0)
    assert _marks(r) == (0, 3, 0)
    bp = blueprint.blueprint(r.journey.cps, r, "t")
    assert sorted(c.handoff_from for c in bp.cards if c.handoff_from) == [("A",), ("A",), ("A",)]


def test_blueprint_marks_count_what_the_metrics_count_on_every_bundled_case():
    # the picture and the numbers agree on every case of the bundled bank and its draft
    from friction.bundled import DEFAULT_CATALOG, bundled_path
    checked = 0
    for name in ("policies/bank", "policies/bank-draft"):
        ev = friction.evaluate_paths(bundled_path(name), bundled_path(DEFAULT_CATALOG))
        for r in ev.results:
            m = r.metrics
            assert _marks(r) == (m.handoffs, m.staff_handoffs, m.channel_switches), r.case.id
            checked += 1
    assert checked > 20

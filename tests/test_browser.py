"""`friction report` opened in headless Chromium: no console errors, no network, the known
case's steps in the right lanes in journey order (positions read from the DOM), draft mode
with the right deltas (counted by hand below), and screenshots for people to look at.

The fixture tests/fixtures/blueprint is a five-step move whose order is forced by `after`:
  1 tell us the new address     customer    Front        web   0 days  (system)
  2 post a proof of address     customer    Post room    post  1 day   (policy)
  3 check the proof             backstage   Back office  -     5 days  (practice, on step 2)
  4 update the record           support     IT           -     0 days  (system)
  5 send a confirmation letter  frontstage  Front        post  0 days  (regulation, informs)
The draft drops 2 and 3 and adds "check the address electronically" (backstage, 0 days)
before 4. By hand: steps 5 -> 4, customer_steps 2 -> 1, backstage_steps 2 -> 2,
elapsed_days 0+1+5+0+0 = 6 -> 0, policy_steps 2 (2 and 3) -> 0, effort (weights
customer_steps 1, elapsed_days 0.5) 2 + 3 = 5 -> 1 + 0 = 1.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from browser import Page, no_browser

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "blueprint"
SHOTS = Path(os.environ.get("FRICTION_SCREENSHOTS", ROOT / "build" / "screenshots"))

AS_IS = [("tell us the new address", "customer"), ("post a proof of address", "customer"),
         ("check the proof", "backstage"), ("update the record", "support"),
         ("send a confirmation letter", "frontstage")]
DRAFT = [("tell us the new address", "customer"), ("check the address electronically", "backstage"),
         ("update the record", "support"), ("send a confirmation letter", "frontstage")]


def friction(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "friction", *args], capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("report")
    plain, draft = out / "plain.html", out / "draft.html"
    cases = str(FIX / "cases.yaml")
    for args in ([str(FIX / "as-is"), cases, "-o", str(plain)],
                 [str(FIX / "draft"), cases, "--baseline", str(FIX / "as-is"), "-o", str(draft)]):
        r = friction("report", *args)
        assert r.returncode == 0, r.stderr
    return {"plain": plain, "draft": draft}


def cards(page, blueprint: str) -> list[dict]:
    """Every card of one blueprint with its box and the box of the lane band it sits in."""
    return page.evaluate("""(sel) => {
        const bp = document.querySelector(sel);
        const bands = {};
        for (const b of bp.querySelectorAll('[data-lane-band]')) {
            const r = b.getBoundingClientRect();
            bands[b.dataset.laneBand] = {top: r.top, bottom: r.bottom};
        }
        return [...bp.querySelectorAll('.card[data-step]')].map(c => {
            const r = c.getBoundingClientRect();
            return {action: c.querySelector('.action').textContent, n: +c.dataset.step,
                    change: c.dataset.change || null, left: r.left, top: r.top, bottom: r.bottom,
                    bands};
        });
    }""", blueprint)


def lane_of(card: dict) -> str:
    """The lane whose band holds the card (by position on screen, not by any attribute)."""
    mid = (card["top"] + card["bottom"]) / 2
    (name,) = [n for n, b in card["bands"].items() if b["top"] <= mid < b["bottom"]]
    return name


def journey(page, blueprint: str) -> list[tuple[str, str]]:
    cs = sorted(cards(page, blueprint), key=lambda c: c["left"])   # left to right on screen
    return [(c["action"], lane_of(c)) for c in cs]


def test_blueprint_lanes_and_order(browser, pages):
    with Page(browser, pages["plain"].as_uri()) as p:
        assert journey(p.page, '[data-case="move/web"] [data-blueprint="1"]') == AS_IS
        # the lanes from top to bottom, the line of visibility between frontstage and backstage
        tops = p.page.evaluate("""() => {
            const y = e => e.getBoundingClientRect().top;
            const bp = document.querySelector('[data-case="move/web"] .blueprint');
            const out = {};
            for (const b of bp.querySelectorAll('[data-lane-band]')) out[b.dataset.laneBand] = y(b);
            out.visibility = y(bp.querySelector('.visibility'));
            return out; }""")
        assert tops["customer"] < tops["frontstage"] < tops["visibility"] < tops["backstage"] < tops["support"]
        # policy-made steps carry a badge a reader sees without colour
        badges = p.page.locator('.card:has(.badge.policy) .action').all_inner_texts()
        assert sorted(badges) == ["check the proof", "post a proof of address"]
        # the 5-day wait is over the threshold (2) with no word to the customer
        assert p.page.locator('.card:has(.mark.wait) .action').all_inner_texts() == ["check the proof"]
        # "why is this step here" opens without script and shows the chain
        why = p.page.locator('.card[data-action="check the proof"] details')
        why.locator("summary").click()
        assert "post a proof of address" in why.inner_text() and "practice" in why.inner_text()
        assert p.page.evaluate("document.scripts.length") == 0
        assert p.errors == []
        assert [u for u in p.requests if not u.startswith("file:")] == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        p.page.locator('[data-case="move/web"]').screenshot(path=str(SHOTS / "fixture-blueprint.png"))


def test_draft_mode_deltas_and_changes(browser, pages):
    with Page(browser, pages["draft"].as_uri()) as p:
        case = '[data-case="move/web"]'
        assert journey(p.page, f"{case} [data-blueprint='1']") == AS_IS
        assert journey(p.page, f"{case} [data-blueprint='2']") == DRAFT
        asis, draft = cards(p.page, f"{case} [data-blueprint='1']"), cards(p.page, f"{case} [data-blueprint='2']")
        # the draft blueprint is drawn below the as-is one
        assert min(c["top"] for c in draft) > max(c["bottom"] for c in asis)
        assert sorted(c["action"] for c in asis if c["change"] == "removed") == ["check the proof",
                                                                                 "post a proof of address"]
        assert [c["action"] for c in draft if c["change"] == "added"] == ["check the address electronically"]
        deltas = dict(p.page.evaluate(f"""() => [...document.querySelectorAll('{case} [data-deltas] [data-delta]')]
            .map(td => [td.dataset.metric, td.textContent.trim()])"""))
        assert {m: deltas[m] for m in ("steps", "customer_steps", "backstage_steps", "elapsed_days",
                                       "policy_steps", "effort")} == {
            "steps": "−1", "customer_steps": "−1", "backstage_steps": "±0", "elapsed_days": "−6",
            "policy_steps": "−2", "effort": "−4"}
        # the catalog-wide overview says the same (one case)
        total = p.page.locator('#overview [data-totals="diff"] [data-metric="effort"]').inner_text()
        assert "5 → 1" in total and "−4" in total
        assert p.errors == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        p.page.screenshot(path=str(SHOTS / "fixture-draft.png"), full_page=True)


def test_bank_draft_report_in_browser(browser, tmp_path):
    """The bundled bank against its draft, one case: opens clean; the screenshot the README shows."""
    out = tmp_path / "bank.html"
    r = friction("report", "policies/bank-draft", "cases/life-events.yaml", "--baseline", "policies/bank",
                 "--cases", "relocate/offline-elder", "-o", str(out))
    assert r.returncode == 0, r.stderr
    with Page(browser, out.as_uri(), width=1500) as p:
        assert p.errors == []
        assert p.page.locator("section.case").count() == 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        # the whole as-is journey, however wide: widen the page to the blueprint first
        width = p.page.evaluate("document.querySelector('[data-blueprint=\"1\"]').scrollWidth")
        p.page.set_viewport_size({"width": int(width) + 80, "height": 1000})
        p.page.locator('section.case').screenshot(path=str(SHOTS / "blueprint.png"))


# --------------------------------------------------------------------------- Mermaid

MERMAID_JS = Path(os.environ.get("FRICTION_MERMAID_JS",
                                 ROOT / ".venv" / "node" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"))


@pytest.fixture(scope="module")
def mermaid(browser):
    """Mermaid itself (from npm, `make mermaid-js`), loaded into a blank page: render(text)
    returns the drawn SVG's text, or raises on a chart Mermaid rejects."""
    if not MERMAID_JS.is_file():
        no_browser(f"Mermaid's JavaScript is not at {MERMAID_JS} (`make mermaid-js` installs it from npm)")
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_content("<!DOCTYPE html><html><body></body></html>")
    page.add_script_tag(path=str(MERMAID_JS))
    page.evaluate("mermaid.initialize({startOnLoad: false, securityLevel: 'strict'})")
    count = [0]

    def render(text: str) -> dict:
        count[0] += 1
        return page.evaluate("""async ([id, text]) => {
            await mermaid.parse(text);
            const {svg} = await mermaid.render(id, text);
            const box = document.createElement('div');
            box.innerHTML = svg;
            return {text: box.textContent, scripts: box.querySelectorAll('script').length,
                    nodes: box.querySelectorAll('.node').length, clusters: box.querySelectorAll('.cluster').length};
        }""", [f"chart{count[0]}", text])

    yield render
    assert errors == []
    page.close()


def test_explain_mermaid_draws_the_journey(mermaid):
    r = friction("explain", "move/web", "--policies", str(FIX / "as-is"), "--catalog", str(FIX / "cases.yaml"),
                 "--format", "mermaid")
    assert r.returncode == 0, r.stderr
    edges = [line.strip() for line in r.stdout.splitlines() if "s" in line and ("==>" in line or "-->" in line
                                                                              or "-.->" in line)]
    # customer path 1, 2, 5 (Front, Post room, Front): two hand-offs, into 2 and 5; staff steps
    # 3 (Back office, after 2) and 4 (IT, after 3): one staff hand-off each; the customer
    # switches web -> post at 2, and the posted letter (5) is no switch
    assert edges == ['s1 ==>|"hand-off, switch to post"| s2', 's2 ==>|"staff hand-off"| s3',
                     's3 ==>|"staff hand-off"| s4', 's4 ==>|"hand-off"| s5']
    drawn = mermaid(r.stdout)
    assert drawn["nodes"] == 5 and drawn["clusters"] == 4 and drawn["scripts"] == 0
    for i, (action, _) in enumerate(AS_IS, 1):
        assert f"{i}. {action}" in drawn["text"]
    assert "POLICY-MADE" in drawn["text"] and "Backstage (unseen) — below the line of visibility" in drawn["text"]


def test_mermaid_labels_are_escaped(mermaid, tmp_path):
    from builders import BASE_MANIFEST, rule, step, write_set
    evil = 'say "hi"]; click s1 call alert(1) %% <script>x</script> #1 & `b`'
    folder = write_set(tmp_path / "set", {"r.yaml": [rule("x", [step(evil)], event="move")]}, BASE_MANIFEST)
    cat = tmp_path / "c.yaml"
    cat.write_text("cases:\n  - {id: c, event: move}\n")
    r = friction("explain", "c", "--policies", str(folder), "--catalog", str(cat), "--format", "mermaid")
    assert r.returncode == 0, r.stderr
    drawn = mermaid(r.stdout)
    assert drawn["nodes"] == 1 and drawn["scripts"] == 0
    assert evil in drawn["text"]   # shown as written, nothing taken as syntax or markup


def test_diff_markdown_carries_mermaid_journeys(mermaid):
    r = friction("diff", str(FIX / "as-is"), str(FIX / "draft"), str(FIX / "cases.yaml"), "--format", "markdown")
    assert r.returncode == 0, r.stderr
    blocks = r.stdout.split("```mermaid\n")[1:]
    assert len(blocks) == 2   # the one changed case, as-is and draft
    charts = [b.split("```")[0] for b in blocks]
    asis, draft = (mermaid(c) for c in charts)
    assert "✖ REMOVED" in asis["text"] and asis["nodes"] == 5
    assert "✚ NEW" in draft["text"] and draft["nodes"] == 4


# --------------------------------------------------------------------------- friction serve


def test_serve_redraws_when_a_rule_file_changes(browser, tmp_path):
    import shutil
    import time
    work = tmp_path / "blueprint"
    shutil.copytree(FIX, work)
    proc = subprocess.Popen([sys.executable, "-m", "friction", "serve", str(work / "as-is"), str(work / "cases.yaml"),
                             "--port", "0", "--stop-after", "90"],   # stops by itself even if this test dies
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        line = proc.stderr.readline()
        assert "serving http://127.0.0.1:" in line, line
        url = line.split("serving ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        with Page(browser, url) as p:
            case = '[data-case="move/web"] [data-blueprint="1"]'
            assert journey(p.page, case) == AS_IS
            # the owner adds a rule: the customer must phone to confirm, after the letter
            rules = work / "as-is" / "rules.yaml"
            rules.write_text(rules.read_text() + """
  - id: confirm-call
    cause: practice
    owner: Front
    rationale: Letters are confirmed by phone.
    when: {step: send a confirmation letter}
    then:
      - {action: phone to confirm, lane: customer, department: Front, channel: web,
         after: [send a confirmation letter]}
""")
            p.page.wait_for_function(
                "document.querySelectorAll('[data-case=\"move/web\"] .card[data-step]').length === 6", timeout=15000)
            assert journey(p.page, case) == [*AS_IS, ("phone to confirm", "customer")]
            # a broken file: the page names the file and line instead of going blank
            (work / "as-is" / "broken.yaml").write_text("rules:\n  - {id: x, cause: polcy, owner: o, rationale: r,"
                                                          " when: {event: move}, then: [tell us the new address]}\n")
            p.page.wait_for_selector("#problems", timeout=15000)
            text = p.page.locator("#problems").inner_text()
            assert "broken.yaml:2" in text and "rule x" in text and "cause" in text
            (work / "as-is" / "broken.yaml").unlink()
            p.page.wait_for_selector('[data-case="move/web"]', timeout=15000)
            time.sleep(0.2)
            assert p.errors == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)

"""`friction report --log --map`: the section comparing the model with an event log, opened
in headless Chromium. Values counted by hand in tests/test_compare.py (the intake set, its
catalog and the tiny log): Send letter observed in 1 of 2 cases and never modelled; Approve
modelled in 2 cases and never observed; median steps 3.5 modelled, 5 observed."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from browser import Page
from test_browser import SHOTS

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "tests" / "fixtures" / "logs"


def test_report_with_a_log_has_the_practice_section(browser, tmp_path):
    out = tmp_path / "practice.html"
    r = subprocess.run([sys.executable, "-m", "friction", "report", str(LOGS / "intake"), str(LOGS / "intake-cases.yaml"),
                        "--log", str(LOGS / "tiny.xes"), "--map", str(LOGS / "tiny-map.yaml"), "-o", str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    with Page(browser, out.as_uri(), width=1400) as p:
        section = p.page.locator("#practice")
        assert section.is_visible()
        rows = section.locator('[data-medians] tr[data-metric="steps"] td').all_inner_texts()
        assert rows[1:] == ["3.5", "5", "+1.5"]
        assert section.locator("[data-unmodelled] td.text").all_inner_texts() == ["Send letter"]
        assert section.locator("[data-unobserved] tr td:first-child").all_inner_texts() == ["Approve"]
        assert section.locator("[data-variants] td.variant").count() == 2
        assert p.page.locator('nav a[href="#practice"]').count() == 1
        assert p.errors == [] and p.page.evaluate("document.scripts.length") == 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        section.screenshot(path=str(SHOTS / "practice-section.png"))


def test_report_log_without_map_is_an_input_error():
    r = subprocess.run([sys.executable, "-m", "friction", "report", str(LOGS / "intake"), str(LOGS / "intake-cases.yaml"),
                        "--log", str(LOGS / "tiny.xes")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "--log and --map go together" in r.stderr and "Traceback" not in r.stderr


def test_receipt_example_report_in_browser(browser, tmp_path):
    """The worked example of the README: opens clean; the screenshot the README shows."""
    out = tmp_path / "receipt.html"
    r = subprocess.run([sys.executable, "-m", "friction", "report", "policies/receipt-intake", "cases/receipt-intake.yaml",
                        "--log", "cases/receipt.xes.gz", "--map", "cases/receipt-map.yaml", "--cases", "worst:1",
                        "-o", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    with Page(browser, out.as_uri(), width=1400) as p:
        assert p.errors == []
        section = p.page.locator("#practice")
        assert "adjust the confirmation of receipt" in section.locator("[data-unmodelled]").inner_text()
        assert "send the missing document" in section.locator("[data-unobserved]").inner_text()
        SHOTS.mkdir(parents=True, exist_ok=True)
        section.screenshot(path=str(SHOTS / "practice.png"))

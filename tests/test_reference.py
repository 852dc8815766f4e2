"""The reference journeys (policies/reference/): real reforms replayed as pairs of policy
sets, each pair with one catalog and expectations that pin the published figures.

For every set: `friction test` passes, `friction lint` finds no error or warning (an info
is allowed only for an attribute of the shared catalog that the other set of the pair
reads), `friction coverage` fires every rule and covers every event x persona pair, every
rule cites a dated public source and every expectation names one. The expected values live
in the expectation files (hand counts of the published journeys, see SOURCES.md); the last
test shows they bite: remove one body the bereaved must tell and `friction test` fails.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from friction import cli

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "policies" / "reference"
PAIRS = sorted(p.parent.name for p in REFERENCE.glob("*/catalog.yaml"))
SIDES = ("as-is", "redesigned")
SETS = [(pair, side) for pair in PAIRS for side in SIDES]
YEAR = re.compile(r"\b(19|20)\d\d\b")


@pytest.fixture(scope="module", autouse=True)
def _at_root():
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        yield


def run(*args: str | Path):
    return CliRunner().invoke(cli.main, [str(a) for a in args], catch_exceptions=False)


def folder(pair: str, side: str) -> Path:
    return (REFERENCE / pair / side).relative_to(ROOT)


def catalog(pair: str) -> Path:
    return (REFERENCE / pair / "catalog.yaml").relative_to(ROOT)


def lint_findings(pair: str, side: str) -> list[dict]:
    r = run("lint", folder(pair, side), "--catalog", catalog(pair), "--format", "json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def rule_files(pair: str, side: str) -> list[Path]:
    return sorted(p for p in (REFERENCE / pair / side).glob("*.yaml") if p.name != "policy-set.yaml")


def test_at_least_five_pairs_each_with_both_sides_and_sources():
    assert len(PAIRS) >= 5, PAIRS
    sources = (REFERENCE / "SOURCES.md").read_text(encoding="utf-8")
    for pair in PAIRS:
        for side in SIDES:
            assert (REFERENCE / pair / side / "policy-set.yaml").is_file(), (pair, side)
            assert list((REFERENCE / pair / side / "expectations").glob("*.yaml")), (pair, side)
        assert f"`{pair}`" in sources, f"SOURCES.md says nothing about {pair}"


@pytest.mark.parametrize("pair,side", SETS)
def test_published_figures_hold(pair, side):
    r = run("test", folder(pair, side))
    assert r.exit_code == 0, r.output
    assert re.search(r"[1-9]\d* passed, 0 failed", r.output), r.output


@pytest.mark.parametrize("pair,side", SETS)
def test_lint_is_clean(pair, side):
    findings = lint_findings(pair, side)
    assert not [f for f in findings if f["level"] != "info"], findings
    other = SIDES[1 - SIDES.index(side)]
    unread_there = {f["message"] for f in lint_findings(pair, other) if f["code"] == "unused-attribute"}
    for f in findings:
        # the only info allowed: an attribute of the shared catalog that the other set reads
        assert f["code"] == "unused-attribute", f
        assert f["message"] not in unread_there, f"neither set of {pair} reads it: {f['message']}"


@pytest.mark.parametrize("pair,side", SETS)
def test_coverage_is_complete(pair, side):
    r = run("coverage", folder(pair, side), catalog(pair), "--format", "json")
    assert r.exit_code == 0, r.output
    cov = json.loads(r.stdout)
    assert cov["rules"]["unfired"] == [] and cov["rules"]["fired"] == cov["rules"]["total"] > 0, cov
    assert cov["pairs"]["missing"] == [] and cov["pairs"]["covered"] == cov["pairs"]["total"] > 0, cov


@pytest.mark.parametrize("pair,side", SETS)
def test_every_rule_and_expectation_names_a_dated_source(pair, side):
    rules = [r for p in rule_files(pair, side) for r in yaml.safe_load(p.read_text(encoding="utf-8"))["rules"]]
    assert rules
    for rule in rules:
        assert YEAR.search(rule.get("source") or ""), f"{pair}/{side}: rule {rule['id']} cites no dated source"
    for p in (REFERENCE / pair / side / "expectations").glob("*.yaml"):
        for e in yaml.safe_load(p.read_text(encoding="utf-8"))["expectations"]:
            assert re.search(r"\(.*\b(19|20)\d\d\b.*\)", e["name"], re.S), f"{p}: '{e['name']}' names no source"


def test_expectations_bite_when_a_body_is_dropped(tmp_path):
    """Before Tell Us Once the bereaved told HMRC themselves; a set where they do not must
    break the published count of contacts (7), so `friction test` exits 1."""
    pair = tmp_path / "uk-bereavement"
    shutil.copytree(REFERENCE / "uk-bereavement", pair)
    bodies = pair / "as-is" / "bodies.yaml"
    data = yaml.safe_load(bodies.read_text(encoding="utf-8"))
    data["rules"] = [r for r in data["rules"] if r["id"] != "hmrc.told-separately"]
    bodies.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    r = run("test", pair / "as-is")
    assert r.exit_code == 1, r.output
    assert "contact 7 organisations" in r.output and "0 failed" not in r.output, r.output

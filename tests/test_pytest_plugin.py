"""The pytest plugin: a policy set's expectations/*.yaml are test items in the user's own
pytest run, one per expectation, named by it; failures show expected against actual and
the rules behind the journey. And friction.testing leaves a user's own Hypothesis
profiles alone."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests/fixtures/tiny"

pytest_plugins = ["pytester"]


@pytest.fixture
def project(pytester: pytest.Pytester) -> Path:
    """A user's project: the tiny policy set with an expectations folder, and a catalog."""
    dest = pytester.path / "policies" / "tiny"
    shutil.copytree(TINY, dest)
    shutil.copy(ROOT / "tests/fixtures/tiny-cases.yaml", pytester.path / "cases.yaml")
    (dest / "expectations").mkdir()
    (dest / "expectations" / "promises.yaml").write_text(json.dumps({
        "catalog": "../../../cases.yaml",
        "expectations": [
            {"name": "moving never takes more than twenty steps", "select": {"event": "move"},
             "expect": {"steps": {"max": 20}}},
            {"name": "moving costs the customer nothing", "select": {"event": "move"},
             "expect": {"customer_steps": {"max": 0}}},
        ]}), encoding="utf-8")
    (pytester.path / "notes.yaml").write_text("not: an expectation\n")
    return pytester.path


def test_each_expectation_is_a_test_item_named_by_it(pytester: pytest.Pytester, project):
    r = pytester.runpytest_subprocess("policies", "-v", "-p", "no:cacheprovider")
    r.assert_outcomes(passed=1, failed=1)
    out = r.stdout.str()
    assert "promises.yaml::moving never takes more than twenty steps PASSED" in out
    assert "promises.yaml::moving costs the customer nothing FAILED" in out
    # expected against actual, per case, with the rules behind the journey
    assert "customer_steps: expected at most 0, actual" in out
    assert "journey (step  [rules that require it]):" in out
    assert "[move." in out or "[" in out.split("journey (step")[1].splitlines()[1]


def test_only_expectation_folders_beside_a_manifest_are_collected(pytester: pytest.Pytester, project):
    (project / "elsewhere" / "expectations").mkdir(parents=True)   # no manifest beside it
    shutil.copy(project / "policies/tiny/expectations/promises.yaml", project / "elsewhere/expectations/p.yaml")
    r = pytester.runpytest_subprocess("--collect-only", "-q", "-p", "no:cacheprovider")
    items = [x for x in r.stdout.lines if "::" in x]
    assert len(items) == 2 and all(x.startswith("policies/tiny/expectations/promises.yaml::") for x in items)


def test_collection_can_be_turned_off(pytester: pytest.Pytester, project):
    pytester.makeini("[pytest]\nfriction_expectations = false\n")
    r = pytester.runpytest_subprocess("policies", "-p", "no:cacheprovider")
    assert r.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_a_broken_expectation_file_is_a_collection_error_with_file_and_line(pytester: pytest.Pytester, project):
    (project / "policies/tiny/expectations/promises.yaml").write_text(
        "expectations:\n  - name: x\n    select: {event: move}\n    expect: {chanels: {max: 1}}\n")
    r = pytester.runpytest_subprocess("policies", "-p", "no:cacheprovider")
    assert r.ret == pytest.ExitCode.INTERRUPTED
    assert "promises.yaml:4" in r.stdout.str() and "chanels" in r.stdout.str()


def test_a_users_own_hypothesis_profile_is_kept():
    code = ("from hypothesis import settings\n"
            "settings.register_profile('ci', max_examples=7)\n"
            "from friction.testing import register_profiles\n"
            "register_profiles(load=False)\n"
            "print(settings.get_profile('ci').max_examples, settings.get_profile('dev').max_examples)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["7", "20"]

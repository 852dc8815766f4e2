"""Shared test helpers: a private copy of the tiny policy set, and a YAML writer."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from friction.testing import register_profiles

# One Chromium for the whole session, shared by every browser test module (a fixture
# imported into two modules would start Playwright twice, which it refuses).
from browser import browser  # noqa: E402,F401

# Hypothesis profiles: "ci" (bounded, derandomized) unless FRICTION_HYPOTHESIS_PROFILE says
# "dev" or "thorough". Loaded here, before any test module reads settings.default.
register_profiles()

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def write_yaml(path: Path, text: str) -> Path:
    """Write dedented YAML text to `path` (parents created); line 1 is the first line of text."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """tests/fixtures/tiny copied to tmp_path/tiny (safe to mutate), with its catalog beside it
    as tmp_path/tiny-cases.yaml."""
    dest = tmp_path / "tiny"
    shutil.copytree(FIXTURES / "tiny", dest)
    shutil.copy(FIXTURES / "tiny-cases.yaml", tmp_path / "tiny-cases.yaml")
    return dest


ROOT = FIXTURES.parent.parent


@pytest.fixture(scope="module")
def at_root():
    """Run a module's tests from the repository root, so they name files relative to it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        yield


def pytest_collection_modifyitems(config, items):
    """Where durable_rules does not load (Python 3.13+), every test that runs the rete engine
    is skipped, saying why; the rest of the suite runs as everywhere."""
    why = _rete_unavailable()
    if not why:
        return
    import inspect
    skip = pytest.mark.skip(reason=why)
    for item in items:
        callspec = getattr(item, "callspec", None)
        values = {str(v) for v in callspec.params.values()} if callspec else set()
        if "rete" in values:
            item.add_marker(skip)
        elif "compiled" in values:
            continue   # the compiled engine's half of a test over both engines runs
        else:
            fn = getattr(item, "function", None)
            try:
                source = inspect.getsource(fn) if fn else ""
            except (OSError, TypeError):
                source = ""
            if "rete" in item.name or "rete" in source or "ENGINES" in source:
                item.add_marker(skip)


def _rete_unavailable() -> str | None:
    from friction.replay import rete_unavailable
    return rete_unavailable()


def pytest_report_header(config):
    why = _rete_unavailable()
    return [f"friction: {why}; the rete engine's tests are skipped"] if why else []


@pytest.hookimpl(optionalhook=True)   # a hook of pytest-xdist, which test-pythons does not install
def pytest_testnodedown(node, error):
    """pytest-xdist: the wide differential test ran in a worker; its numbers come back here."""
    stats = getattr(node, "workeroutput", {}).get("friction_differential")
    if stats:
        node.config._friction_differential = stats


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The wide differential test's numbers (tests/test_differential.py), every run."""
    stats = getattr(config, "_friction_differential", None)
    if stats:
        terminalreporter.write_line(
            f"differential: {stats['pairs']:,} (policy set, case) pairs on {stats['sets']} generated "
            f"policy sets ({stats['firings']:,} firings) in {stats['seconds']:.1f}s, seed {stats['seed']} "
            f"(rerun with --hypothesis-seed={stats['seed']})")

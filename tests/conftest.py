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

"""The installed package, as a user gets it: the wheel built from this tree, installed into a
fresh virtual environment outside the repository, run from a folder that is not the
repository. One wheel build per run; dependencies come from pip's cache after the first."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 900   # a fresh machine builds durable_rules' C extension once


def _run(args: list, cwd: Path, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
                          env=env, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(the wheel, the fresh environment's bin folder, a folder outside the repository)."""
    base = tmp_path_factory.mktemp("install")
    assert ROOT not in base.parents
    dist = base / "dist"
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, ROOT], cwd=base)
    assert r.returncode == 0, r.stderr
    # every folder the wheel ships is declared: setuptools warns (and may one day drop it) otherwise
    assert "absent from the `packages` configuration" not in r.stderr, r.stderr
    wheel, = dist.glob("friction-*.whl")
    env = base / "env"
    venv.create(env, with_pip=True)
    bin_ = env / "bin"
    r = _run([bin_ / "python", "-m", "pip", "install", "--quiet", wheel], cwd=base)
    assert r.returncode == 0, r.stderr
    work = base / "elsewhere"
    work.mkdir()
    return wheel, bin_, work


def test_the_wheel_holds_one_import_name_and_the_bundled_examples(installed):
    wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"friction"}, top        # no generic `engine` or `cli` in site-packages
    for needed in ("friction/py.typed", "friction/cli.py", "friction/policies/bank/policy-set.yaml",
                   "friction/cases/life-events.yaml", "friction/policies/bank/expectations/promises.yaml",
                   "friction/templates/report.html.j2", "friction/templates/style.css"):
        assert needed in names, needed


def test_friction_evaluate_runs_from_any_folder_on_the_bundled_example(installed):
    _, bin_, work = installed
    r = _run([bin_ / "friction", "evaluate", "--format", "json"], cwd=work)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["totals"]["cases"] == len(doc["cases"]) > 0 and doc["errors"] == []
    assert "using the bundled example policies/bank" in r.stderr
    assert str(ROOT) not in r.stderr      # the installed copy, not this repository's
    r = _run([bin_ / "friction", "test"], cwd=work)   # the bundled expectations find their catalog
    assert r.returncode == 0, r.stdout + r.stderr
    assert list(work.iterdir()) == []     # and nothing was written where it ran


def test_python_m_friction_version(installed):
    _, bin_, work = installed
    r = _run([bin_ / "python", "-m", "friction", "--version"], cwd=work)
    assert r.returncode == 0, r.stderr
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert r.stdout.strip() == f"friction, version {version}"
    r = _run([bin_ / "python", "-c", "import friction.testing, friction.cli; print(friction.__file__)"], cwd=work)
    assert r.returncode == 0 and "site-packages" in r.stdout, r.stdout + r.stderr

"""What a command pays before it works (issue #11, the serial start): `import friction`
imports no module of the library until a name is used, and each command imports what it
uses, not every other command's modules. Each check runs in a fresh interpreter, since this
one has imported everything long ago. The times themselves: bench/start.py."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import friction
from conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent

# Modules of other commands (the HTML report and its templating, expectations, lint,
# schemas, rank, explain, diff) and of the table formats.
NOT_FOR_EVALUATE = ("jinja2", "tabulate", "friction.blueprint", "friction.page", "friction.expect",
                    "friction.lint", "friction.schemas", "friction.rank", "friction.explain", "friction.diff")


def fresh(probe: str, *args: str) -> subprocess.CompletedProcess:
    """`probe` run by a fresh interpreter, which must end well."""
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done


def imported_after(code: str, *args: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code` (SystemExit is an ending)."""
    probe = (f"import json, sys\ntry:\n    exec({code!r})\nexcept SystemExit:\n    pass\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)")
    return set(json.loads(fresh(probe, *args).stderr.strip().splitlines()[-1]))


def test_import_friction_imports_no_module_of_the_library():
    mods = imported_after("import friction")
    assert {m for m in mods if m.startswith("friction.")} == set()
    assert not {"pydantic", "yaml", "click", "jinja2"} & mods


def test_the_command_line_and_its_help_need_no_model_and_no_template():
    mods = imported_after("from friction.cli import main; main(['--help'], prog_name='friction')")
    assert not {"pydantic", "yaml", "jinja2", "tabulate", "friction.compile", "friction.report"} & mods


def test_evaluate_imports_none_of_the_other_commands_modules(tmp_path):
    catalog = tmp_path / "c.jsonl"
    catalog.write_text(json.dumps({"id": "c1", "event": "move"}) + "\n")
    out = tmp_path / "out.jsonl"
    mods = imported_after("from friction.cli import main; main(sys.argv[1:], prog_name='friction')",
                          "evaluate", str(FIXTURES / "tiny"), str(catalog), "--format", "jsonl", "-o", str(out))
    assert json.loads(out.read_text())["id"] == "c1"   # it did evaluate
    assert not set(NOT_FOR_EVALUATE) & mods, set(NOT_FOR_EVALUATE) & mods


def test_every_public_name_resolves_in_a_fresh_interpreter():
    probe = ("import friction, types\n"
             "missing = [n for n in friction.__all__ if getattr(friction, n, None) is None]\n"
             "assert not missing, missing\n"
             "assert set(friction.__all__) <= set(dir(friction))\n"
             "assert isinstance(friction.capacity, types.ModuleType) and isinstance(friction.lint, types.ModuleType)\n"
             "from friction import *\n"
             "assert Evaluator is friction.evaluate.Evaluator and lint_policy_set is friction.lint.lint\n"
             "assert render is friction.report.render and FORMATS == friction.report.FORMATS\n")
    fresh(probe)


def test_each_public_name_comes_from_the_module_it_always_came_from():
    """The names imported on demand are the same objects the modules define."""
    from friction import evaluate, lint, metrics, model, report
    assert set(friction.__all__) == set(friction._HOME)
    assert len(friction.__all__) == len(set(friction.__all__))
    assert friction.Evaluator is evaluate.Evaluator and friction.Case is model.Case
    assert friction.lint_policy_set is lint.lint and friction.METRICS is metrics.METRICS
    assert friction.FORMATS is report.FORMATS


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'Evaluater'"):
        friction.Evaluater
    with pytest.raises(AttributeError):
        friction._private
    assert not hasattr(friction, "nonexistent_module")


def test_importing_the_models_reads_no_source_file():
    """pydantic's use_attribute_docstrings parsed every model's source at import (about a
    tenth of a command's start); friction.schemas reads the field docstrings instead, when
    it makes a schema (test_schema checks the schemas are what they were)."""
    probe = ("import linecache, os, sys\n"
             "read, getlines = [], linecache.getlines\n"
             "linecache.getlines = lambda f, g=None: (read.append(f), getlines(f, g))[1]\n"
             "import friction.language, friction.manifest, friction.case, friction.expect, friction.logmap\n"
             "root = os.path.dirname(friction.__file__)\n"
             "print([f for f in read if os.path.realpath(f).startswith(os.path.realpath(root))])")
    assert fresh(probe).stdout.strip() == "[]"


def test_the_pytest_plugin_imports_the_engine_only_to_collect_expectations():
    """pytest loads it in every session wherever friction is installed (entry point pytest11)."""
    mods = imported_after("import friction.pytest_plugin")
    assert not {"pydantic", "yaml", "friction.expect", "friction.evaluate", "friction.compile"} & mods


def test_the_pytest_plugin_looks_at_a_yaml_file_outside_expectations_without_the_engine(tmp_path):
    """Regression: deciding a YAML file was not an expectation imported friction.expect
    (most of the engine) for every .yaml file pytest visited."""
    (tmp_path / "config.yaml").write_text("a: 1\n")
    code = ("import friction.pytest_plugin as p, pathlib\n"
            f"assert p.pytest_collect_file(pathlib.Path({str(tmp_path / 'config.yaml')!r}), None) is None\n")
    mods = imported_after(code)
    assert "friction.pytest_plugin" in mods
    assert not {"pydantic", "yaml", "friction.expect", "friction.load"} & mods

"""Expectations that check nothing fail, and expectation files stay inside their project.

An expectation naming a step, case, event or persona that does not exist would pass for
ever; each must be an input error (exit 2) naming file, line and expectation, with a "did
you mean". Paths in an expectation file are kept inside the project unless a flag says so,
and a refused path is never read (so nothing of it is echoed)."""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from click.testing import CliRunner

import friction
from conftest import write_yaml
from friction import cli
from friction import expect as expect_mod


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def run_cli(*args: str):
    kwargs = {}
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # click < 8.2
        kwargs["mix_stderr"] = False
    return CliRunner(**kwargs).invoke(cli.main, [str(a) for a in args])


def write_expectations(tiny: Path, body: str) -> Path:
    return write_yaml(tiny / "expectations" / "e.yaml", "catalog: ../../tiny-cases.yaml\nexpectations:\n" + body)


def problems(path: Path, tiny: Path) -> list[friction.Problem]:
    loaded = expect_mod.load_expectations(path)
    cps = friction.compile_policy_set(friction.load_policy_set(tiny))
    ev = friction.evaluate_catalog(cps, friction.load_catalog(loaded.catalog))
    with pytest.raises(friction.InputError) as err:
        expect_mod.run_expectations(loaded, ev, expect_mod.TestRun())
    return err.value.problems


GOOD = """\
  - name: moving is short
    select: {event: move, persona: [offline, no-products]}
    expect:
      steps: {max: 9}
      steps_include: [fill form]
"""


def test_a_correct_file_passes(tiny_copy):
    write_expectations(tiny_copy, GOOD)
    r = run_cli("test", tiny_copy)
    assert r.exit_code == 0, r.output + r.stderr


def test_a_misspelt_step_is_an_error_not_a_pass(tiny_copy):
    f = write_expectations(tiny_copy, """\
  - name: no branch
    select: {event: move}
    expect:
      steps_exclude:
        - fill form
        - vist branch
""")
    (p,) = problems(f, tiny_copy)
    assert (p.file, p.line, p.subject) == ("tiny/expectations/e.yaml", 8, "expectation no branch")
    assert "'vist branch' is not a step of the policy set (did you mean 'visit branch'?)" in p.message


def test_a_misspelt_persona_in_a_list_is_not_dropped(tiny_copy):
    f = write_expectations(tiny_copy, """\
  - name: moving
    select: {event: move, persona: [offline, ofline]}
    expect: {steps: {max: 9}}
""")
    (p,) = problems(f, tiny_copy)
    assert p.line == 4 and "select.persona: 'ofline' matches no case of the catalog (did you mean 'offline'?)" \
        in p.message


@pytest.mark.parametrize("select, phrase", [
    ("{event: mvoe}", "select.event: 'mvoe' is not a life event of the policy set (did you mean 'move'?)"),
    ("{case: [move/offline, move/ofline]}", "select.case: 'move/ofline' matches no case"),
])
def test_unknown_events_and_cases(tiny_copy, select, phrase):
    f = write_expectations(tiny_copy, f"  - name: x\n    select: {select}\n    expect: {{steps: {{max: 9}}}}\n")
    (p,) = problems(f, tiny_copy)
    assert p.line == 4 and phrase in p.message


def test_an_event_of_the_set_that_no_case_has_selects_nothing(tiny_copy, tmp_path):
    write_yaml(tmp_path / "tiny-cases.yaml", "cases:\n  - {id: m, event: move}\n")
    f = write_expectations(tiny_copy, "  - name: x\n    select: {event: [move, ask]}\n    expect: {steps: {max: 9}}\n")
    (p,) = problems(f, tiny_copy)
    assert p.line == 4 and "select.event: 'ask' matches no case of the catalog" in p.message


def test_cli_exits_2_naming_file_line_and_expectation(tiny_copy):
    write_expectations(tiny_copy, GOOD.replace("{event: move,", "{event: mvoe,"))
    r = run_cli("test", tiny_copy)
    assert r.exit_code == 2
    assert r.stderr.strip() == ("error: tiny/expectations/e.yaml:4: expectation moving is short: select.event: "
                                "'mvoe' is not a life event of the policy set (did you mean 'move'?)")


def test_a_step_no_rule_requires_fails_an_include(tiny_copy):
    write_expectations(tiny_copy, GOOD.replace("[fill form]", "[fil form]"))
    r = run_cli("test", tiny_copy)
    assert r.exit_code == 1
    assert "no rule of the policy set requires that step (did you mean 'fill form'?)" in r.stdout


def test_a_baseline_lets_a_redesign_exclude_the_steps_it_removed(tiny_copy, tmp_path):
    """The redesign dropped `visit branch`: its expectations may still say it never happens,
    naming the set the step came from; a typo is still an error."""
    import shutil
    draft = tmp_path / "draft"
    shutil.copytree(tiny_copy, draft)
    text = (draft / "move.yaml").read_text()
    (draft / "move.yaml").write_text(text[:text.index("  - id: c.branch")])
    body = "  - name: no branch\n    select: {event: move}\n    expect: {steps_exclude: [visit branch]}\n"
    f = write_yaml(draft / "expectations" / "e.yaml", "catalog: ../../tiny-cases.yaml\nexpectations:\n" + body)
    r = run_cli("test", draft)
    assert r.exit_code == 2 and "'visit branch' is not a step of the policy set" in r.stderr
    f.write_text("baseline: ../../tiny\n" + f.read_text())
    r = run_cli("test", draft)
    assert r.exit_code == 0, r.stderr + r.stdout
    f.write_text(f.read_text().replace("[visit branch]", "[vist branch]"))
    r = run_cli("test", draft)
    assert r.exit_code == 2 and "'vist branch' is not a step of the policy set or of its baseline" in r.stderr


# --------------------------------------------------------------------------- paths


SECRET = "personas:\n  hunter2-secret: {digital: false}\n"


@pytest.mark.parametrize("where", ["../../../../outside.yaml", "ABSOLUTE"])
def test_catalog_outside_the_project_is_refused_and_not_read(tiny_copy, tmp_path, where):
    project = tmp_path / "project"
    tiny = project / "policies" / "tiny"
    tiny.parent.mkdir(parents=True)
    tiny_copy.rename(tiny)
    outside = write_yaml(tmp_path / "outside.yaml", SECRET)
    path = str(outside) if where == "ABSOLUTE" else where
    write_yaml(tiny / "expectations" / "e.yaml", f"catalog: {path}\nexpectations:\n" + GOOD)
    r = run_cli("test", tiny)
    assert r.exit_code == 2
    assert "outside the project" in r.stderr and "hunter2" not in r.stderr + r.output
    assert r.stderr.startswith("error: project/policies/tiny/expectations/e.yaml:1: catalog:")
    # the flag lets it out: then the catalog is read (and here it is not a valid one)
    r = run_cli("test", "--allow-outside-paths", tiny)
    assert r.exit_code == 2 and "outside the project" not in r.stderr


def test_a_symlink_inside_pointing_outside_is_outside(tiny_copy, tmp_path):
    project = tmp_path / "project"
    (project / "policies").mkdir(parents=True)
    tiny = project / "policies" / "tiny"
    tiny_copy.rename(tiny)
    write_yaml(tmp_path / "outside.yaml", SECRET)
    (project / "cases.yaml").symlink_to(tmp_path / "outside.yaml")
    f = write_yaml(tiny / "expectations" / "e.yaml", "catalog: ../../../cases.yaml\nexpectations:\n" + GOOD)
    with pytest.raises(friction.InputError, match="outside the project"):
        expect_mod.load_expectations(f)


def test_policy_set_outside_is_refused(tmp_path):
    write_yaml(tmp_path / "elsewhere" / "policy-set.yaml", "name: secret\n")
    f = write_yaml(tmp_path / "mine" / "e.yaml", "policy_set: ../elsewhere\nexpectations:\n" + GOOD)
    with pytest.raises(friction.InputError) as err:
        expect_mod.load_expectations(f)
    (p,) = err.value.problems
    assert p.line == 1 and "policy_set: '../elsewhere' is outside the project (mine)" in p.message


def test_the_bundled_layout_reaches_its_catalog():
    """policies/<set>/expectations/ reaches cases/ beside policies/: that is the project."""
    from friction.bundled import bundled_path
    loaded = expect_mod.load_expectations(Path(bundled_path("policies/bank")) / "expectations" / "promises.yaml")
    assert Path(loaded.catalog) == Path(bundled_path("cases/life-events.yaml")).resolve()


def test_a_snapshot_naming_a_catalog_outside_is_refused(tiny_copy, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    write_yaml(tmp_path / "outside.yaml", SECRET)
    lock = project / "friction.lock.json"
    r = run_cli("snapshot", tiny_copy, tmp_path / "tiny-cases.yaml", "-o", lock)
    assert r.exit_code == 0, r.stderr
    import json
    doc = json.loads(lock.read_text())
    doc["catalog"] = str(tmp_path / "outside.yaml")
    doc["policy_set"]["path"] = "../tiny"
    lock.write_text(json.dumps(doc))
    import os
    os.chdir(project)
    r = run_cli("test", "--snapshot", "friction.lock.json")
    assert r.exit_code == 2 and "outside the project" in r.stderr and "hunter2" not in r.stderr + r.stdout
    # given on the command line instead, the snapshot's own paths are not used
    r = run_cli("test", "--snapshot", "friction.lock.json", "--policies", tiny_copy,
                "--catalog", tmp_path / "tiny-cases.yaml")
    assert r.exit_code == 0, r.stderr


def test_a_snapshot_of_a_catalog_repeating_an_id_is_refused_not_collapsed(tiny_copy, tmp_path):
    cat = tmp_path / "cases.jsonl"
    cat.write_text('{"id": "a", "event": "move", "attrs": {"products": 0}}\n'
                   '{"id": "a", "event": "move", "attrs": {"products": 2}}\n'
                   '{"id": "b", "event": "ask"}\n')
    r = run_cli("snapshot", tiny_copy, cat, "-o", tmp_path / "lock.json")
    assert r.exit_code == 2 and "case ids repeat (a)" in r.stderr and not (tmp_path / "lock.json").exists()

"""`friction schema`: JSON Schema of the YAML as people write it. Every bundled file names
its schema on line 1 and validates against it; on a set of bad files the schema and the
loader reject the same ones (and both accept the good ones)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

import friction
from friction.expect import load_expectations
from friction.schemas import KINDS, MODELINE, json_schema, kind_of

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted(p for d in ("policies", "cases") for p in (ROOT / d).rglob("*.y*ml")
                 if kind_of(str(p.relative_to(ROOT))))


def validator(kind: str) -> jsonschema.protocols.Validator:
    schema = json_schema(kind)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.mark.parametrize("kind", KINDS)
def test_committed_schema_files_are_what_friction_schema_prints(kind):
    r = subprocess.run([sys.executable, "-m", "friction", "schema", kind], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    committed = (ROOT / "schema" / f"{kind}.json").read_text()
    assert json.loads(r.stdout) == json.loads(committed), \
        f"schema/{kind}.json is stale: run `friction schema {kind} -o schema/{kind}.json`"


def test_every_bundled_file_names_its_schema_and_validates():
    assert len(BUNDLED) > 20
    bad = []
    for path in BUNDLED:
        rel = str(path.relative_to(ROOT))
        kind = kind_of(rel)
        first = path.read_text().split("\n", 1)[0]
        want = MODELINE.format(path=os.path.relpath(ROOT / "schema" / f"{kind}.json", path.parent))
        if first != want:
            bad.append(f"{rel}: line 1 should be `{want}`")
            continue
        assert (path.parent / first.split("=", 1)[1]).resolve().is_file()
        for err in validator(kind).iter_errors(yaml.safe_load(path.read_text())):
            bad.append(f"{rel}: {'/'.join(map(str, err.absolute_path))}: {err.message}")
    assert bad == []


def test_cause_completes_with_the_four_causes():
    s = json_schema("policy")
    assert s["$defs"]["Cause"]["enum"] == ["policy", "practice", "system", "regulation"]
    assert s["$defs"]["Rule"]["properties"]["cause"]["description"]   # hover help from the field doc
    assert s["$defs"]["Step"]["properties"]["lane"]["description"]


MANIFEST = """\
name: t
events: [move]
departments: [A]
channels: [web]
attributes:
  products: {type: int, default: 1}
  region: {type: str, default: uk}
"""
STEP = "{action: fill form, lane: customer, department: A, channel: web}"

# (name, rule file text, accepted?) - the rule's YAML as people write it
RULE_FILES = [
    ("plain", f"rules:\n  - {{id: r, cause: policy, owner: o, rationale: x, when: {{event: move}}, then: [{STEP}]}}\n", True),
    ("one condition not in a list", "rules:\n  - id: r\n    cause: system\n    owner: o\n    rationale: x\n"
                                    "    when: {event: move, all: {attr: region, in: uk}}\n"
                                    f"    then: [{STEP}]\n", False),
    ("single items", "rules:\n  - id: r\n    cause: system\n    owner: o\n    rationale: x\n"
                     "    when: {event: move, all: [{attr: region, in: uk}]}\n"
                     "    then: {action: a, lane: customer, department: A, channel: web, asks: address}\n", True),
    ("operators", "rules:\n  - id: r\n    cause: system\n    owner: o\n    rationale: x\n"
                  "    when:\n      event: [move]\n      any: [{attr: products, ge: 2}, {all: [{attr: region, present: true},"
                  " {attr: region, not_in: [eu, row]}]}]\n"
                  f"    then: [{STEP}]\n", True),
    ("unknown cause", f"rules:\n  - {{id: r, cause: polcy, owner: o, rationale: x, when: {{event: move}}, then: [{STEP}]}}\n", False),
    ("unknown key in step", "rules:\n  - {id: r, cause: policy, owner: o, rationale: x, when: {event: move},"
                            " then: [{action: a, lane: customer, department: A, chanel: web}]}\n", False),
    ("missing lane", "rules:\n  - {id: r, cause: policy, owner: o, rationale: x, when: {event: move},"
                     " then: [{action: a, department: A, channel: web}]}\n", False),
    ("two operators", "rules:\n  - {id: r, cause: policy, owner: o, rationale: x,"
                      f" when: {{event: move, all: [{{attr: products, gt: 1, lt: 5}}]}}, then: [{STEP}]}}\n", False),
    ("no operator", "rules:\n  - {id: r, cause: policy, owner: o, rationale: x,"
                    f" when: {{event: move, all: [{{attr: products}}]}}, then: [{STEP}]}}\n", False),
    ("operator from elsewhere", "rules:\n  - {id: r, cause: policy, owner: o, rationale: x,"
                                f" when: {{event: move, all: [{{attr: products, gte: 1}}]}}, then: [{STEP}]}}\n", False),
    ("lt on text", "rules:\n  - {id: r, cause: policy, owner: o, rationale: x,"
                   f" when: {{event: move, all: [{{attr: region, lt: uk}}]}}, then: [{STEP}]}}\n", False),
    ("negative days", "rules:\n  - {id: r, cause: policy, owner: o, rationale: x, when: {event: move},"
                      " then: [{action: a, lane: customer, department: A, channel: web, days: -1}]}\n", False),
    ("empty then", "rules:\n  - {id: r, cause: policy, owner: o, rationale: x, when: {event: move}, then: []}\n", False),
    ("no owner", f"rules:\n  - {{id: r, cause: policy, rationale: x, when: {{event: move}}, then: [{STEP}]}}\n", False),
    ("unknown rule key", f"rules:\n  - {{id: r, cause: policy, owner: o, rationale: x, when: {{event: move}}, then: [{STEP}], why: x}}\n", False),
    ("step and event inside any, unless", "rules:\n  - {id: r, cause: policy, owner: o, rationale: x, when: {event: move},"
                                          f" then: [{STEP}]}}\n  - {{id: s, cause: policy, owner: o, rationale: x,"
                                          " when: {any: [{step: fill form}, {event: move}, {attr: products, gt: 1}],"
                                          " unless: [fill form]}, then: [{action: b, lane: backstage, department: A}]}\n", True),
    ("step beside attr in one condition", "rules:\n  - {id: r, cause: policy, owner: o, rationale: x, when: {event: move},"
                                          f" then: [{STEP}]}}\n  - {{id: s, cause: policy, owner: o, rationale: x,"
                                          " when: {any: [{step: fill form, attr: products, gt: 1}]},"
                                          " then: [{action: b, lane: backstage, department: A}]}\n", False),
    ("unless inside a condition", "rules:\n  - {id: r, cause: policy, owner: o, rationale: x, when: {event: move},"
                                  f" then: [{STEP}]}}\n  - {{id: s, cause: policy, owner: o, rationale: x,"
                                  " when: {any: [{unless: [fill form]}]},"
                                  " then: [{action: b, lane: backstage, department: A}]}\n", False),
]


def loader_accepts(folder: Path) -> bool:
    try:
        friction.load_policy_set(folder)
    except friction.InputError:
        return False
    return True


@pytest.mark.parametrize("name,text,ok", RULE_FILES, ids=[r[0] for r in RULE_FILES])
def test_schema_and_loader_agree_on_rule_files(tmp_path, name, text, ok):
    (tmp_path / "policy-set.yaml").write_text(MANIFEST)
    (tmp_path / "r.yaml").write_text(text)
    schema_ok = validator("policy").is_valid(yaml.safe_load(text))
    assert (schema_ok, loader_accepts(tmp_path)) == (ok, ok)


MANIFESTS = [
    ("plain", MANIFEST, True),
    ("thresholds", MANIFEST + "thresholds: {handoffs: 2, silent_wait_days: 1.5}\nlimits: {channels: 2}\n", True),
    ("negative threshold", MANIFEST + "thresholds: {handoffs: -1}\n", False),
    ("unknown key", MANIFEST + "departmnets: [B]\n", False),
    ("no events", MANIFEST.replace("events: [move]\n", ""), False),
    ("unknown metric limit", MANIFEST + "limits: {chanels: 2}\n", False),
    ("bad attribute type", MANIFEST + "  tenure: {type: integer}\n", False),
]


@pytest.mark.parametrize("name,text,ok", MANIFESTS, ids=[m[0] for m in MANIFESTS])
def test_schema_and_loader_agree_on_manifests(tmp_path, name, text, ok):
    (tmp_path / "policy-set.yaml").write_text(text)
    (tmp_path / "r.yaml").write_text(RULE_FILES[0][1])
    assert (validator("manifest").is_valid(yaml.safe_load(text)), loader_accepts(tmp_path)) == (ok, ok)


CATALOGS = [
    ("plain", "personas:\n  p: {products: 2, channel: web}\ncases:\n  - {id: c, event: move, persona: p, attrs: {region: uk}}\n", True),
    ("expand", "personas:\n  p: {products: 2}\nevents: [move]\nexpand: true\n", True),
    ("events as text", "personas:\n  p: {products: 2}\nevents: move\nexpand: true\n", False),
    ("unknown key", "cases:\n  - {id: c, event: move, persnoa: p}\n", False),
    ("no event", "cases:\n  - {id: c}\n", False),
    ("unknown top key", "case:\n  - {id: c, event: move}\n", False),
]


@pytest.mark.parametrize("name,text,ok", CATALOGS, ids=[c[0] for c in CATALOGS])
def test_schema_and_loader_agree_on_catalogs(tmp_path, name, text, ok):
    (tmp_path / "policy-set.yaml").write_text(MANIFEST)
    cat = tmp_path / "cases" / "cases.yaml"   # outside the policy set's folder
    cat.parent.mkdir()
    cat.write_text(text)
    try:
        stream = friction.open_catalog(cat, friction.load_policy_set(_with_rule(tmp_path)).manifest)
        loader_ok = not any(isinstance(x, friction.Problem) for x in stream)
    except friction.InputError:
        loader_ok = False
    assert (validator("catalog").is_valid(yaml.safe_load(text)), loader_ok) == (ok, ok)


def _with_rule(folder: Path) -> Path:
    (folder / "r.yaml").write_text(RULE_FILES[0][1])
    return folder


EXPECTATIONS = [
    ("plain", "expectations:\n  - name: x\n    select: {event: move}\n    expect:\n      customer_steps: {max: 2}\n"
              "      steps_exclude: fill form\n      no_flags: [silent-wait]\n", True),
    ("long form", "expectations:\n  - name: x\n    select: {persona: [p]}\n    expect: {metrics: {channels: {eq: 1}}}\n", True),
    ("unknown bound", "expectations:\n  - name: x\n    select: {event: move}\n    expect: {channels: {maxx: 2}}\n", False),
    ("unknown flag", "expectations:\n  - name: x\n    select: {event: move}\n    expect: {no_flags: [slient-wait]}\n", False),
    ("empty select", "expectations:\n  - name: x\n    select: {}\n    expect: {channels: {max: 2}}\n", False),
    ("empty expect", "expectations:\n  - name: x\n    select: {event: move}\n    expect: {}\n", False),
    ("no expectations", "expectations: []\n", False),
]


@pytest.mark.parametrize("name,text,ok", EXPECTATIONS, ids=[e[0] for e in EXPECTATIONS])
def test_schema_and_loader_agree_on_expectations(tmp_path, name, text, ok):
    f = tmp_path / "e.yaml"
    f.write_text(text)
    try:
        load_expectations(f)
        loader_ok = True
    except friction.InputError:
        loader_ok = False
    assert (validator("expectations").is_valid(yaml.safe_load(text)), loader_ok) == (ok, ok)


def test_unknown_schema_kind_exit_2():
    r = subprocess.run([sys.executable, "-m", "friction", "schema", "polciy"], capture_output=True, text=True)
    assert r.returncode == 2 and "polciy" in r.stderr and "Traceback" not in r.stderr

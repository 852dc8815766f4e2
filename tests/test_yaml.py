"""How friction reads YAML: the YAML 1.2 core schema (no silent YAML 1.1 coercions), strict
numbers, merge keys, and bounded documents (aliases, nesting, bad bytes), each refusal a
one-line error naming the file and line, everywhere friction reads YAML: policy sets,
catalogs, personas and expectations."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

import friction
from conftest import write_yaml
from friction import expect as expect_mod
from friction.yamlio import ALIAS_BUDGET, MAX_DEPTH, parse_yaml, read_yaml

MANIFEST = """\
name: y
version: {version}
events: [move]
departments: [A]
channels: [web]
attributes:
  code: {{type: int, default: 0}}
  {extra}
"""


def make_set(tmp_path: Path, rule: str, version: str = "1", extra: str = "") -> Path:
    folder = tmp_path / "set"
    write_yaml(folder / "policy-set.yaml", MANIFEST.format(version=version, extra=extra))
    write_yaml(folder / "rules.yaml", rule)
    return folder


RULE = """\
rules:
  - id: r
    cause: policy
    owner: O
    rationale: R
    when: {{event: move, all: [{{attr: code, {cond}}}]}}
    then:
      - {{action: fill form, lane: customer, department: A, channel: web, days: {days}}}
"""


def problems_of(fn, *args) -> list[friction.Problem]:
    with pytest.raises(friction.InputError) as err:
        fn(*args)
    return err.value.problems


# --------------------------------------------------------------------------- core schema


def test_core_schema_scalars():
    d = parse_yaml("a: 010\nb: 1:30\nc: yes\non: off\nv: 2024.10\nh: 0x1F\no: 0o17\nt: True\nn: ~\n", "x")
    assert d == {"a": 10, "b": "1:30", "c": "yes", "on": "off", "v": 2024.1, "h": 31, "o": 15,
                 "t": True, "n": None}
    assert type(d["c"]) is str and type(d["a"]) is int
    assert d.texts["v"] == "2024.10"


def test_eq_010_is_ten_not_octal_eight(tmp_path):
    folder = make_set(tmp_path, RULE.format(cond="eq: 010", days=1))
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    ev = friction.Evaluator(cps)
    fired = lambda code: len(ev.evaluate(friction.Case("c", "move", "web", {"code": code})).journey)
    assert (fired(10), fired(8)) == (1, 0)


def test_sexagesimal_days_are_refused_not_ninety(tmp_path):
    folder = make_set(tmp_path, RULE.format(cond="eq: 1", days="1:30"))
    (p,) = problems_of(friction.load_policy_set, folder)
    assert (p.file.endswith("rules.yaml"), p.line, p.subject) == (True, 8, "rule r")
    assert "days" in p.message


@pytest.mark.parametrize("days", ["yes", "true", "on"])
def test_a_boolean_is_not_a_number_of_days(tmp_path, days):
    folder = make_set(tmp_path, RULE.format(cond="eq: 1", days=days))
    (p,) = problems_of(friction.load_policy_set, folder)
    assert (p.line, p.subject) == (8, "rule r") and "days" in p.message


def test_version_is_kept_as_written(tmp_path):
    folder = make_set(tmp_path, RULE.format(cond="eq: 1", days=1), version="2024.10")
    assert friction.load_policy_set(folder).manifest.version == "2024.10"
    folder = make_set(tmp_path, RULE.format(cond="eq: 1", days=1), version="007")
    assert friction.load_policy_set(folder).manifest.version == "007"


@pytest.mark.parametrize("text", ["handoffs: yes", "handoffs: 2.5", "silent_wait_days: true"])
def test_thresholds_take_numbers_only(tmp_path, text):
    folder = make_set(tmp_path, RULE.format(cond="eq: 1", days=1), extra=f"\nthresholds: {{{text}}}")
    (p,) = problems_of(friction.load_policy_set, folder)
    assert p.file.endswith("policy-set.yaml") and p.line == 9 and "thresholds" in p.message


def test_persona_keys_on_and_off_are_attribute_names(tmp_path):
    folder = make_set(tmp_path, RULE.format(cond="eq: 1", days=1),
                      extra="on: {type: bool, default: false}\n  off: {type: str, default: x}")
    cat = write_yaml(tmp_path / "cases.yaml", """\
        personas:
          p: {on: true, off: y, code: 1}
        events: [move]
        expand: true
        """)
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    (case,) = friction.resolve_cases(friction.load_catalog(cat), cps.manifest)[0]
    assert case.attrs == {"code": 1, "off": "y", "on": True}


def test_expectation_max_yes_is_an_error(tmp_path):
    f = write_yaml(tmp_path / "e.yaml", """\
        expectations:
          - name: few steps
            select: {event: move}
            expect:
              steps: {max: yes}
        """)
    (p,) = problems_of(expect_mod.load_expectations, f)
    assert p.line == 5 and "steps" in p.message


# --------------------------------------------------------------------------- merge keys


def test_merge_keys_with_override(tmp_path):
    folder = make_set(tmp_path, """\
        rules:
          - id: r
            cause: policy
            owner: O
            rationale: R
            when: {event: move}
            then:
              - &form {action: fill form, lane: customer, department: A, channel: web, days: 1}
              - <<: *form
                action: sign form
                days: 4
        """)
    steps = friction.load_policy_set(folder).steps
    assert (steps["fill form"].days, steps["sign form"].days, steps["sign form"].channel) == (1, 4, "web")


def test_merge_keys_override_and_precedence():
    d = parse_yaml("a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nm:\n  <<: [*a, *b]\n  y: 3\n", "x")
    # own keys override merged ones; of the merged, the first listed wins (YAML 1.1)
    assert d["m"] == {"x": 1, "y": 3, "z": 2}


def test_a_key_written_twice_beside_a_merge_is_still_a_duplicate():
    with pytest.raises(friction.InputError, match=r"^x:5: bad YAML: duplicate key 'y'"):
        parse_yaml("a: &a {y: 1}\nm:\n  <<: *a\n  y: 2\n  y: 3\n", "x")


# --------------------------------------------------------------------------- bounded


def laughs(levels: int = 9, width: int = 9, indent: str = "") -> str:
    lines = [f"{indent}l0: &l0 [" + ", ".join(["ha"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"{indent}l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def assert_quick_refusal(fn, *args, line: int, phrase: str) -> None:
    t = time.perf_counter()
    problems = problems_of(fn, *args)
    assert time.perf_counter() - t < 5
    assert len(problems) == 1 and problems[0].line == line and phrase in problems[0].message, problems


def test_billion_laughs_in_a_condition(tmp_path):
    folder = make_set(tmp_path, "x:\n" + laughs(indent="  ") + RULE.format(cond="in: *l8", days=1))
    # the first alias that crosses the budget is on l5's line (each of its aliases adds 9**5 nodes)
    assert_quick_refusal(friction.load_policy_set, folder, line=7, phrase="aliases expand")


def test_billion_laughs_in_a_catalog_and_in_personas(tmp_path):
    cat = write_yaml(tmp_path / "cases.yaml", "x:\n" + laughs(indent="  ") + "personas:\n  p: {a: *l8}\n")
    assert_quick_refusal(friction.load_catalog, cat, line=7, phrase="aliases expand")


def test_alias_budget_is_the_boundary():
    # a list of 99 items is 100 nodes: aliased n times it adds 100 * n
    def doc(n: int) -> str:
        return "a: &a [" + ", ".join(["x"] * 99) + "]\nb: [" + ", ".join(["*a"] * n) + "]\n"
    assert len(parse_yaml(doc(ALIAS_BUDGET // 100), "x")["b"]) == ALIAS_BUDGET // 100
    with pytest.raises(friction.InputError, match="^x:2: bad YAML: aliases expand"):
        parse_yaml(doc(ALIAS_BUDGET // 100 + 1), "x")


def test_recursive_alias_is_refused():
    with pytest.raises(friction.InputError, match=r"^x:3: bad YAML: alias \*a refers to the node that holds it"):
        parse_yaml("a: &a\n  - b\n  - *a\n", "x")


@pytest.mark.parametrize("open_, close", [("[", "]"), ("{a: ", "}")])
def test_deep_nesting_names_the_line(tmp_path, open_, close):
    f = tmp_path / "deep.yaml"
    f.write_text("ok: 1\nx: " + open_ * 5000 + "1" * (open_ != "[") + close * 5000 + "\n")
    assert_quick_refusal(read_yaml, f, line=2, phrase=f"nested too deeply (more than {MAX_DEPTH} levels)")


def test_deep_nesting_through_an_alias():
    inner = "[" * 60 + "]" * 60
    with pytest.raises(friction.InputError, match=r"^x:2: .*nests too deeply"):
        parse_yaml(f"a: &a {inner}\nb: " + "[" * 50 + "*a" + "]" * 50 + "\n", "x")


def test_non_utf8_names_the_line_of_the_first_bad_byte(tmp_path):
    f = tmp_path / "cases.yaml"
    f.write_bytes(b"personas:\n  p: {a: 1}\n  q: {a: \xe9t\xe9}\n  r: {a: \xff}\n")
    (p,) = problems_of(friction.load_catalog, f)
    assert p.line == 3 and "not UTF-8" in p.message and "0xe9" in p.message


def test_nul_byte_names_its_line(tmp_path):
    f = tmp_path / "cases.yaml"
    f.write_bytes(b"personas:\n  p: {a: 1}\n  q: {a: x\x00y}\n")
    (p,) = problems_of(friction.load_catalog, f)
    assert p.line == 3 and "NUL" in p.message


def test_an_integer_with_thousands_of_digits_is_an_error_with_a_line(tmp_path):
    f = tmp_path / "cases.yaml"
    f.write_text("personas:\n  p: {a: " + "9" * 5000 + "}\n")
    (p,) = problems_of(friction.load_catalog, f)
    assert p.line == 2 and "too large" in p.message


def test_text_that_looks_like_a_number_survives_a_round_trip():
    """policy_set_from_data (and `fuzz`'s catalog entries) write YAML that friction reads back
    under the core schema: '1e5' is a float there, not in YAML 1.1, so it must be quoted."""
    from friction.load import policy_set_from_data
    manifest = {"name": "n", "version": "2024.10", "events": ["010"], "departments": ["yes"], "channels": ["1e5"]}
    files = {"r.yaml": {"rules": [{"id": "r", "cause": "policy", "owner": "on", "rationale": "~",
                                   "when": {"event": "010"},
                                   "then": [{"action": "1:30", "lane": "customer", "department": "yes",
                                             "channel": "1e5"}]}]}}
    ps = policy_set_from_data(manifest, files)
    assert (ps.manifest.version, ps.manifest.channels, ps.rules[0].owner, ps.steps["1:30"].channel) == \
        ("2024.10", ("1e5",), "on", "1e5")


@pytest.mark.parametrize("value", ["yes", "on", "1", "'true'"])
def test_only_true_and_false_are_booleans_in_flags(tmp_path, value):
    folder = make_set(tmp_path, RULE.format(cond="eq: 1", days=1).replace("days: 1}", f"days: 1, informs: {value}}}"))
    (p,) = problems_of(friction.load_policy_set, folder)
    assert (p.line, p.subject) == (8, "rule r") and "informs" in p.message
    cat = write_yaml(tmp_path / "cases.yaml", f"personas: {{p: {{code: 1}}}}\nevents: [move]\nexpand: {value}\n")
    (p,) = problems_of(friction.load_catalog, cat)
    assert p.line == 3 and "expand" in p.message


@pytest.mark.parametrize("text", ["\x85", "a\u2028b", "x\u2029", "rule\x85id"])
def test_dump_yaml_round_trips_text_holding_yaml_line_breaks(text):
    """Regression: a rule id holding NEL came back as a space (single quotes fold it)."""
    from friction.yamlio import dump_yaml, parse_yaml
    assert parse_yaml(dump_yaml({"id": text}), "x.yaml") == {"id": text}


@pytest.mark.parametrize("text, line, message", [
    ("a: !!float x\n", 1, "'x' cannot be read as !!float"),
    ("a: 1\nb: !!bool maybe\n", 2, "'maybe' cannot be read as !!bool"),
    ("a: !!int abc\n", 1, "'abc' cannot be read as !!int"),   # was: "integer of 3 digits is too large"
    ("a:\n  - !!timestamp soon\n", 2, "'soon' cannot be read as !!timestamp"),
    # Regression: a collection under a collection's tag raised TypeError/AttributeError
    ("a: !!map [1]\n", 1, "a list cannot be read as !!map"),
    ("a: 1\nb: !!seq {x: 1}\n", 2, "a mapping cannot be read as !!seq"),
    ("!!map [a]\n", 1, "a list cannot be read as !!map"),
])
def test_text_that_does_not_fit_its_explicit_tag_is_an_error_with_a_line(text, line, message):
    """Regression: PyYAML's constructors raised bare ValueError/KeyError/AttributeError here
    (a traceback instead of a one-line error)."""
    with pytest.raises(friction.InputError, match=rf"^x:{line}: bad YAML: {message}$"):
        parse_yaml(text, "x")
    assert parse_yaml("a: !!int 0x1F\nb: !!float '2.5'\nc: !!bool true\n", "x") == {"a": 31, "b": 2.5, "c": True}

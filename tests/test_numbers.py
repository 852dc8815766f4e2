"""Numbers never leave the range where sums stay finite: days and weights are bounded at
load (file, line, rule), so elapsed days, effort and totals cannot overflow to infinity,
and JSON output is always valid JSON (checked with a parser that refuses Infinity/NaN)."""
from __future__ import annotations

import inspect
import json

import pytest
from click.testing import CliRunner

import friction
from builders import BASE_MANIFEST, rule, step, write_set
from conftest import write_yaml
from friction import cli


def strict_json(text: str):
    def refuse(name: str):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def run_cli(*args):
    kwargs = {}
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:  # click < 8.2
        kwargs["mix_stderr"] = False
    return CliRunner(**kwargs).invoke(cli.main, [str(a) for a in args])


CHAIN = lambda days: [
    rule("a", [step("fill form", days=days)], event="move"),
    rule("b", [step("sign form", days=days, after=["fill form"])], event="move"),
]


def test_days_that_would_overflow_are_a_load_error(tmp_path):
    folder = write_set(tmp_path / "s", {"r.yaml": CHAIN(1e308)})
    with pytest.raises(friction.InputError) as err:
        friction.load_policy_set(folder)
    assert {(p.subject, "at most 1000000" in p.message) for p in err.value.problems} == \
        {("rule a", True), ("rule b", True)}


def test_weights_that_would_overflow_are_a_load_error(tmp_path):
    folder = write_set(tmp_path / "s", {"r.yaml": CHAIN(1)},
                       {**BASE_MANIFEST, "weights": {"customer_steps": 1e308}})
    with pytest.raises(friction.InputError, match=r"policy-set.yaml:\d+: weights.customer_steps"):
        friction.load_policy_set(folder)


def test_the_largest_values_give_finite_valid_json(tmp_path):
    folder = write_set(tmp_path / "s", {"r.yaml": CHAIN(1e6)},
                       {**BASE_MANIFEST, "weights": {"customer_steps": 1e6, "elapsed_days": -1e6}})
    cat = write_yaml(tmp_path / "cases.yaml", "cases:\n" + "".join(
        f"  - {{id: c{i}, event: move, attrs: {{score: 1.0e-300}}}}\n" for i in range(3)))
    r = run_cli("evaluate", folder, cat, "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = strict_json(r.stdout)
    # by hand: two steps of 10**6 days one after the other; effort 10**6 x 2 customer steps - 10**6 x 2e6 days
    assert [c["metrics"]["elapsed_days"] for c in doc["cases"]] == [2e6] * 3
    assert [c["effort"] for c in doc["cases"]] == [2e6 - 2e12] * 3


def test_an_integer_too_large_for_the_engines_is_a_load_error(tmp_path):
    folder = write_set(tmp_path / "s", {"r.yaml": [rule("a", [step("fill form")], event="move",
                                                          all=[{"attr": "products", "eq": 2 ** 64}])]})
    with pytest.raises(friction.InputError, match="beyond"):
        friction.load_policy_set(folder)

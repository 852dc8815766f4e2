"""The Python API validates like the command line: `make_case` applies the manifest's
defaults and the persona's attributes and checks every value; large results have short
reprs; an evaluation exports flat records for notebooks."""
from __future__ import annotations

import json

import pytest

import friction
from conftest import FIXTURES
from friction.bundled import DEFAULT_CATALOG, DEFAULT_POLICY_SET, bundled_path


@pytest.fixture(scope="module")
def tiny():
    return friction.compile_policy_set(friction.load_policy_set(FIXTURES / "tiny"))


def test_defaults_and_start_channel_are_applied(tiny):
    c = friction.make_case(tiny, "move")
    assert (c.event, c.channel, c.attrs, c.id) == ("move", "web", {"digital": True, "products": 1}, "move")
    # by hand: without the defaults b.proof (products >= 1) and the chain after it do not fire
    ev = friction.Evaluator(tiny)
    assert ev.evaluate(c).metrics.steps == 4   # fill form, upload proof, check proof, confirm by phone
    assert ev.evaluate(friction.Case("move", "move", "web", {})).metrics.steps == 1


def test_attributes_override_defaults(tiny):
    c = friction.make_case(tiny, "move", digital=False, attrs={"products": 3}, channel="phone", id="x")
    assert (c.id, c.channel, c.attrs) == ("x", "phone", {"digital": False, "products": 3})


@pytest.mark.parametrize("kwargs, phrase", [
    ({"event": "mvoe"}, "unknown life event 'mvoe' (did you mean 'move'?)"),
    ({"event": "move", "channel": "fax"}, "unknown start channel 'fax'"),
    ({"event": "move", "prodcts": 2}, "attribute 'prodcts' is not declared in the manifest (did you mean 'products'?)"),
    ({"event": "move", "products": 11}, "above the maximum"),
    ({"event": "move", "digital": 1}, "expected bool"),
])
def test_bad_values_are_input_errors(tiny, kwargs, phrase):
    with pytest.raises(friction.InputError) as err:
        friction.make_case(tiny, **kwargs)
    assert phrase in str(err.value) and "\n" not in str(err.value)


def test_personas_from_a_catalog(tiny):
    loaded = friction.load_catalog(FIXTURES / "tiny-cases.yaml")
    c = friction.make_case(tiny, "move", persona="no-products", personas=loaded)
    assert (c.channel, c.attrs, c.persona) == ("phone", {"digital": True, "products": 0}, "no-products")
    with pytest.raises(friction.InputError, match="unknown persona 'ofline' \\(did you mean 'offline'\\?\\)"):
        friction.make_case(tiny, "move", persona="ofline", personas=loaded)


def test_every_bundled_case_built_in_python_is_the_catalogs_case():
    cps = friction.compile_policy_set(friction.load_policy_set(bundled_path(DEFAULT_POLICY_SET)))
    loaded = friction.load_catalog(bundled_path(DEFAULT_CATALOG))
    cases, problems = friction.resolve_cases(loaded, cps.manifest)
    assert problems == [] and len(cases) > 50
    for c in cases:
        spec = next((s for s in loaded.catalog.cases if s.get("id") == c.id), {})
        made = friction.make_case(cps, c.event, persona=c.persona, personas=loaded, id=c.id,
                                  channel=spec.get("channel"), attrs=spec.get("attrs"), volume=spec.get("volume"))
        assert made == c


def test_short_reprs_and_flat_records(tiny):
    ev = friction.evaluate_catalog(tiny, friction.load_catalog(FIXTURES / "tiny-cases.yaml"))
    assert repr(ev) == "Evaluation(policy_set='tiny', version='1', engine='compiled', " \
                       "catalog='" + ev.catalog + "', cases=4, problems=0)"
    r = ev.results[0]
    assert repr(r) == f"CaseResult(case='move/offline', steps={r.metrics.steps}, effort={r.effort:g}, " \
                      f"flags={len(r.flags)})"
    assert repr(r.journey).startswith("Journey(case='move/offline', steps=['fill form'")
    records = ev.records()
    assert len(records) == 4 and len({tuple(x) for x in records}) <= 2   # attribute columns may differ
    first = records[0]
    assert all(isinstance(v, (str, int, float, bool, type(None))) for v in first.values())
    assert first["id"] == "move/offline" and first["attr.digital"] is False and first["attr.products"] == 2
    assert {k: first[k] for k in friction.METRICS} == r.metrics.as_dict()
    assert first["flags"] == len(r.flags) == sum(first[f"flags.{k}"] for k in friction.FLAG_KINDS)
    assert first["journey"] == " → ".join(r.journey.actions)
    json.dumps(records)


def test_a_compiled_set_has_a_short_repr(tiny):
    assert repr(tiny) == "CompiledPolicySet(name='tiny', version='1', rules=6, steps=6)"


def test_every_submodule_is_reachable_as_a_module():
    """No function exported at the top hides the module of the same name (friction.lint)."""
    import importlib
    import pkgutil
    import types
    for m in pkgutil.iter_modules(friction.__path__):
        if m.name != "__main__":
            importlib.import_module(f"friction.{m.name}")
            assert isinstance(getattr(friction, m.name), types.ModuleType), m.name
    assert callable(friction.lint_policy_set) and callable(friction.make_case)


def test_friction_model_still_exports_every_model_from_its_home():
    """model.py was split (vocabulary, language, manifest, case); `from friction.model import X`
    keeps working for every name it exported, and gives the one class, not a copy."""
    import friction.model as model
    exported = {"Attribute", "Case", "CaseSpec", "Catalog", "Cause", "Condition", "Lane", "LintOptions",
                "Manifest", "METRICS", "OPERATORS", "PolicySet", "Rule", "Scalar", "Step", "Thresholds",
                "When", "CUSTOMER_VISIBLE", "STAFF_ONLY", "INTERNAL_CHANNEL", "Capacity",
                "DepartmentCapacity", "ChannelCost", "ChannelChoice", "DaysChoice"}
    assert set(model.__all__) == exported
    assert model.Manifest is friction.Manifest and model.Case is friction.Case
    from friction import case, language, manifest, metrics, vocabulary
    for name in exported:
        homes = [m for m in (case, language, manifest, metrics, vocabulary) if name in vars(m)]
        assert homes and all(getattr(model, name) is getattr(m, name) for m in homes), name

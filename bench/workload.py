"""A synthetic but shaped workload: a policy set of N rules (all causes, conditions of every
operator, chains several levels deep, steps required twice) and a stream of cases drawn from
its manifest. Seeded, so every run measures the same work.

With `distinct_bits` = b, b of the rules each test one boolean attribute `bit<k>` and cases
set those bits from their number: the first 2**b cases then fire b-bit-distinct rule sets,
so every outcome is new (no cache hit): the worst case for building outcomes."""
from __future__ import annotations

import random
from pathlib import Path
from typing import Iterator

import yaml

import friction

EVENTS = [f"event-{i}" for i in range(6)]
DEPARTMENTS = [f"Dept {i}" for i in range(8)]
CHANNELS = ["web", "app", "phone", "branch", "post"]
CAUSES = ["policy", "practice", "system", "regulation"]
LANES = ["customer", "frontstage", "backstage", "support"]

MANIFEST = {
    "name": "bench", "version": 1, "events": EVENTS, "departments": DEPARTMENTS,
    "channels": CHANNELS, "start_channel": "web",
    "attributes": {
        "digital": {"type": "bool", "default": True},
        "abroad": {"type": "bool", "default": False},
        "products": {"type": "int", "min": 0, "max": 8, "default": 1},
        "tenure_years": {"type": "int", "min": 0, "max": 60, "default": 5},
        "age": {"type": "int", "min": 18, "max": 100, "default": 40},
        "segment": {"type": "str", "values": ["retail", "premier", "business"], "default": "retail"},
        "risk": {"type": "number", "min": 0, "max": 1, "default": 0.1},
    },
    "thresholds": {"handoffs": 4, "silent_wait_days": 3},
}


def _condition(rng: random.Random) -> dict:
    kind = rng.randrange(7)
    if kind == 0:
        return {"attr": "digital", "eq": rng.random() < 0.5}
    if kind == 1:
        return {"attr": "products", rng.choice(["gt", "ge", "lt", "le"]): rng.randrange(0, 6)}
    if kind == 2:
        return {"attr": "tenure_years", rng.choice(["lt", "ge"]): rng.randrange(1, 40)}
    if kind == 3:
        return {"attr": "segment", rng.choice(["in", "not_in"]): rng.sample(["retail", "premier", "business"], 2)}
    if kind == 4:
        return {"attr": "risk", rng.choice(["gt", "le"]): round(rng.random(), 2)}
    if kind == 5:
        return {"any": [{"attr": "abroad", "eq": True}, {"attr": "age", "ge": rng.randrange(60, 90)}]}
    return {"attr": "segment", rng.choice(["eq", "ne"]): rng.choice(["retail", "premier"])}


def manifest(distinct_bits: int = 0) -> dict:
    attrs = {**MANIFEST["attributes"], **{f"bit{k}": {"type": "bool", "default": False} for k in range(distinct_bits)}}
    return {**MANIFEST, "attributes": attrs}


def _bit_rule(k: int, rng: random.Random) -> dict:
    lane = LANES[k % len(LANES)]
    return {"id": f"bit-{k:02d}", "cause": CAUSES[k % len(CAUSES)], "owner": DEPARTMENTS[k % len(DEPARTMENTS)],
            "rationale": "generated: tells cases apart", "when": {"event": EVENTS, "all": [{"attr": f"bit{k}", "eq": True}]},
            "then": [{"action": f"bit step {k:02d}", "lane": lane, "department": rng.choice(DEPARTMENTS),
                      "channel": rng.choice(CHANNELS) if lane in ("customer", "frontstage") else "internal",
                      "asks": rng.sample(["address", "id", "proof", "email", "income"], rng.randrange(0, 2)),
                      "days": rng.choice([0, 1, 2])}]}


def make_rules(n_rules: int, seed: int = 7, distinct_bits: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rules: list[dict] = [_bit_rule(k, random.Random(seed + k)) for k in range(distinct_bits)]
    n_rules -= distinct_bits
    steps: list[str] = []
    for i in range(n_rules):
        when: dict = {"event": rng.choice(EVENTS)}
        if steps and rng.random() < 0.35:
            when["step"] = rng.choice(steps[-40:])   # chain on a recent step: chains run deep
        if rng.random() < 0.8:
            when["all"] = [_condition(rng) for _ in range(rng.randrange(1, 3))]
        then: list = []
        if steps and rng.random() < 0.15:
            then.append(rng.choice(steps))           # a step some other rule also requires
        for j in range(rng.randrange(1, 3)):
            lane = rng.choice(LANES)
            action = f"step {i}.{j}"
            s = {"action": action, "lane": lane, "department": rng.choice(DEPARTMENTS),
                 "channel": rng.choice(CHANNELS) if lane in ("customer", "frontstage") else "internal",
                 "asks": rng.sample(["address", "id", "proof", "email", "income"], rng.randrange(0, 3)),
                 "days": rng.choice([0, 0, 0.5, 1, 2, 5])}
            if "step" in when and rng.random() < 0.7:
                s["after"] = [when["step"]]
            then.append(s)
            steps.append(action)
        if then and isinstance(then[0], str) and then[0] == when.get("step"):
            then = then[1:]                          # a rule need not re-require its own trigger
        rules.append({"id": f"rule-{i:04d}", "cause": rng.choice(CAUSES), "owner": rng.choice(DEPARTMENTS),
                      "rationale": "generated", "when": when, "then": then})
    return rules


def write_policy_set(folder: Path, n_rules: int, seed: int = 7, distinct_bits: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policy-set.yaml").write_text(yaml.safe_dump(manifest(distinct_bits), sort_keys=False))
    rules = make_rules(n_rules, seed, distinct_bits)
    for k in range(0, len(rules), 50):
        (folder / f"rules-{k // 50:02d}.yaml").write_text(yaml.safe_dump({"rules": rules[k:k + 50]}, sort_keys=False))
    return folder


def case_dicts(n: int, seed: int = 11, distinct_bits: int = 0) -> Iterator[dict]:
    rng = random.Random(seed)
    for i in range(n):
        d = {"id": f"case-{i}", "event": rng.choice(EVENTS), "channel": rng.choice(CHANNELS), "attrs": {
            "digital": rng.random() < 0.7, "abroad": rng.random() < 0.1, "products": rng.randrange(0, 9),
            "tenure_years": rng.randrange(0, 61), "age": rng.randrange(18, 101),
            "segment": rng.choice(["retail", "premier", "business"]), "risk": round(rng.random(), 3)}}
        for k in range(distinct_bits):
            d["attrs"][f"bit{k}"] = bool(i >> k & 1)
        yield d


def cases(n: int, seed: int = 11) -> Iterator[friction.Case]:
    for d in case_dicts(n, seed):
        yield friction.Case(**d)

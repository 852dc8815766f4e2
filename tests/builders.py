"""Small policy sets written inline by tests, so each expected number is counted by hand
beside the rules that make it."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import friction

BASE_MANIFEST: dict[str, Any] = {
    "name": "t", "version": 1, "events": ["move", "ask"],
    "departments": ["A", "B", "C"], "channels": ["web", "phone", "branch"],
    "start_channel": "web",
    "attributes": {
        "digital": {"type": "bool", "default": True},
        "products": {"type": "int", "min": 0, "max": 10, "default": 1},
        "segment": {"type": "str", "values": ["retail", "premier"]},
        "score": {"type": "number", "min": 0, "max": 1},
    },
}


def rule(rid: str, then: list, cause: str = "system", **when: Any) -> dict:
    return {"id": rid, "cause": cause, "owner": f"owner-{rid}", "rationale": "because",
            "when": when, "then": then}


def step(action: str, lane: str = "customer", department: str = "A", channel: str | None = None,
         **more: Any) -> dict:
    if channel is None:
        channel = "web" if lane in ("customer", "frontstage") else "internal"
    return {"action": action, "lane": lane, "department": department, "channel": channel, **more}


def write_set(folder: Path, files: dict[str, list[dict]], manifest: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policy-set.yaml").write_text(yaml.safe_dump(manifest or BASE_MANIFEST, sort_keys=False))
    for name, rules in files.items():
        (folder / name).write_text(yaml.safe_dump({"rules": rules}, sort_keys=False))
    return folder


def case(event: str = "move", channel: str = "web", cid: str = "c", **attrs: Any) -> friction.Case:
    return friction.Case(id=cid, event=event, channel=channel, attrs=attrs)


def evaluate_one(folder: Path, c: friction.Case, engine_name: str = "compiled") -> friction.CaseResult:
    cps = friction.compile_policy_set(friction.load_policy_set(folder))
    return friction.Evaluator(cps, engine_name).evaluate(c)


def run_cli(*args: Any, input: str | None = None):
    """`friction ARGS` in this process (click's runner), stdout and stderr apart."""
    from click.testing import CliRunner

    from friction import cli
    return CliRunner().invoke(cli.main, [str(a) for a in args], input=input, catch_exceptions=False)

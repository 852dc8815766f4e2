"""Every command runs on the bundled example and maps outcomes to the documented exit codes
(regression: `friction lint` once crashed because friction.lint the function shadowed the module)."""
import json

import pytest
from click.testing import CliRunner

from friction import cli

COMMANDS = [
    (["evaluate"], 0), (["evaluate", "--format", "markdown"], 0), (["evaluate", "--format", "csv"], 0),
    (["explain", "relocate/offline-elder"], 0), (["diff", "policies/bank", "policies/bank-draft"], 0),
    (["test"], 0), (["lint"], 0), (["lint", "tests/fixtures/defects"], 1), (["coverage"], 0),
    (["rank", "--top", "3"], 0), (["compile", "--show"], 0), (["compile"], 0),
    (["fuzz", "--limit", "channels<=6", "--examples", "5", "--no-db"], 0),
]


@pytest.mark.parametrize("args,code", COMMANDS, ids=[" ".join(a) for a, _ in COMMANDS])
def test_every_command_runs_on_the_bundled_example(args, code):
    r = CliRunner().invoke(cli.main, args)
    assert r.exit_code == code, r.output + r.stderr
    assert "Traceback" not in r.output + r.stderr
    assert r.stdout.strip()


def test_evaluate_json_carries_every_metric_the_journey_and_the_flags():
    r = CliRunner().invoke(cli.main, ["evaluate", "--format", "json"])
    doc = json.loads(r.stdout)
    case = doc["cases"][0]
    assert set(case["metrics"]) == {"steps", "customer_steps", "backstage_steps", "departments",
                                    "customer_departments", "channels", "handoffs", "staff_handoffs",
                                    "channel_switches", "repeated_asks", "staff_rekeys", "elapsed_days",
                                    "customer_fees", "policy_steps", "staff_minutes", "customer_minutes", "cost"}
    assert len(case["journey"]) == case["metrics"]["steps"]
    step = case["journey"][0]
    assert {"action", "lane", "department", "channel", "cause", "rules"} <= set(step)
    assert all({"kind", "message", "rules", "owners"} <= set(f) for f in case["flags"])
    assert doc["totals"]["cases"] == len(doc["cases"])


def test_help_lists_every_command():
    r = CliRunner().invoke(cli.main, ["--help"])
    for name in ("evaluate", "explain", "diff", "test", "snapshot", "lint", "coverage", "rank", "fuzz", "compile"):
        assert name in r.stdout

"""friction on a Dask cluster: the same rows, totals and error rows as one process, and
nothing lost or doubled when a worker dies mid-run.

One LocalCluster of 2 worker processes serves the module (starting one costs seconds)."""
from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("dask.distributed", reason="friction[dask] is not installed")

from dask.distributed import Client, LocalCluster  # noqa: E402

import friction  # noqa: E402
from friction import cli, cluster  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from workload import case_dicts, write_policy_set  # noqa: E402

BANK = str(ROOT / "policies" / "bank")


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as lc, Client(lc) as c:
        yield c


@pytest.fixture(scope="module")
def workload(tmp_path_factory):
    """A 40-rule generated set and 3,000 cases with bad lines planted among them."""
    out = tmp_path_factory.mktemp("cluster")
    policy = write_policy_set(out / "policy", 40)
    lines = [json.dumps(d) for d in case_dicts(3000, seed=7)]
    rng = random.Random(3)
    for bad in ['{"id": "x", "event": ', "[1, 2]", '{"id": "huge", "event": "event-1", "attrs": {"products": 9}}',
                "\xff not utf-8 is written below"]:
        lines.insert(rng.randrange(len(lines)), bad)
    catalog = out / "catalog.jsonl"
    with open(catalog, "wb") as f:
        for line in lines:
            f.write((b"\xff\xfe{}" if line.startswith("\xff") else line.encode()) + b"\n")
    return str(policy), str(catalog)


def _local_rows(policy: str, catalog: str) -> tuple[list[str], dict]:
    res = CliRunner().invoke(cli.main, ["evaluate", policy, catalog, "--format", "jsonl"])
    assert res.exit_code == 2, res.output   # the planted bad lines
    rows = res.stdout.splitlines()
    good = [json.loads(r) for r in rows if "error" not in json.loads(r)]
    totals = {k: sum(r["metrics"][k] for r in good) for k in friction.METRICS}
    return rows, totals


def test_rows_and_totals_equal_one_process(client, workload):
    policy, catalog = workload
    local, local_totals = _local_rows(policy, catalog)
    out: list[str] = []
    run = cluster.evaluate_on_cluster(client, policy, catalog, friction.load.relative_path(Path(catalog)),
                                      blocksize=20_000, emit=out.append)
    rows = "".join(out).splitlines()
    assert run.parts > 5                              # really split
    assert rows == local                              # same JSON per case, same order, error rows included
    errors = [json.loads(r) for r in rows if "error" in json.loads(r)]
    assert len(errors) == 4 == run.errors
    assert all(e["line"] is not None for e in errors)
    assert run.cases == len(local) - 4
    for k, v in local_totals.items():
        assert run.totals[k] == pytest.approx(v), k


def test_bundled_yaml_catalog_is_expanded_and_gives_the_same_rows(client):
    ps = friction.compile_policy_set(friction.load_policy_set(BANK))
    stream = friction.open_catalog(str(ROOT / "cases" / "life-events.yaml"), ps.manifest)
    cases = [c for c in stream if isinstance(c, friction.Case)]
    out: list[str] = []
    cluster.evaluate_on_cluster(client, BANK, cluster.cases_as_jsonl(iter(cases)), stream.name,
                                blocksize=2048, emit=out.append)
    local = CliRunner().invoke(cli.main, ["evaluate", BANK, "--format", "jsonl"]).stdout
    assert "".join(out) == local


def test_policy_set_travels_as_data_and_is_compiled_once_per_worker(client, workload):
    policy, _ = workload
    bundle = cluster.bundle_policy_set(policy)
    assert bundle == cluster.bundle_policy_set(policy)           # content-addressed
    first = client.run(lambda: id(cluster.compiled_from(bundle)))
    again = client.run(lambda: id(cluster.compiled_from(bundle)))
    assert first == again and len(first) == 2                     # one compiled set per worker, reused


@pytest.mark.parametrize("given_as", ["path", "bytes"])
def test_a_killed_worker_loses_and_doubles_nothing(client, workload, tmp_path, given_as):
    # "bytes": a catalog expanded on the client (a YAML catalog) travels in the graph; it
    # was scattered, and a block held only by the killed worker cancelled the run
    policy, catalog = workload
    local, _ = _local_rows(policy, catalog)
    source = Path(catalog).read_bytes() if given_as == "bytes" else catalog
    out_dir = tmp_path / "out"
    killed: list[str] = []

    def kill_one_busy_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            busy = [w for w, keys in client.processing().items() if keys]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, 9)
                killed.append(busy[0])
            time.sleep(0.01)

    t = threading.Thread(target=kill_one_busy_worker)
    t.start()
    run = cluster.evaluate_on_cluster(client, policy, source, friction.load.relative_path(Path(catalog)),
                                      blocksize=8_000, out_dir=str(out_dir))
    t.join()
    assert killed, "no worker was killed: the test proved nothing"
    parts = sorted(out_dir.glob("part-*.jsonl"))
    assert len(parts) == run.parts
    rows = [line for p in parts for line in p.read_text().splitlines()]
    assert rows == local                                       # every case once, in catalog order
    assert not list(out_dir.glob("*.tmp"))
    totals = json.loads((out_dir / "totals.json").read_text())
    assert totals["cases"] + totals["errors"] == len(local)
    client.wait_for_workers(2, timeout=60)


def test_cli_on_a_running_scheduler_writes_parts_and_exit_code_says_errors(client, workload, tmp_path):
    policy, catalog = workload
    out_dir = tmp_path / "cli-out"
    res = CliRunner().invoke(cli.main, ["evaluate", policy, catalog, "--scheduler", client.scheduler.address,
                                        "--blocksize", "100000", "-o", str(out_dir)])
    assert res.exit_code == 2, res.output      # 4 bad lines
    assert "4 case(s) could not be evaluated" in res.stderr
    rows = [line for p in sorted(out_dir.glob("part-*.jsonl")) for line in p.read_text().splitlines()]
    assert rows == _local_rows(policy, catalog)[0]


@pytest.mark.parametrize("address, message", [
    ("local:0", "local takes a number of worker processes"),
    ("local:two", "local takes a number of worker processes"),
    ("nowhere", "expected tcp://host:port or local:N"),
])
def test_bad_scheduler_addresses_are_one_line_errors(address, message):
    res = CliRunner().invoke(cli.main, ["evaluate", BANK, "--scheduler", address])
    assert res.exit_code == 2
    assert message in res.stderr and "Traceback" not in res.output


def test_cli_local_cluster_on_the_bundled_bank_equals_one_process():
    """Without -o and --format, one process prints the table with the yearly footer: so does
    the cluster. Was: JSON Lines rows, the yearly figures computed and not printed."""
    res = CliRunner().invoke(cli.main, ["evaluate", BANK, "--scheduler", "local:1"])
    assert res.exit_code == 0, res.output
    assert res.stdout == CliRunner().invoke(cli.main, ["evaluate", BANK]).stdout
    assert "Both sides of the stage, per year" in res.stdout


@pytest.mark.parametrize("fmt", ["table", "markdown", "json", "csv", "jsonl"])
def test_cli_cluster_without_output_prints_what_one_process_prints(client, fmt):
    """Every format, yearly figures included (the table's and Markdown's footer, the JSON
    document's yearly section), the rows from several blocks."""
    args = ["evaluate", BANK, "--format", fmt]
    one = CliRunner().invoke(cli.main, args)
    dask = CliRunner().invoke(cli.main, [*args, "--scheduler", client.scheduler.address, "--blocksize", "2048"])
    assert one.exit_code == dask.exit_code == 0, dask.output
    assert dask.stdout == one.stdout
    if fmt in ("table", "markdown"):
        assert "Both sides of the stage, per year" in one.stdout
    elif fmt == "json":
        assert json.loads(one.stdout)["yearly"]["departments"]


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_cli_cluster_prints_error_rows_and_counts_as_one_process(client, workload, fmt):
    policy, catalog = workload
    one = CliRunner().invoke(cli.main, ["evaluate", policy, catalog, "--format", fmt])
    dask = CliRunner().invoke(cli.main, ["evaluate", policy, catalog, "--format", fmt,
                                         "--scheduler", client.scheduler.address, "--blocksize", "100000"])
    assert one.exit_code == dask.exit_code == 2          # the planted bad lines
    assert dask.stdout == one.stdout and dask.stderr == one.stderr
    assert "4 case(s) could not be evaluated" in one.stdout + one.stderr


def test_rank_on_the_cluster_equals_rank_in_one_process(client, workload):
    policy, catalog = workload
    local = CliRunner().invoke(cli.main, ["rank", policy, catalog, "--top", "0", "--format", "json"])
    remote = CliRunner().invoke(cli.main, ["rank", policy, catalog, "--top", "0", "--format", "json",
                                           "--scheduler", client.scheduler.address, "--blocksize", "30000"])
    assert local.exit_code == remote.exit_code == 2          # the planted bad lines, reported by both
    assert json.loads(remote.stdout) == json.loads(local.stdout)
    assert remote.stderr.count("error:") == local.stderr.count("error:") == 4


def test_cluster_totals_carry_the_yearly_section_of_one_process(client, tmp_path):
    """Hours per department, utilisation, contacts and cost per channel, customer hours and
    over-capacity findings, weighted by the YAML catalog's volumes (per_year × share), equal
    to one process's. Was: the cluster had no yearly figures, and a YAML catalog expanded
    for the cluster lost its volumes (every case weighed 1)."""
    local = json.loads(CliRunner().invoke(cli.main, ["evaluate", BANK, "--format", "json"]).stdout)["yearly"]
    out_dir = tmp_path / "bank-out"
    res = CliRunner().invoke(cli.main, ["evaluate", BANK, "--scheduler", client.scheduler.address,
                                        "--blocksize", "2048", "-o", str(out_dir)])
    assert res.exit_code == 0, res.output
    totals = json.loads((out_dir / "totals.json").read_text())
    assert totals["parts"] > 3                                  # really split
    assert totals["yearly"] == local
    assert local["cases_per_year"] > totals["cases"]            # volumes, not one per case
    assert local["departments"]["Back office"]["hours"] > 0 and local["channels"]


def test_a_set_without_capacity_figures_has_no_yearly_totals(client, workload):
    policy, catalog = workload
    run = cluster.evaluate_on_cluster(client, policy, catalog, "c", blocksize=200_000, emit=lambda t: None)
    assert run.yearly is None


def test_rank_by_staff_hours_on_the_cluster_equals_one_process(client):
    args = ["rank", BANK, "--by", "staff_hours", "--top", "0", "--format", "json"]
    local = json.loads(CliRunner().invoke(cli.main, args).stdout)
    remote = CliRunner().invoke(cli.main, [*args, "--scheduler", client.scheduler.address, "--blocksize", "2048"])
    assert remote.exit_code == 0, remote.output
    assert json.loads(remote.stdout) == local
    assert local["rules"][0]["removed"]["staff_hours"] > 0


@pytest.fixture(scope="module")
def yaml_with_invalid_cases(tmp_path_factory) -> str:
    """A YAML catalog for the bank: 30 cases, invalid ones first, in the middle (two in a
    row) and last, so that with small blocks they fall in several blocks and at their edges."""
    events = ["relocate", "change-email", "change-name", "bereavement", "consolidate-products", "switch-in",
              "question"]
    cases = [{"id": f"ok-{i}", "event": events[i % len(events)], "attrs": {"products": i % 5 + 1}} for i in range(30)]
    for at, bad in [(30, {"id": "bad-last", "event": "question", "attrs": {"age": "many"}}),
                    (17, {"id": "bad-17b", "event": "relocat"}), (17, {"id": "bad-17a", "event": "nope"}),
                    (9, {"id": "bad-9", "event": "question", "attrs": {"products": -1}}),
                    (0, {"id": "bad-first", "event": "moving"})]:
        cases.insert(at, bad)
    path = tmp_path_factory.mktemp("yaml-invalid") / "catalog.yaml"
    path.write_text(json.dumps({"cases": cases}, indent=1))   # JSON is YAML: one case a few lines
    return str(path)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json", "table"])
def test_a_yaml_catalogs_invalid_cases_keep_their_place_as_in_one_process(client, yaml_with_invalid_cases, fmt):
    """Was: their error rows came after every other row (json, csv, table), and were missing
    from JSON Lines."""
    args = ["evaluate", BANK, yaml_with_invalid_cases, "--format", fmt]
    one = CliRunner().invoke(cli.main, args)
    dask = CliRunner().invoke(cli.main, [*args, "--scheduler", client.scheduler.address, "--blocksize", "1024"])
    assert one.exit_code == dask.exit_code == 2, dask.output
    assert dask.stdout == one.stdout and dask.stderr == one.stderr
    assert "5 case(s) could not be evaluated; 30 were." in one.stderr
    if fmt == "jsonl":
        ids = [json.loads(r)["id"] for r in one.stdout.splitlines()]
        assert ids[0] == "bad-first" and ids[-1] == "bad-last" and ids[19:21] == ["bad-17a", "bad-17b"]


def test_a_yaml_catalogs_error_rows_are_in_the_parts_and_counted(client, yaml_with_invalid_cases, tmp_path):
    one = CliRunner().invoke(cli.main, ["evaluate", BANK, yaml_with_invalid_cases, "--format", "jsonl"])
    out_dir = tmp_path / "parts"
    res = CliRunner().invoke(cli.main, ["evaluate", BANK, yaml_with_invalid_cases, "--scheduler",
                                        client.scheduler.address, "--blocksize", "1024", "-o", str(out_dir)])
    assert res.exit_code == 2, res.output
    rows = [line for p in sorted(out_dir.glob("part-*.jsonl")) for line in p.read_text().splitlines()]
    assert len(list(out_dir.glob("part-*.jsonl"))) > 3 and rows == one.stdout.splitlines()
    assert json.loads((out_dir / "totals.json").read_text())["errors"] == 5
    assert res.stderr.count("error:") == 5 and "5 case(s) could not be evaluated; 30 were." in res.stderr


def test_a_yaml_catalog_of_invalid_cases_only_still_writes_their_rows(client, tmp_path):
    catalog = tmp_path / "bad.yaml"
    catalog.write_text("cases:\n  - {id: x, event: nope}\n  - {id: y, event: nah}\n")
    args = ["evaluate", BANK, str(catalog), "--format", "csv"]
    one = CliRunner().invoke(cli.main, args)
    dask = CliRunner().invoke(cli.main, [*args, "--scheduler", client.scheduler.address])
    assert one.exit_code == dask.exit_code == 2
    assert dask.stdout == one.stdout and dask.stdout.count("\n") == 3 and dask.stderr == one.stderr


def test_rank_on_the_cluster_reports_a_yaml_catalogs_invalid_cases_once(client, yaml_with_invalid_cases):
    args = ["rank", BANK, yaml_with_invalid_cases, "--format", "json"]
    one = CliRunner().invoke(cli.main, args)
    dask = CliRunner().invoke(cli.main, [*args, "--scheduler", client.scheduler.address])
    assert one.exit_code == dask.exit_code == 2
    assert dask.stderr == one.stderr and one.stderr.count("error:") == 5
    assert json.loads(dask.stdout) == json.loads(one.stdout)

"""Streaming runs hand rows over in blocks: each chunk of cases is evaluated, encoded and
tallied where it ran (a worker) and arrives as bytes the parent writes as they are (issue
#11 item 4). The output must be what one process writing row by row gives, row for row,
error rows in place, and the tallies the same."""
from __future__ import annotations

import codecs
import io
import json
import pickle
import re
from pathlib import Path

import pytest

import friction
from friction import report
from builders import run_cli as run

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests/fixtures/tiny"
BAD = [b"{event: move", b'{"id": "fly-away", "event": "fly"}', b"[1, 2]"]


def catalog(path: Path, n: int) -> Path:
    """n lines: cases of two events with varied attributes, and a bad line every 7th."""
    lines = []
    for i in range(n):
        if i % 7 == 3:
            lines.append(BAD[i % len(BAD)])
        else:
            lines.append(json.dumps({"id": f"c{i}", "event": ("move", "ask")[i % 2],
                                     "attrs": {"products": i % 10}}).encode())
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def row_by_row(fmt: str, cat: Path) -> tuple[str, report.RowWriter]:
    """The reference: every row encoded and written one at a time, in this process."""
    cps = friction.compile_policy_set(friction.load_policy_set(str(TINY)))
    ev = friction.Evaluator(cps, detail="summary")
    enc = report.RowEncoder(fmt)
    out = io.StringIO()
    writer = report.RowWriter(fmt, out, cps.name, cps.manifest.version, "compiled", "c")
    for row in friction.run_cases(lambda c: enc.encode(ev.row(c)), friction.open_catalog(str(cat), cps.manifest)):
        writer.add(enc.encode(row) if isinstance(row, friction.Problem) else row)
    return out.getvalue(), writer


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("workers", [1, 2])
def test_blocks_give_the_rows_and_tallies_of_one_process_writing_row_by_row(tmp_path, fmt, workers):
    cat = catalog(tmp_path / "cat.jsonl", 61)
    want, reference = row_by_row(fmt, cat)
    cps = friction.compile_policy_set(friction.load_policy_set(str(TINY)))
    ev = friction.Evaluator(cps, detail="summary")
    enc = report.RowEncoder(fmt)
    out = io.StringIO()
    writer = report.RowWriter(fmt, out, cps.name, cps.manifest.version, "compiled", "c")
    problems = []
    blocks = list(friction.run_cases(lambda c: enc.encode(ev.row(c)), friction.open_catalog(str(cat), cps.manifest),
                                     workers, chunksize=4, combine=report.BlockEncoder(fmt)))
    assert len(blocks) == 16   # 61 lines in chunks of 4
    for b in blocks:
        problems.extend(b.problems)
        writer.add_block(b)
    assert out.getvalue() == want
    assert (writer.cases, writer.summary(), writer.errors) == (reference.cases, reference.summary(), reference.errors)
    assert [p.line for p in problems] == [i + 1 for i in range(61) if i % 7 == 3]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_two_workers_write_what_one_writes_row_for_row_with_errors_in_place(tmp_path, fmt):
    cat = catalog(tmp_path / "cat.jsonl", 1300)   # more than one chunk of 500 per worker
    one = run("evaluate", TINY, cat, "--format", fmt, "--workers", 1)
    two = run("evaluate", TINY, cat, "--format", fmt, "--workers", 2)
    assert one.exit_code == two.exit_code == 2
    assert one.stdout == two.stdout
    assert one.stderr == two.stderr   # each bad line reported, in catalog order
    lines = one.stdout.splitlines()
    assert len(lines) == 1300 + (fmt == "csv")
    if fmt == "jsonl":
        rows = [json.loads(x) for x in lines]
        assert [i for i, r in enumerate(rows) if "error" in r] == [i for i in range(1300) if i % 7 == 3]
        assert [r["id"] for r in rows if "error" not in r] == [f"c{i}" for i in range(1300) if i % 7 != 3]


def test_two_workers_write_the_same_file_as_one(tmp_path):
    cat = catalog(tmp_path / "cat.jsonl", 1100)
    for w in (1, 2):
        run("evaluate", TINY, cat, "--format", "jsonl", "--workers", w, "-o", tmp_path / f"out{w}.jsonl")
    assert (tmp_path / "out1.jsonl").read_bytes() == (tmp_path / "out2.jsonl").read_bytes()
    assert len((tmp_path / "out1.jsonl").read_bytes().splitlines()) == 1100


def test_a_streaming_run_keeps_no_loads_and_writes_the_rows_a_run_keeping_them_writes(tmp_path):
    """Streaming formats show no yearly figures, so `evaluate` builds outcomes without their
    CaseLoad there (issue #12 item 6); the rows are the same as with loads kept."""
    from friction.bundled import DEFAULT_CATALOG, DEFAULT_POLICY_SET, bundled_path

    cps = friction.compile_policy_set(friction.load_policy_set(bundled_path(DEFAULT_POLICY_SET)))
    assert friction.capacity.capacity_configured(cps.manifest.capacity)
    cases = list(friction.open_catalog(bundled_path(DEFAULT_CATALOG), cps.manifest))
    kept, dropped = (friction.Evaluator(cps, detail="summary", loads=x) for x in (True, False))
    enc = report.RowEncoder("jsonl")
    assert [enc.encode(kept.row(c)).text for c in cases] == [enc.encode(dropped.row(c)).text for c in cases]
    assert all(kept.row(c).outcome.load is not None and dropped.row(c).outcome.load is None for c in cases)
    cli = run("evaluate", "--format", "jsonl")
    assert cli.stdout.splitlines() == [enc.encode(kept.row(c)).text for c in cases]


# ---------------------------------------------------------------- the catalog read in blocks
# With workers, a JSON Lines file goes to them as blocks of bytes (catalog.jsonl_blocks),
# split into lines where they arrive: those lines must be exactly the lines read one by one.

from hypothesis import given, settings, strategies as st  # noqa: E402

from friction.catalog import LineBlock, jsonl_blocks, jsonl_lines  # noqa: E402

_LINE_PARTS = [b'{"id": "a", "event": "move"}', b"", b"   ", b"\t", b"\xc2\xa0", b"\xe3\x80\x80", b"\xff\xfe",
               b"\xef\xbb\xbf", b"\r", b"[1]", b"x" * 300, "é".encode()]


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.lists(st.sampled_from(_LINE_PARTS), max_size=3).map(b"".join), max_size=12),
       bom=st.booleans(), last_newline=st.booleans(), size=st.integers(1, 5))
def test_blocks_give_the_lines_read_one_by_one(parts, bom, last_newline, size):
    data = (codecs.BOM_UTF8 if bom else b"") + b"\n".join(parts) + (b"\n" if last_newline and parts else b"")
    want = list(jsonl_lines(io.BytesIO(data)))
    blocks = [pickle.loads(pickle.dumps(b)) for b in jsonl_blocks(io.BytesIO(data), size)]   # as a worker gets them
    assert [line for b in blocks for line in b] == want
    assert all(b.data.count(b"\n") <= size for b in blocks)


def test_a_catalog_of_blank_lines_is_the_same_one_error_with_workers(tmp_path):
    """Blank to the eye, and so to jsonl_lines: spaces, tabs, a no-break space, an
    ideographic space; and a byte-order mark alone on the first line."""
    for name, data in (("blank.jsonl", b"\n  \n\t\n"), ("nbsp.jsonl", "\u00a0\n\u3000\n".encode()),
                       ("bom.jsonl", codecs.BOM_UTF8 + b"\n\n"), ("empty.jsonl", b"")):
        (tmp_path / name).write_bytes(data)
        one = run("evaluate", TINY, tmp_path / name, "--format", "jsonl", "--workers", 1)
        two = run("evaluate", TINY, tmp_path / name, "--format", "jsonl", "--workers", 2)
        assert one.exit_code == two.exit_code == 2, name
        assert "holds no cases" in one.stderr and one.stderr == two.stderr, name
        assert one.stdout == two.stdout, name


def test_line_numbers_of_errors_count_blank_lines_across_blocks(tmp_path):
    lines = [b"", b'{"id": "ok", "event": "move"}', b"{bad", b"", b"", b'{"id": "x", "event": "fly"}', b"\xff"] * 40
    cat = tmp_path / "cat.jsonl"
    cat.write_bytes(b"\n".join(lines) + b"\n")
    one = run("evaluate", TINY, cat, "--format", "jsonl", "--workers", 1)
    two = run("evaluate", TINY, cat, "--format", "jsonl", "--workers", 2)
    assert one.stderr == two.stderr and one.stdout == two.stdout
    bad_lines = [int(m) for m in re.findall(r"cat\.jsonl:(\d+)", two.stderr)]
    assert bad_lines == [7 * k + i for k in range(40) for i in (3, 6, 7)]


def test_a_block_pickles_as_its_bytes():
    block = LineBlock(b'{"id": "a"}\n' * 100, 41)
    assert len(pickle.dumps(block)) < len(block.data) + 100
    again = pickle.loads(pickle.dumps(block))
    assert (again.data, again.first_line) == (block.data, 41)
    assert [line.line for line in again] == list(range(41, 141))


def _big(case_or_line):
    return b"x" * 300_000   # a large encoded block: it takes many pipe reads to arrive


def test_the_pool_does_not_wake_for_every_result_it_receives(monkeypatch):
    """multiprocessing's Pool woke its worker-maintenance thread whenever a result waited
    in the result pipe, so with large results that thread spun while each was read, taking
    CPU from the workers. It should wake for worker exits and pool changes only."""
    import multiprocessing.pool

    from friction import batch

    wakes = []
    real = multiprocessing.pool.Pool._maintain_pool
    monkeypatch.setattr(multiprocessing.pool.Pool, "_maintain_pool",
                        staticmethod(lambda *a: (wakes.append(1), real(*a))[1]))
    results = list(batch.run_cases(_big, range(200), workers=2, chunksize=5, combine=lambda rs: b"".join(rs)))
    assert len(results) == 40 and all(len(r) == 5 * 300_000 for r in results)
    assert len(wakes) < 10, f"{len(wakes)} wake-ups for 40 results"

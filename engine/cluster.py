"""Past one machine: evaluate and rank a JSON Lines catalog on a Dask cluster.

Nothing here is a scheduler of its own: Dask (`dask.distributed`) places the tasks,
moves the data and recomputes what a lost worker had. friction only says what a task is:

- the catalog is split by byte ranges at line ends (`dask.bytes.read_bytes`), so a worker
  reads its own block; a first cheap pass counts each block's lines so that every row keeps
  its line number in the catalog, exactly as a local run reports it;
- the policy set travels as data (its files' bytes, keyed by their content hash) and is
  compiled once per worker process, then reused for every block;
- each block is parsed, evaluated, encoded and tallied in the worker by the same code as a
  local run (JsonLineResolver, Evaluator.row, RowEncoder, BlockEncoder), so rows are
  byte-identical and totals the same;
- a block's rows are written by the worker to `part-NNNNN.jsonl` (temporary file, then
  rename: a recomputed block replaces its file whole, so every case appears once), or sent
  back to be written in catalog order; totals are reduced on the cluster.

Workers need the catalog and the output folder at the same path or URL (a shared mount,
or any fsspec URL such as s3://), and friction installed; nothing else is shared.
"""
from __future__ import annotations

import bisect
import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from .capacity import YearlyLoad, capacity_configured
from .compile import CompiledPolicySet, compile_policy_set
from .errors import InputError, Problem
from .evaluate import Evaluator
from .load import load_policy_set
from .catalog import JsonLine, JsonLineResolver, iter_jsonl_blob
from .measure import tidy_number
from .metrics import SCORES
from .rank import Attributor, Ranking, Tally, rank_groups, ranking_from
from .report import Block, BlockEncoder, RowEncoder, RowTally

__all__ = ["PolicyBundle", "bundle_policy_set", "compiled_from", "ClusterRun",
           "parse_scheduler", "connect", "evaluate_on_cluster", "rank_on_cluster", "cases_as_jsonl",
           "DEFAULT_BLOCKSIZE"]

DEFAULT_BLOCKSIZE = 16 * 2 ** 20     # bytes of catalog per task: ~40k cases, a few seconds of work
PART_NAME = "part-{:05d}.jsonl"
TOTALS_NAME = "totals.json"
_MESSAGES_PER_PART = 20              # problems a block sends back for stderr; every one is a row


# --------------------------------------------------------------------------- the policy set as data


@dataclass(frozen=True)
class PolicyBundle:
    """A policy set's files as bytes: what travels to workers instead of a path."""

    name: str                                   # the folder as the user named it (for messages)
    files: tuple[tuple[str, bytes], ...]        # file name -> content, sorted by name
    digest: str                                 # sha256 of names and contents

    def __repr__(self) -> str:
        return f"PolicyBundle({self.name!r}, {len(self.files)} files, {self.digest[:12]})"


def bundle_policy_set(folder: str | os.PathLike) -> PolicyBundle:
    """Every file at the top of a policy set folder (what the loader reads from it)."""
    path = Path(folder)
    files = []
    for p in sorted(path.iterdir()):
        if p.is_file():
            try:
                files.append((p.name, p.read_bytes()))
            except OSError as e:
                raise InputError(Problem(str(p), None, None, f"cannot read: {e.strerror}")) from None
    h = hashlib.sha256()
    for name, data in files:
        h.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return PolicyBundle(str(folder), tuple(files), h.hexdigest())


_compiled: dict[str, CompiledPolicySet] = {}   # per process: digest -> compiled set
_compiled_lock = threading.Lock()


def compiled_from(bundle: PolicyBundle) -> CompiledPolicySet:
    """The bundle's policy set, compiled once in this process (keyed by content hash)."""
    with _compiled_lock:
        cps = _compiled.get(bundle.digest)
        if cps is None:
            with tempfile.TemporaryDirectory(prefix="friction-policy-") as tmp:
                for name, data in bundle.files:
                    (Path(tmp) / name).write_bytes(data)
                cps = compile_policy_set(load_policy_set(tmp))
            _compiled[bundle.digest] = cps
        return cps


_evaluators: dict[tuple[str, str, str], Evaluator] = {}
_attributors: dict[int, Attributor] = {}   # per evaluator: rank's memo outlives a block


def _evaluator(bundle: PolicyBundle, engine: str, detail: str) -> Evaluator:
    key = (bundle.digest, engine, detail)
    ev = _evaluators.get(key)
    if ev is None:
        ev = _evaluators[key] = Evaluator(compiled_from(bundle), engine, detail=detail)
    return ev


# --------------------------------------------------------------------------- one block


def _count_lines(block: bytes) -> int:
    return block.count(b"\n")


def _evaluate_block(bundle: PolicyBundle, block: bytes, first_line: int, part: int, catalog: str,
                    engine: str, detail: str, out_dir: str | None,
                    invalid: Sequence[tuple[int, Problem]] = ()) -> Block:
    """The block's rows and tally, as a local worker makes them; what goes back is small
    whatever the block's size: its rows only when the worker does not write them, and its
    first problems (every one is also a row). `invalid`: the error rows of cases found
    invalid where the catalog was expanded, each with the line it goes before."""
    evaluator = _evaluator(bundle, engine, detail)
    resolve = JsonLineResolver(evaluator.cps.manifest, catalog)
    encoder = RowEncoder("jsonl")
    cases = (item if isinstance(item, Problem) else resolve(item)
             for item in _in_place(iter_jsonl_blob(block, first_line), invalid))
    cap = evaluator.cps.manifest.capacity
    out = BlockEncoder("jsonl", cap if capacity_configured(cap) else None)(   # a row at a time, none kept
        case if isinstance(case, Problem) else encoder.encode(evaluator.row(case)) for case in cases)
    if out_dir is not None:
        _write_part(out_dir, part, out.data)
        out = out._replace(data=b"")
    reported = {id(p) for _, p in invalid}   # on stderr already, where the catalog was read
    return out._replace(problems=[p for p in out.problems if id(p) not in reported][:_MESSAGES_PER_PART])


def _in_place(lines: Iterator[JsonLine], invalid: Sequence[tuple[int, Problem]]) -> Iterator[JsonLine | Problem]:
    """A block's lines with each of `invalid` before the line it names, and those naming a
    line past the block after them."""
    pending = iter(invalid)
    nxt = next(pending, None)
    for item in lines:
        while nxt is not None and nxt[0] <= item.line:
            yield nxt[1]
            nxt = next(pending, None)
        yield item
    while nxt is not None:
        yield nxt[1]
        nxt = next(pending, None)


def _placed(invalid: Sequence[tuple[int, Problem]], firsts: list[int]) -> list[list[tuple[int, Problem]]]:
    """Invalid cases of an expanded catalog, each given with the number of cases before it,
    as each block's (line it goes before, problem): one process's order, error rows included."""
    per_block: list[list[tuple[int, Problem]]] = [[] for _ in firsts]
    for before, p in invalid:
        per_block[max(bisect.bisect_right(firsts, before + 1) - 1, 0)].append((before + 1, p))
    return per_block


def _rank_block(bundle: PolicyBundle, block: bytes, first_line: int, catalog: str, engine: str,
                groups: list[frozenset[int]]) -> Tally:
    evaluator = _evaluator(bundle, engine, "summary")
    attribute = _attributors.get(id(evaluator))
    if attribute is None or attribute.evaluator is not evaluator or attribute.groups != groups:
        attribute = _attributors[id(evaluator)] = Attributor(evaluator, groups)   # its memo serves every block
    resolve = JsonLineResolver(evaluator.cps.manifest, catalog)
    t = Tally()
    for item in iter_jsonl_blob(block, first_line):
        case = resolve(item)
        t.add(case if isinstance(case, Problem) else attribute.of_case(case))
    return t.settle()


def _merge_tallies(tallies: list[Tally]) -> Tally:
    out = Tally()
    for t in tallies:
        out.merge(t)
    return out


def _write_part(out_dir: str, part: int, data: bytes) -> None:
    """Temporary file, then rename: a block computed twice (a lost worker) replaces its file."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(out_dir)
    final = f"{root.rstrip('/')}/{PART_NAME.format(part)}"
    tmp = f"{final}.{os.getpid()}.{threading.get_ident()}.tmp"
    with fs.open(tmp, "wb") as f:
        f.write(data)
    fs.mv(tmp, final)


def _merge(parts: list[Block]) -> RowTally:
    total = RowTally(len(SCORES), YearlyLoad())
    for p in parts:
        total.merge(p.tally)
    return total


# --------------------------------------------------------------------------- the client side


def parse_scheduler(address: str) -> tuple[str, int | None]:
    """`local:N` (start N worker processes here) or a scheduler address (`tcp://host:8786`)."""
    if address.startswith("local:"):
        n = address.removeprefix("local:")
        if not n.isdigit() or int(n) < 1:
            raise InputError(f"--scheduler {address}: local takes a number of worker processes, e.g. local:2")
        return "local", int(n)
    if "://" not in address and ":" not in address:
        raise InputError(f"--scheduler {address}: expected tcp://host:port or local:N")
    return address, None


class connect:
    """A Dask client for `--scheduler`: a LocalCluster of N processes started (and stopped)
    for the run, or a running cluster's scheduler. A context manager."""

    def __init__(self, address: str):
        self.address = address
        self.client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> Any:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise InputError("--scheduler needs Dask: pip install 'friction[dask]'") from None
        where, n = parse_scheduler(self.address)
        if where == "local":
            self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=40)
            self.client = Client(self._cluster)
        else:
            try:
                self.client = Client(where, timeout="10s")
            except OSError as e:
                raise InputError(f"--scheduler {where}: cannot reach the scheduler ({e})") from None
        return self.client

    def __exit__(self, *exc: Any) -> None:
        if self.client is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()


@dataclass
class ClusterRun:
    """The outcome of a cluster run: totals reduced on the cluster, problems as sent back."""

    parts: int
    cases: int
    errors: int
    totals: dict[str, float]
    flags: dict[str, int]
    messages: list[str]        # the first problems of each block (every one is also a row)
    yearly: dict[str, Any] | None = None   # the yearly figures (capacity.YearlyLoad.report), as one process gives
    policy_set: str = ""       # the set's name and version, as reports title them
    version: str = ""


def _blocks(client: Any, catalog: str | bytes, blocksize: int) -> list[Any]:
    """Byte ranges cut at line ends: read by the workers from a path or URL, or, for a
    catalog given as bytes (a YAML catalog expanded here), cut here and sent."""
    if isinstance(catalog, bytes):
        blocks, start = [], 0
        while start < len(catalog):
            end = catalog.find(b"\n", start + blocksize)
            end = len(catalog) if end < 0 else end + 1
            blocks.append(catalog[start:end])
            start = end
        return [_in_graph(b) for b in blocks]
    from dask.bytes import read_bytes

    _, blocks = read_bytes(catalog, delimiter=b"\n", blocksize=blocksize, sample=False)
    return [b for per_file in blocks for b in per_file]


def _in_graph(value: Any) -> Any:
    """`value` as a task of the graph rather than scattered data: Dask keeps a task's input
    and recomputes it when the worker holding it dies, while scattered data held by a
    dead worker alone is gone, and every task needing it is cancelled."""
    import dask

    return dask.delayed(value, pure=True)


def cases_as_jsonl(cases: Iterator[Any]) -> bytes:
    """Resolved cases (a YAML catalog, expanded) as JSON Lines, the form blocks travel in.
    A persona becomes a label with its attributes on the line, as in any JSON Lines catalog."""
    import json

    return "".join(json.dumps({"id": c.id, "event": c.event, "persona": c.persona, "channel": c.channel,
                               "attrs": c.attrs, **({"volume": c.volume} if c.volume != 1 else {})},
                              ensure_ascii=False) + "\n" for c in cases).encode()


def _first_lines(client: Any, blocks: list[Any]) -> list[int]:
    import dask

    counts = client.gather(client.compute([dask.delayed(_count_lines)(b) for b in blocks]))
    firsts, n = [], 1
    for c in counts:
        firsts.append(n)
        n += c
    return firsts


def evaluate_on_cluster(client: Any, policy_set: str, catalog: str | bytes, catalog_name: str, *,
                        engine: str = "compiled", detail: str = "summary", out_dir: str | None = None,
                        blocksize: int = DEFAULT_BLOCKSIZE, emit: Callable[[str], None] | None = None,
                        invalid: Sequence[tuple[int, Problem]] = ()) -> ClusterRun:
    """Evaluate a JSON Lines catalog (a path or URL the workers can read, or its bytes) on
    the cluster. With `out_dir`, workers write one file
    per block there (plus totals.json, written last); without it, each block's rows are
    passed to `emit` in catalog order. The policy set is loaded here first, so bad policy
    files fail before anything is sent. `invalid`: for a catalog expanded here (YAML) into
    `catalog` as bytes, the cases that were invalid, each with the number of valid cases
    before it: their error rows are written in their place and counted, not reported
    again."""
    import dask

    manifest = compile_policy_set(load_policy_set(policy_set)).manifest   # bad input fails here, with its real paths
    cap = manifest.capacity
    bundle = bundle_policy_set(policy_set)
    shipped = _in_graph(bundle)
    blocks = _blocks(client, catalog, blocksize) or ([_in_graph(b"")] if invalid else [])
    if out_dir is not None:
        import fsspec

        fs, root = fsspec.core.url_to_fs(out_dir)
        fs.makedirs(root, exist_ok=True)
        for stale in fs.glob(f"{root.rstrip('/')}/part-*.jsonl"):   # an earlier run's extra parts
            fs.rm(stale)
    firsts = _first_lines(client, blocks)
    tasks = [dask.delayed(_evaluate_block)(shipped, b, first, i, catalog_name, engine, detail, out_dir, placed)
             for i, (b, first, placed) in enumerate(zip(blocks, firsts, _placed(invalid, firsts)))]
    futures = client.compute(tasks)
    messages: list[str] = []
    if out_dir is None:
        for fut in futures:                                   # catalog order, a block at a time
            part = fut.result()
            messages.extend(map(str, part.problems))
            if emit is not None:
                emit(part.data.decode("utf-8"))
    total = client.submit(_merge, futures).result()           # reduced on a worker
    if out_dir is not None:
        messages = [m for part in client.gather(client.map(_messages_of, futures)) for m in part]
    run = ClusterRun(parts=len(blocks), cases=total.cases, errors=total.errors,
                     totals={k: tidy_number(v) for k, v in zip(SCORES, total.totals)},
                     flags=dict(sorted(total.flags.items())), messages=messages,
                     yearly=total.yearly.report(cap) if capacity_configured(cap) else None,
                     policy_set=manifest.name, version=manifest.version)
    if out_dir is not None:
        _write_totals(out_dir, run)
    return run


def _messages_of(part: Block) -> list[str]:
    return [str(p) for p in part.problems]


def _write_totals(out_dir: str, run: ClusterRun) -> None:
    import json

    import fsspec

    fs, root = fsspec.core.url_to_fs(out_dir)
    final = f"{root.rstrip('/')}/{TOTALS_NAME}"
    doc = {"parts": run.parts, "cases": run.cases, "errors": run.errors, **run.totals, "flags": run.flags,
           **({"yearly": run.yearly} if run.yearly else {})}
    with fs.open(final + ".tmp", "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, indent=2) + "\n")
    fs.mv(final + ".tmp", final)


def rank_on_cluster(client: Any, policy_set: str, catalog: str | bytes, catalog_name: str, *, by: str = "effort",
                    engine: str = "compiled", blocksize: int = DEFAULT_BLOCKSIZE) -> tuple[Ranking, list[Problem]]:
    """`friction rank` on the cluster: each block's attribution is tallied in a worker and
    the tallies are merged there; only the merged tally (one row per rule and group) comes
    back. Equal to a local rank of the same catalog."""
    import dask

    cps = compile_policy_set(load_policy_set(policy_set))
    keys, groups = rank_groups(cps)
    shipped = _in_graph(bundle_policy_set(policy_set))
    blocks = _blocks(client, catalog, blocksize)
    firsts = _first_lines(client, blocks)
    futures = client.compute([dask.delayed(_rank_block)(shipped, b, first, catalog_name, engine, groups)
                              for b, first in zip(blocks, firsts)])
    total = client.submit(_merge_tallies, futures).result()
    return ranking_from(cps, keys, groups, total, by), total.problems

"""friction's observed journeys against pm4py, an independent process-mining library, on
the two real logs (see ../shared/data/README.md):

- receipt.xes.gz: building-permit receipt phase, a Dutch municipality (CoSeLoG),
  doi:10.4121/uuid:a07386a5-7be3-4367-9535-70bc9e77dbe6
- bpic2013_incidents.xes.gz: Volvo IT incident management (BPI Challenge 2013),
  doi:10.4121/500573e6-accc-4b0c-9576-aa5468b10cee

pm4py reads each log with its own XES importer into a dataframe; the handoffs per case
(changes of org:group between consecutive events in timestamp order) are counted there
with pandas. friction reads the same file with its own reader and map and measures
`handoffs` with the journey metrics code. With every activity on the customer path (lane
frontstage) that metric is exactly the changes of department between consecutive events.
pm4py is a test dependency only, and imported only here.
"""
from __future__ import annotations

import os
from pathlib import Path

import pm4py
import pytest

from friction.logmap import load_log_map
from friction.observe import ObservedJourney, observe_log

pytestmark = pytest.mark.filterwarnings("ignore:Install the optional requirement")

ROOT = Path(__file__).resolve().parents[1]
# Beside the clone, as in CI; FRICTION_LOGS points elsewhere (a git worktree, say).
SHARED = Path(os.environ.get("FRICTION_LOGS") or ROOT.parent / "shared" / "data")
LOGS = {
    "receipt": [SHARED / "receipt.xes.gz", ROOT / "cases" / "receipt.xes.gz"],   # a copy is committed
    "bpic2013_incidents": [SHARED / "bpic2013_incidents.xes.gz"],
}

# Every event on the customer path: `handoffs` is then the number of consecutive events
# whose org:group differs, by the definition of the metric.
REFERENCE_MAP = load_log_map(ROOT / "tests" / "fixtures" / "logs" / "reference-map.yaml")


def _log(name: str) -> Path:
    for p in LOGS[name]:
        if p.is_file():
            return p
    pytest.skip(f"REAL LOG MISSING: {name} not found at {', '.join(map(str, LOGS[name]))}; "
                "the pm4py reference check did not run")


def _pm4py_handoffs(path: Path) -> tuple[dict[str, int], int]:
    # chunk_regex: pm4py's regex importer (5x faster here than its iterparse one, and no lxml)
    df = pm4py.read_xes(str(path), variant="chunk_regex")
    df = df.sort_values(["case:concept:name", "time:timestamp"], kind="stable")
    groups = df["org:group"].astype(str)   # a missing group is its own value, as in friction
    changed = groups.ne(groups.groupby(df["case:concept:name"]).shift())
    first = ~df["case:concept:name"].duplicated()
    per_case = (changed & ~first).groupby(df["case:concept:name"]).sum()
    return {str(k): int(v) for k, v in per_case.items()}, len(df)


@pytest.mark.parametrize("name", sorted(LOGS))
def test_handoffs_per_case_equal_pm4py(name: str) -> None:
    path = _log(name)
    expected, events = _pm4py_handoffs(path)
    got, steps, problems = {}, 0, []
    for j in observe_log(path, REFERENCE_MAP):
        if isinstance(j, ObservedJourney):
            got[j.id] = j.metrics["handoffs"]
            steps += j.metrics["steps"]
        else:
            problems.append(str(j))
    assert problems == []
    assert len(got) == len(expected)            # case counts agree
    assert steps == events                      # event counts agree
    wrong = {c: (got.get(c), n) for c, n in expected.items() if got.get(c) != n}
    assert wrong == {}, f"{len(wrong)} cases differ (friction, pm4py): {dict(list(wrong.items())[:5])}"
    assert sum(expected.values()) > 0           # the logs do have handoffs: the check can fail

"""pytest plugin (entry point `pytest11`): a policy set's expectations run as test items.

`pytest policies/` collects every `expectations/*.yaml` beside a policy set's manifest, one
test item per expectation, named by it; a failure shows expected against actual for each
case it selected, and the journey's steps with the rules that required them. Files
anywhere else are left alone, so a project's own tests are not disturbed; the ini option
`friction_expectations = false` turns collection off altogether."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .errors import InputError
from .layout import EXPECTATIONS_DIR, MANIFEST_FILE

if TYPE_CHECKING:
    from .evaluate import Evaluation
    from .expect import LoadedExpectations

# pytest loads this plugin in every session of every project where friction is installed:
# the engine is imported only once a policy set's expectations are collected.

__all__ = ["ExpectationFile", "ExpectationItem", "ExpectationFailed"]

_EVALUATIONS = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("friction_expectations", type="bool", default=True,
                  help="friction: collect policy sets' expectations/*.yaml as tests")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix.lower() not in (".yaml", ".yml"):
        return None
    if (file_path.parent.name == EXPECTATIONS_DIR and (file_path.parent.parent / MANIFEST_FILE).is_file()
            and parent.config.getini("friction_expectations")):
        return ExpectationFile.from_parent(parent, path=file_path)
    return None


class ExpectationFailed(Exception):
    """An expectation that does not hold for some of the cases it selects."""


class ExpectationFile(pytest.File):
    def collect(self):
        from .expect import load_expectations

        try:
            loaded = load_expectations(self.path)
        except InputError as e:
            raise self.CollectError(str(e)) from None
        for expectation, line in loaded.items:
            yield ExpectationItem.from_parent(self, name=expectation.name, loaded=loaded,
                                              only=(expectation, line))


class ExpectationItem(pytest.Item):
    def __init__(self, *, loaded: LoadedExpectations, only: tuple[Any, int], **kw: Any):
        from .expect import TestRun

        super().__init__(**kw)
        self.loaded, self.only = loaded, only
        self.run = TestRun()
        self.evaluation: Evaluation | None = None

    def _evaluation(self) -> Evaluation:
        """Each (policy set, catalog) pair is evaluated once per session."""
        ps = self.loaded.policy_set
        if self.loaded.catalog is None:
            raise InputError(f"{self.loaded.path}: say which catalog it runs on (catalog: in the file)")
        cache = self.config.stash.setdefault(_EVALUATIONS, {})
        key = (ps, self.loaded.catalog)
        if key not in cache:
            from .catalog import open_catalog
            from .compile import compile_policy_set
            from .evaluate import evaluate_items
            from .load import load_policy_set

            cps = compile_policy_set(load_policy_set(ps))
            stream = open_catalog(self.loaded.catalog, cps.manifest)
            cache[key] = evaluate_items(cps, stream.name, stream)
        return cache[key]

    def runtest(self) -> None:
        from .expect import LoadedExpectations, run_expectations

        self.evaluation = self._evaluation()
        one = LoadedExpectations(self.loaded.path, self.loaded.policy_set, self.loaded.catalog, [self.only])
        run_expectations(one, self.evaluation, self.run)
        if self.run.failed:
            raise ExpectationFailed()

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, InputError):
            return str(excinfo.value)
        if not isinstance(excinfo.value, ExpectationFailed):
            return super().repr_failure(excinfo)
        results = {r.case.id: r for r in self.evaluation.results} if self.evaluation else {}
        out = [f"{len(self.run.failed)} of {len(self.run.outcomes)} selected case(s) break "
               f"'{self.name}' ({self.loaded.path}:{self.only[1]})"]
        for o in self.run.failed:
            out.append(f"case {o.case}:")
            out += [f"  {what}: expected {expected}, actual {actual}" for what, expected, actual in o.failures]
            r = results.get(o.case)
            if r is not None:
                out.append("  journey (step  [rules that require it]):")
                out += [f"    {i}. {s.action}  [{', '.join(s.rules)}]" for i, s in enumerate(r.journey.steps, 1)]
        return "\n".join(out)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.only[1] - 1, f"expectation: {self.name}"

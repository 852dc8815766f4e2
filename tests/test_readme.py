"""The README is tested: every shell example in it (a fenced block whose first line is
`$ friction ...`) runs here, and its output must be what the README shows. A line `...`
(or `#   ...`) in the README stands for any number of lines left out; a line ending in `…`
shows the beginning of a longer line; every other line must match exactly (trailing spaces
aside). Commands exiting 2 are compared on stderr
(their one-line errors), the others on stdout. The README's catalog example must be valid
for the bank, and its property-based test example must run as the README says.

When an output changes on purpose, regenerate the README's blocks from the real outputs
(the lines the README leaves out stay left out) and review the diff:

    .venv/bin/python tests/test_readme.py --write
"""
from __future__ import annotations

import functools
import gzip
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
REGENERATE = ".venv/bin/python tests/test_readme.py --write"
FENCE = re.compile(r"^```")


@dataclass
class Block:
    line: int             # the README line of the opening fence
    heading: str
    info: str             # what follows the opening fence (sh, yaml, python, ...)
    lines: list[str]      # the block's lines, fences excluded

    @property
    def command(self) -> str:
        return self.lines[0][2:].split("  #")[0].strip()

    @property
    def shown(self) -> list[str]:
        return [x.rstrip() for x in self.lines[1:]]

    def where(self) -> str:
        return f"README.md:{self.line} (under '{self.heading}', `$ {self.command}`)"


def blocks(text: str) -> list[Block]:
    out, heading, current = [], "", None
    for n, line in enumerate(text.splitlines(), 1):
        if current is None:
            if line.startswith("#") and not line.startswith("#!"):
                heading = line.lstrip("#").strip()
            elif FENCE.match(line):
                current = Block(n, heading, line[3:].strip(), [])
        elif FENCE.match(line):
            out.append(current)
            current = None
        else:
            current.lines.append(line)
    return out


def shell_examples(text: str) -> list[Block]:
    return [b for b in blocks(text) if b.lines and b.lines[0].startswith("$ friction")]


def _elided(line: str) -> bool:
    return line.strip().lstrip("#").strip() == "..."


def same(shown: str, actual: str) -> bool:
    """A README line shows an output line whole, or its beginning when it ends with `…`."""
    return actual.startswith(shown[:-1]) if shown.endswith("…") else shown == actual


def matches(shown: list[str], actual: list[str]) -> bool:
    """`shown` with its `...` lines standing for any run of lines, against `actual`."""
    @functools.cache
    def match(i: int, j: int) -> bool:
        if i == len(shown):
            return j == len(actual)
        if _elided(shown[i]):
            return any(match(i + 1, k) for k in range(j, len(actual) + 1))
        return j < len(actual) and same(shown[i], actual[j]) and match(i + 1, j + 1)
    return match(0, 0)


def regenerate(shown: list[str], actual: list[str]) -> list[str]:
    """The README lines for `actual`, leaving out what the README left out: the first and
    last segments keep as many lines as they had; a middle segment starts at the first
    actual line with the same first word as it had."""
    segments, current = [], []
    for x in shown:
        if _elided(x):
            segments.append((current, x))
            current = []
        else:
            current.append(x)
    if not segments:
        return actual
    head, ellipsis = segments[0]
    out = [_like(x, a) for x, a in zip(head, actual)] + [ellipsis]
    pos = len(head)
    for seg, ellipsis in [*segments[1:], (current, None)]:
        start = _find(seg, actual, pos)
        if ellipsis is None and start is None:
            start = max(pos, len(actual) - len(seg))   # the tail: as many last lines as it had
        start = pos if start is None else start
        out += [_like(x, a) for x, a in zip(seg, actual[start:start + len(seg)])] + ([ellipsis] if ellipsis else [])
        pos = start + len(seg)
    return out


def _find(seg: list[str], actual: list[str], pos: int) -> int | None:
    """Where a README segment starts in the output: its first line, else its first word."""
    if not seg:
        return None
    for test in (lambda a: same(seg[0], a), lambda a: a.split()[:1] == seg[0].split()[:1]):
        hit = next((i for i in range(pos, len(actual)) if test(actual[i])), None)
        if hit is not None:
            return hit
    return None


def _like(shown: str, actual: str) -> str:
    """The output line as the README showed its old one: cut with `…` if that was."""
    return actual[:len(shown) - 1] + "…" if shown.endswith("…") and len(actual) >= len(shown) else actual


# --------------------------------------------------------------------------- running

def _workspace(tmp: Path) -> Path:
    """A folder where README commands run as from the repository root, plus what their
    stories need (`brk`: a copy of the bank with the two typos the README shows)."""
    for name in ("policies", "cases", "tests", "bench", "schema"):
        if (ROOT / name).exists():
            (tmp / name).symlink_to(ROOT / name)
    brk = tmp / "brk"
    shutil.copytree(ROOT / "policies/bank", brk, symlinks=False)
    address = brk / "address.yaml"
    text = address.read_text(encoding="utf-8")
    text = text.replace("channel: web", "chanel: web", 1)
    text = text.replace("after: [ask the chatbot in the app]", "after: [ask the chatbot in app]", 1)
    address.write_text(text, encoding="utf-8")
    # bad.xes: the receipt log with two events damaged, as the README tells
    lines = gzip.decompress((ROOT / "cases/receipt.xes.gz").read_bytes()).decode("utf-8").split("\n")
    assert 'key="org:group"' in lines[1815] and "13:47:26.235" in lines[1870]
    lines[1870] = lines[1870].replace("13:47:26.235", "13:46:26.235")   # earlier than the event before it
    del lines[1815]                                                     # an event without its department
    (tmp / "bad.xes").write_text("\n".join(lines), encoding="utf-8")
    return tmp


def _cwd(block: Block, workspace: Path) -> Path:
    """The repository root (so paths print as the README shows them), or the workspace for
    examples that need its files or write one."""
    args = shlex.split(block.command)
    return workspace if {"brk", "bad.xes", "-o"} & set(args) else ROOT


def run_example(block: Block, cwd: Path) -> tuple[int, list[str]]:
    args = shlex.split(block.command)
    assert args[0] == "friction"
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-m", "friction", *args[1:]], cwd=cwd, capture_output=True, text=True,
                       timeout=600, env=env)
    text = r.stderr if r.returncode == 2 else r.stdout
    return r.returncode, [x.rstrip() for x in text.splitlines()]


EXAMPLES = shell_examples(README.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return _workspace(tmp_path_factory.mktemp("readme"))


def test_the_readme_has_shell_examples():
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("block", EXAMPLES, ids=[f"line{b.line}:{b.command}" for b in EXAMPLES])
def test_a_readme_shell_example_prints_what_the_readme_shows(block, workspace):
    code, actual = run_example(block, _cwd(block, workspace))
    if not matches(block.shown, actual):
        fresh = "\n".join(regenerate(block.shown, actual))
        pytest.fail(f"{block.where()} no longer shows what the command prints (exit {code}).\n"
                    f"It prints (as the README would show it):\n{fresh}\n\n"
                    f"Regenerate every README example with: {REGENERATE}", pytrace=False)


def test_the_readme_catalog_example_is_valid_for_the_bank():
    """The README's catalog excerpt (under 'Catalogs'): its explicit cases resolve against
    the bank's manifest with the bundled catalog's personas (`residence: eea` did not)."""
    import friction
    from friction.catalog import CaseResolver, load_catalog
    from friction.case import CaseSpec
    block = next(b for b in blocks(README.read_text(encoding="utf-8"))
                 if b.info == "yaml" and b.lines and b.lines[0].startswith("# cases/life-events.yaml"))
    excerpt = yaml.safe_load("\n".join(block.lines))
    bank = friction.load_policy_set(ROOT / "policies/bank")
    real = load_catalog(ROOT / "cases/life-events.yaml")
    resolver = CaseResolver(bank.manifest, "README.md", real.catalog.personas, real.persona_lines, real.catalog.channel)
    assert excerpt["cases"]
    for spec in excerpt["cases"]:
        out = resolver.resolve(CaseSpec(**spec), block.line)
        assert isinstance(out, friction.Case), f"README.md:{block.line}: {out}"
    assert set(excerpt["events"]) <= set(bank.manifest.events)


def test_the_readme_property_test_example_runs_as_the_readme_says(tmp_path):
    """The example property runs in pytest, and ends as the README says it does: the README
    says it fails on the bundled bank (and what it finds), so it must fail, finding that."""
    text = README.read_text(encoding="utf-8")
    block = next(b for b in blocks(text)
                 if b.info == "python" and "from friction.testing import cases" in "\n".join(b.lines))
    after = text.split("\n".join(block.lines), 1)[1][:1500]
    test_file = tmp_path / "test_readme_example.py"
    test_file.write_text("\n".join(block.lines) + "\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    if "fails on the bundled bank" in after:
        assert r.returncode == 1, f"README.md:{block.line}: the README says this example fails; it passed"
        paragraph = after.split("```", 1)[1].strip().split("\n\n")[0]
        found = re.findall(r"`([^`]+)`", paragraph)
        assert found, "say what Hypothesis finds, in `code`"
        for part in found:
            assert part in r.stdout, f"README.md:{block.line}: Hypothesis no longer finds {part}:\n{r.stdout[-2000:]}"
    else:
        assert r.returncode == 0, f"README.md:{block.line}: the example property test fails:\n{r.stdout[-3000:]}"


def _write() -> None:
    text = README.read_text(encoding="utf-8")
    lines = text.splitlines()
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        cwd = _workspace(Path(tmp))
        for block in reversed(shell_examples(text)):
            _, actual = run_example(block, _cwd(block, cwd))
            if matches(block.shown, actual):
                continue
            start = block.line + 1   # the `$ friction` line, 1-based index of README lines
            lines[start:start + len(block.shown)] = regenerate(block.shown, actual)
            print(f"rewrote {block.where()}")
    README.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(__doc__)
    _write()

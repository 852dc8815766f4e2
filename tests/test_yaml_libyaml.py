"""libyaml's fast path reads every document as the Python loader does: the same values, the
same lines (of mappings, keys and list items), the same texts of plain scalars, and, when a
document is refused, the same one-line message (the Python loader words every refusal).
Checked on the bundled YAML, on every YAML text in this test suite, and on generated and
mutated documents."""
from __future__ import annotations

import ast
import math
import random
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml.composer import Composer, ComposerError
from yaml.nodes import Node, ScalarNode, SequenceNode
from yaml.reader import Reader

import friction
from friction import yamlio
from friction.yamlio import ALIAS_BUDGET, MAX_DEPTH, LineDict, LineList, parse_yaml

pytestmark = pytest.mark.skipif(yamlio._FastLoader is None, reason="PyYAML is built without libyaml")

ROOT = Path(__file__).resolve().parent.parent


def bundled() -> list[str]:
    files = [p for top in ("policies", "cases", "tests/fixtures") for p in (ROOT / top).rglob("*")
             if p.suffix in (".yaml", ".yml")]
    return [p.read_text(encoding="utf-8") for p in sorted(files)]


def from_tests() -> list[str]:
    """Every string constant in the test suite that spans lines or holds a colon: YAML
    documents, templates, fragments (those that do not parse must fail alike)."""
    texts = set()
    for test in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(test.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    "\n" in node.value or ": " in node.value):
                texts.add(textwrap.dedent(node.value))
    return sorted(texts)


BUNDLED, IN_TESTS = bundled(), from_tests()
LINES = [text.splitlines(keepends=True) for text in BUNDLED + IN_TESTS]   # for mutations


def shape(value: Any) -> Any:
    """`value` with everything parse_yaml promises made comparable: types, order, lines."""
    if isinstance(value, LineDict):
        return ("map", value.line, tuple((shape(k), shape(v), value.key_lines[k], value.texts.get(k, "<none>"))
                                         for k, v in value.items()))
    if isinstance(value, LineList):
        return ("list", value.line, tuple(value.item_lines), tuple(shape(v) for v in value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(shape(v) for v in value))
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, repr(value))


def outcome(text: str, fast: bool) -> tuple:
    try:
        return ("value", shape(parse_yaml(text, "x.yaml", fast=fast)))
    except friction.InputError as e:
        return ("error", str(e))


def nodes(node: Node | None, seen: dict) -> Any:
    """The composed node tree as friction reads it: kinds, tags, values, styles and start
    marks (line and column), with shared (aliased) nodes as references. Not compared, since
    nothing reads them: end marks (libyaml ends a collection at the next token, PyYAML at
    its last), an indentless list's flow_style (False in libyaml, None in PyYAML), and where
    an empty value is (`?` alone: libyaml puts the empty value on the next line; the lines
    of empty keys and list items are compared, by `outcome`)."""
    if node is None:
        return None
    if id(node) in seen:
        return ("alias", seen[id(node)])
    seen[id(node)] = len(seen)
    empty = isinstance(node, ScalarNode) and node.value == "" and node.style is None
    head = (type(node).__name__, node.tag) + ((node.start_mark.line, node.start_mark.column) if not empty else ())
    if isinstance(node, ScalarNode):
        return (*head, node.value, node.style)
    if isinstance(node, SequenceNode):
        return (*head, bool(node.flow_style), tuple(nodes(c, seen) for c in node.value))
    return (*head, bool(node.flow_style), tuple((nodes(k, seen), nodes(v, seen)) for k, v in node.value))


def composed(loader_class: type, text: str) -> Any:
    loader = loader_class(text)
    try:
        return nodes(loader.get_single_node(), {})
    finally:
        loader.dispose()


def assert_alike(text: str) -> None:
    assert outcome(text, fast=True) == outcome(text, fast=False), repr(text)
    if not yamlio._libyaml_differs(text):
        try:
            yamlio._load(yamlio._FastLoader, text)
        except Exception:
            return   # refused: parse_yaml asks the Python loader (compared above)
        assert composed(yamlio._FastLoader, text) == composed(yamlio._Loader, text), repr(text)


# --------------------------------------------------------------------------- the fast path is used


def test_the_fast_path_reads_every_bundled_file_itself():
    """Alike, node for node, and not by falling back: libyaml parses each without refusing."""
    for text in BUNDLED:
        text = text.removeprefix("\ufeff")
        assert shape(yamlio._load(yamlio._FastLoader, text)) == outcome(text, fast=False)[1]
        assert composed(yamlio._FastLoader, text) == composed(yamlio._Loader, text)


def test_libyaml_only_supplies_events():
    """Composing is the project's (bounds included), not CParser's own compose methods."""
    mro = yamlio._FastLoader.__mro__
    for method in ("get_single_node", "compose_document", "compose_node", "compose_mapping_node",
                   "compose_sequence_node", "check_node", "get_node"):
        owner = next(c for c in mro if method in c.__dict__)
        assert owner in (yamlio._FastLoader, yamlio._Composer, Composer), method
    for method in ("get_event", "peek_event", "check_event"):
        assert next(c for c in mro if method in c.__dict__) is yamlio._CParser


def fast_refusal(text: str) -> ComposerError:
    with pytest.raises(ComposerError) as err:
        yamlio._load(yamlio._FastLoader, text)
    return err.value


def test_the_bounds_trip_on_the_fast_path():
    def doc(n: int) -> str:
        return "a: &a [" + ", ".join(["x"] * 99) + "]\nb: [" + ", ".join(["*a"] * n) + "]\n"
    assert len(yamlio._load(yamlio._FastLoader, doc(ALIAS_BUDGET // 100))["b"]) == ALIAS_BUDGET // 100
    e = fast_refusal(doc(ALIAS_BUDGET // 100 + 1))
    assert "aliases expand" in e.problem and e.problem_mark.line == 1
    e = fast_refusal("a: &a\n  - b\n  - *a\n")
    assert "refers to the node that holds it" in e.problem and e.problem_mark.line == 2
    e = fast_refusal("ok: 1\nx: " + "[" * 200 + "]" * 200 + "\n")   # libyaml itself stops at 1000
    assert f"nested too deeply (more than {MAX_DEPTH} levels)" in e.problem and e.problem_mark.line == 1
    e = fast_refusal("a: &a " + "[" * 60 + "]" * 60 + "\nb: " + "[" * 50 + "*a" + "]" * 50 + "\n")
    assert "nests too deeply" in e.problem and e.problem_mark.line == 1


def test_which_loader_reads(monkeypatch):
    """fast=False, text libyaml reads differently, and PyYAML without libyaml: the Python
    loader alone. A refusal on the fast path is parsed again (and worded) by it."""
    used = []

    class Spy(yamlio._FastLoader):
        def __init__(self, stream: str):
            used.append(stream)
            super().__init__(stream)

    monkeypatch.setattr(yamlio, "_FastLoader", Spy)
    assert parse_yaml("a: 1\n", "x", fast=False) == {"a": 1} and used == []
    with pytest.raises(friction.InputError, match=r"^x:1: bad YAML: found character '\\\\t'"):
        parse_yaml("a: 1\t# tab\n", "x")   # libyaml would take it
    assert used == []
    assert parse_yaml("a: 1\n", "x") == {"a": 1} and used == ["a: 1\n"]
    with pytest.raises(friction.InputError, match="^x:2: bad YAML: duplicate key 'a'$"):
        parse_yaml("a: 1\na: 2\n", "x")
    assert used[-1] == "a: 1\na: 2\n"
    monkeypatch.setattr(yamlio, "_FastLoader", None)
    assert parse_yaml("a: 1\n", "x").key_lines == {"a": 1}


def test_what_goes_straight_to_the_python_loader():
    """Every character PyYAML's reader refuses, and tab and byte order mark; nothing else."""
    every = "".join(map(chr, range(0x110000)))
    assert set(yamlio._PYTHON_READS.findall(every)) == set(Reader.NON_PRINTABLE.findall(every)) | {"\t", "\ufeff"}
    for header in ("|#", ">#", "|-#", ">+2#", "|2-#"):
        assert yamlio._libyaml_differs(f"# note\na: {header} c\n  x\n")
    assert not yamlio._libyaml_differs("# note\na: | # c\n  x # y\nb: x > y #c\n")


def test_plain_scalars_keep_their_text_on_the_fast_path():
    """libyaml calls the plain style '' where PyYAML says None: texts must not depend on it."""
    d = yamlio._load(yamlio._FastLoader, "v: 2024.10\nq: '2024.10'\n")
    assert d.texts == {"v": "2024.10"}


# --------------------------------------------------------------------------- the same as the Python loader


@pytest.mark.parametrize("text", IN_TESTS, ids=range(len(IN_TESTS)))
def test_every_yaml_text_of_the_test_suite_reads_alike(text):
    assert_alike(text)


@pytest.mark.parametrize("text", [
    "a: 1\r\nb:\r\n  - x\r\n  - y\r\n",              # Windows line ends
    "a: 1\rb: 2\r",                                   # old Mac line ends
    "a: x\x85b: 2\n", "a: 'x\x85y'\nb: 2\n",         # NEL is a line break to YAML
    "a: x\u2028b\nc: 1\n", "a: \"x\u2029y\"\nc: 1\n",
    "a:\t1\n", "a: [1,\t2]\n", "-\tx\n", "a: 1\t# note\n", "\ta: 1\n", "a: |\n\tx\n",
    "a: 1\n\ufeffb: 2\n", "\ufeffa: 1\n", "a: \ufeff\n",
    "a: x\x07\n", "a: x\x00\n", "a: \ud800\n", "a: \x7f\n", "a: \x9f\n",
    "%YAML 1.2\n---\na: 1\n", "%YAML 1.1\n---\na: 1\n", "%YAML 1.3\n---\na: 1\n", "%YAML 2.0\n---\na: 1\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n", "a: !!str 010\nb: !!int '7'\nc: ! 010\n",
    "a: 1\na: 2\n", "a: &x 1\nb: &x 2\n", "a: *nope\n", "--- a\n--- b\n", "", "# only a comment\n",
    "...\n", "---\n...\n", "? [a]\n: 1\n", "? a\n? b\n", "{a: 1, b}\n", "[a: 1, b]\n", "[a:b, c?d]\n",
    "a: -\n", "- - - x\n", "a:\n- 1\n- 2\nb: 3\n", "key: >\n  folded\n  text\n\nnext: 1\n",
    "a: 'it''s'\nb: \"\\x41\\u00e9\\N\"\n", "a: \"\\q\"\n", "x: " + "k" * 1030 + ": 1\n",
    "a: !!binary aGk=\nb: !!timestamp 2024-01-02\nc: !!set {x, y}\nd: !!omap [x: 1]\n",
    "a: .inf\nb: -.Inf\nc: .NaN\nd: 0o17\ne: 0x1F\nf: 1e5\ng: +1\nh: ~\n",
    "a: |#c\n  x\n", "a: >-2#c\n  x\n", "|#c\n", "- []\n\ufeff", "---\n\ufeff# c\na: 1\n",   # found by the tests below
    "!\n", "a: !\nb: ! x\nc: ! 'y'\n", "- !\n- ! []\n",
    "[!, x]\n", "{a: !, b: 1}\n", "[!!str, x]\n", "[!!str,x]\n", "[!!str]\n", "[!!seq[ a]]\n", "[! , x]\n",
    "a: !!seq [x]\n", "a: !x,y 1\n",
    'a: "\\ud800"\n', 'a: "\\/\\U0001F600\\e\\0\\ \\_\\L"\n', 'a: "\\x"\n', "a: &é 1\n", "--- |\n  x\n", "--- >\n a\n\n  b\n c\n",
    "a: |2\n   x\n  y\n", "a: |+\n  x\n\n\nb: 1\n", "a: x\r\n  y\r\nb: |\r\n  l1\r\n  l2\r\n", "a: |\n  x\u2029  y\nb: 2\n",
    "? |\n  k\n: v\n", "[a, b]: 1\n", "a: b\n  c\n  d\n", "a: 1\n...\n---\nb: 2\n", "%FOO bar\n---\na: 1\n", "!!str [a]\n",
    "{? \n}", "[? # c\n# c\n: # c\n]", "{a, ? }\n", "{a: , b}\n", "- ?\n  : x\n",
])
def test_edge_documents_read_alike(text):
    assert_alike(text)


INSERTS = list(": -\n\t#&*![]{}\"'|>?%@`,\r\\0a.~<\x85\u2028\u2029\ufeff\x07é") + [
    "<<: ", "---\n", "...\n", "- ", ": ", "%YAML 1.2\n", "%TAG !e! tag:e.com,2000:\n", "&a ", "*a", "!!str ",
    "!e!x ", "!<tag:yaml.org,2002:str> ", "!!float ", "? ", "\n  ", "\r\n", "  ", "|-", ">+2"]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A window of lines from a corpus document, with a few characters inserted, deleted or
    replaced."""
    lines = draw(st.sampled_from(LINES))
    start = draw(st.integers(0, max(len(lines) - 1, 0)))
    text = "".join(lines[start:start + draw(st.integers(1, 40))])
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.sampled_from([0, 0, 1, 1, 2, 5]))
        text = text[:at] + draw(st.sampled_from(INSERTS + [""])) + text[at + cut:]
    return text


@given(mutated())
@settings(max_examples=max(300, settings.default.max_examples))
def test_mutated_documents_read_alike(text):
    assert_alike(text)


TEXT = st.text(st.sampled_from("ab :-#'\"\\\n\t\x85\u2028é0.~&*!|>?[]{},%@`"), max_size=8)
DATA = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=20)


@given(DATA, st.sampled_from([None, True, False]), st.sampled_from([None, '"', "'", "|", ">"]),
       st.integers(4, 80), st.booleans(), st.randoms())
@settings(max_examples=max(200, settings.default.max_examples))
def test_generated_documents_read_alike(data, flow, style, width, unicode, rng: random.Random):
    text = yaml.safe_dump(data, default_flow_style=flow, default_style=style, width=width, allow_unicode=unicode)
    assert_alike(text)
    at = rng.randrange(len(text) + 1)
    assert_alike(text[:at] + rng.choice(INSERTS) + text[at + rng.choice([0, 1]):])


PIECES = ["?", "? ", ":", ": ", "-", "- ", "\n", "\n\n", " ", "  ", "a", "1", "# c\n", ",", "[", "]", "{", "}",
          "&x ", "*x", "!", "! ", "!!str ", "!!null ", "'q'", '"d"', "|\n", ">-\n", "---", "...", "<<: "]


@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=10).map("".join))
@settings(max_examples=max(500, settings.default.max_examples))
def test_token_soup_reads_alike(text):
    """Indicators, empty nodes, properties and line breaks in every order: where the two
    parsers place marks and end scalars differently (an empty key after `?` and a line break,
    a tag before `,`) turned up here."""
    assert_alike(text)

"""Reading YAML the way users mean it, with the line of every mapping, key and list item.

- YAML 1.2 core schema (PyYAML resolves YAML 1.1): only `true`/`false` are booleans, so
  `on`, `off`, `yes` and `no` stay text; `010` is ten, not octal eight; `1:30` is text,
  not sexagesimal ninety; `2024.10` is a number only where a number is wanted, and the
  text as written is kept (`LineDict.texts`) for fields such as a manifest's `version`.
- Merge keys (`<<: *base`) as YAML 1.1 defines them: the mapping's own keys override the
  merged ones, and earlier merged mappings override later ones. A key written twice in one
  mapping is still an error.
- Bounded: aliases may not expand the document by more than ALIAS_BUDGET nodes ("billion
  laughs"), may not refer to the node that holds them, and nesting stops at MAX_DEPTH.
  Each refusal names the line, and is found while composing, before anything is built.
- Fast: where PyYAML is built with libyaml, libyaml scans and parses (about 4x faster) and
  the composing, bounds, schema and lines above stay this module's. Whatever libyaml
  refuses, and text where it is known to be more lenient, is read again by PyYAML's
  Python parser, so every message and line is the Python loader's. `parse_yaml(...,
  fast=False)` reads with the Python loader only.
"""
from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from .errors import InputError, Problem

__all__ = ["LineDict", "LineList", "dump_yaml", "parse_yaml", "read_yaml", "relative_path", "unreadable_file", "MAX_DEPTH",
           "ALIAS_BUDGET"]

MAX_DEPTH = 100          # mappings and lists inside each other, aliases expanded
ALIAS_BUDGET = 100_000   # nodes that aliases may add to a document, all aliases together


class LineDict(dict):
    """A mapping that remembers the line of itself and of each key (1-based), and the text
    of each plain scalar value as written (`texts`)."""

    line: int = 0
    key_lines: dict
    texts: dict


class LineList(list):
    line: int = 0
    item_lines: list


# --------------------------------------------------------------------------- core schema

_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")


class _CoreResolver(BaseResolver):
    """YAML 1.2 core schema, plus the YAML 1.1 merge key `<<`."""


for tag, pattern, first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", _INT.pattern, "-+0123456789"),
    ("tag:yaml.org,2002:float", _FLOAT.pattern, "-+0123456789."),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
]:
    _CoreResolver.add_implicit_resolver(tag, re.compile(pattern), list(first))


class _Composer(Composer):
    """Counts what aliases expand to, and how deep nodes nest, while composing."""

    def compose_document(self) -> Node:
        self._depth = 0
        self._open: set[str] = set()          # anchors whose node is being composed
        self._sizes: dict[int, tuple[int, int]] = {}   # id(node) -> (nodes expanded, depth)
        self._expanded = 0
        return super().compose_document()

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            if event.anchor in self._open:
                raise ComposerError(None, None, f"alias *{event.anchor} refers to the node that holds it "
                                    "(a recursive structure)", event.start_mark)
            node = self.anchors.get(event.anchor)
            if node is not None:
                size, depth = self._measure(node)
                self._expanded += size
                if self._expanded > ALIAS_BUDGET:
                    raise ComposerError(None, None, f"aliases expand to more than {ALIAS_BUDGET} nodes "
                                        "(refused, as in a 'billion laughs' document)", event.start_mark)
                if self._depth + depth > MAX_DEPTH:
                    raise ComposerError(None, None, f"alias *{event.anchor} nests too deeply (more than {MAX_DEPTH} levels)",
                                        event.start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ComposerError(None, None, f"nested too deeply (more than {MAX_DEPTH} levels)", event.start_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(anchor)

    def _measure(self, node: Node) -> tuple[int, int]:
        """(nodes, depth) of `node` with every alias in it expanded. Memoised per node, so
        nested aliases cost their size once here (that is what keeps this linear)."""
        hit = self._sizes.get(id(node))
        if hit is not None:
            return hit
        if isinstance(node, SequenceNode):
            children = node.value
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        size, depth = 1, 0
        for child in children:
            s, d = self._measure(child)
            size += s
            depth = max(depth, d)
        if isinstance(node, (SequenceNode, MappingNode)):
            depth += 1
        self._sizes[id(node)] = (size, depth)
        return size, depth


class _Constructor(SafeConstructor):
    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, KeyError, TypeError, AttributeError):
            # a node given an explicit tag it does not fit (`!!float x`, `!!map [1]`): PyYAML's
            # constructors and ours fail with bare Python errors there
            tag = node.tag.rsplit(':', 1)[-1]
            if isinstance(node, ScalarNode):
                what = f"'{node.value}'"
            elif node.tag == (BaseResolver.DEFAULT_MAPPING_TAG if isinstance(node, MappingNode)
                              else BaseResolver.DEFAULT_SEQUENCE_TAG):
                raise   # the node's own tag: not the user's text
            else:
                what = "a mapping" if isinstance(node, MappingNode) else "a list"
            raise ConstructorError(None, None, f"{what} cannot be read as !!{tag}", node.start_mark) from None

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = self.construct_scalar(node)
        if not _INT.match(text):   # only with an explicit tag: `!!int x`
            raise ValueError(text)
        try:
            if text.startswith("0o"):
                return int(text[2:], 8)
            if text.startswith("0x"):
                return int(text[2:], 16)
            return int(text, 10)   # `010` is ten
        except ValueError:   # more digits than Python converts
            raise ConstructorError(None, None, f"integer of {len(text)} digits is too large",
                                   node.start_mark) from None

    def construct_yaml_float(self, node: ScalarNode) -> float:
        text = self.construct_scalar(node).lower()
        if text.endswith(".inf"):
            return float("-inf") if text.startswith("-") else float("inf")
        if text.endswith(".nan"):
            return float("nan")
        return float(text)

    def construct_line_mapping(self, node: MappingNode) -> LineDict:
        merged = self._merged_keys(node)
        out = LineDict()
        out.line = node.start_mark.line + 1
        out.key_lines, out.texts = {}, {}
        own: set = set()
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise ConstructorError(None, None, "a mapping key must be plain text", key_node.start_mark) from None
            from_merge = id(key_node) in merged
            if not from_merge:
                if key in own:
                    raise ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
                own.add(key)
            out.pop(key, None)   # a later pair overrides a merged one: keep the later one's place
            out[key] = self.construct_object(value_node, deep=True)
            out.key_lines[key] = key_node.start_mark.line + 1
            if isinstance(value_node, ScalarNode) and value_node.style is None:
                out.texts[key] = value_node.value
            else:
                out.texts.pop(key, None)
        return out

    def flatten_mapping(self, node: MappingNode) -> None:
        if not hasattr(node, "own_keys"):   # before flattening (merged mappings are flattened too)
            node.own_keys = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        super().flatten_mapping(node)

    def _merged_keys(self, node: MappingNode) -> set[int]:
        """Flatten `<<` merge keys into `node` (PyYAML puts merged pairs first, so the
        mapping's own pairs come later and override them); the key nodes that came in by
        merging, which may repeat without being duplicates."""
        self.flatten_mapping(node)
        return {id(k) for k, _ in node.value if id(k) not in node.own_keys}

    def construct_line_sequence(self, node: SequenceNode) -> LineList:
        out = LineList(self.construct_object(child, deep=True) for child in node.value)
        out.line = node.start_mark.line + 1
        out.item_lines = [child.start_mark.line + 1 for child in node.value]
        return out


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)
_Constructor.add_constructor(BaseResolver.DEFAULT_MAPPING_TAG, _Constructor.construct_line_mapping)
_Constructor.add_constructor(BaseResolver.DEFAULT_SEQUENCE_TAG, _Constructor.construct_line_sequence)


class _Loader(Reader, Scanner, Parser, _Composer, _Constructor, _CoreResolver):
    def __init__(self, stream: str):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _Composer.__init__(self)
        _Constructor.__init__(self)
        _CoreResolver.__init__(self)


try:
    from yaml._yaml import CParser as _CParser   # present when PyYAML is built with libyaml
except ImportError:
    _CParser = None


class _LibyamlDiffers(ComposerError):
    """Where libyaml is known to read a document differently: the Python loader decides."""

    def __init__(self, mark: Any):
        super().__init__(None, None, "libyaml reads this differently", mark)


if _CParser is not None:
    class _FastLoader(_Composer, _CParser, _Constructor, _CoreResolver):
        """libyaml reads, scans and parses (in C) and only hands over events; composing (with
        the bounds), the resolver and the constructor are the Python loader's, so the nodes
        (tags, values, styles, start marks; not end marks, which nothing reads), values and
        lines are the same. Anything it raises is left to `_Loader` to word."""

        def __init__(self, stream: str):
            _CParser.__init__(self, stream)
            _Composer.__init__(self)
            _Constructor.__init__(self)
            _CoreResolver.__init__(self)
            self._flow = 0   # flow collections ([...], {...}) open around the current node

        def compose_scalar_node(self, anchor: str | None) -> ScalarNode:
            event = self.peek_event()
            self._check_flow(event)
            if event.tag == "!":   # PyYAML's parser: `!` is plain (libyaml: not on an empty node)
                event.implicit = (True, False)
            node = super().compose_scalar_node(anchor)
            node.style = node.style or None   # libyaml's plain style is '', PyYAML's None
            if self._flow and node.style is None and ("?" in node.value or not node.value):
                # inside [...] or {...}, PyYAML ends a plain scalar at '?' (and then refuses
                # the document), libyaml reads on; and the two place an empty key after `?`
                # and a line break on different lines
                raise _LibyamlDiffers(node.start_mark)
            return node

        def compose_sequence_node(self, anchor: str | None) -> SequenceNode:
            return self._in_flow(super().compose_sequence_node, anchor)

        def compose_mapping_node(self, anchor: str | None) -> MappingNode:
            return self._in_flow(super().compose_mapping_node, anchor)

        def _in_flow(self, compose: Any, anchor: str | None) -> Node:
            event = self.peek_event()
            self._check_flow(event)
            flow = bool(event.flow_style)
            self._flow += flow
            try:
                return compose(anchor)
            finally:
                self._flow -= flow

        def _check_flow(self, event: Any) -> None:
            if self._flow and event.tag is not None:
                # a tag inside [...] or {...}: libyaml ends it at `,` `[` `]`, PyYAML reads on
                raise _LibyamlDiffers(event.start_mark)
else:
    _FastLoader = None

# the reader's printable characters (Reader.NON_PRINTABLE) less tab and byte order mark; one
# class, since an alternation makes the search several times slower
_PYTHON_READS = re.compile("[^\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFEFE\uFF00-\uFFFD\U00010000-\U0010FFFF]")


def _libyaml_differs(text: str) -> bool:
    """Text the two loaders read differently, to go straight to the Python loader: what the
    reader refuses (control characters), and where libyaml is more lenient than PyYAML: tabs
    between tokens, a byte order mark past the start, a comment right after a block scalar's
    `|` or `>` (and its indicators: `|-#`)."""
    if _PYTHON_READS.search(text):
        return True
    at = text.find("#")
    while at != -1:   # (a regex for this tries every character: slow)
        if text[max(at - 3, 0):at].rstrip("-+0123456789").endswith(("|", ">")):
            return True
        at = text.find("#", at + 1)
    return False


class _Dumper(yaml.SafeDumper):
    """Writes YAML that reads back the same under both schemas: text that either YAML 1.1
    or the core schema would take for something else (`yes`, `010`, `1e5`) is quoted."""

    _core = _CoreResolver()

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        tag = super().resolve(kind, value, implicit)
        if kind is ScalarNode and implicit[0] and tag == "tag:yaml.org,2002:str":
            return self._core.resolve(kind, value, implicit)
        return tag


_LINE_BREAKS = ("\x85", "\u2028", "\u2029")   # YAML reads these as line breaks, even inside quotes


def _represent_str(dumper: yaml.SafeDumper, value: str) -> ScalarNode:
    if any(c in value for c in _LINE_BREAKS):   # only double quotes escape them (\N, \L, \P)
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Any, **options: Any) -> str:
    """YAML text for `data` that `parse_yaml` reads back as `data` (options as yaml.dump)."""
    return yaml.dump(data, Dumper=_Dumper, **{"sort_keys": False, "allow_unicode": True, **options})


# --------------------------------------------------------------------------- entry points


def _load(loader_class: type, text: str) -> Any:
    loader = loader_class(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def parse_yaml(text: str, name: str, *, fast: bool = True) -> Any:
    """Parse YAML text with lines kept; `name` is used in errors. With libyaml (and `fast`),
    libyaml parses; whenever it refuses anything, the Python loader parses again and says
    why, so every message and line is the Python loader's."""
    if fast and _FastLoader is not None and isinstance(text, str) and not _libyaml_differs(text):
        try:
            return _load(_FastLoader, text)
        except Exception:
            pass
    try:
        return _load(_Loader, text)   # the reader checks every character here
    except RecursionError:
        raise InputError(Problem(name, None, None, f"bad YAML: nested too deeply (more than {MAX_DEPTH})")) from None
    except ReaderError as e:
        line = text.count("\n", 0, e.position) + 1 if isinstance(text, str) else None
        code = e.character if isinstance(e.character, int) else ord(e.character)
        what = "a NUL byte" if code == 0 else f"the control character U+{code:04X}"
        raise InputError(Problem(name, line, None, f"bad YAML: {what} is not allowed in YAML text")) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        raise InputError(Problem(name, mark.line + 1 if mark else None, None,
                                 f"bad YAML: {getattr(e, 'problem', None) or e}")) from None


def unreadable_file(path: str | os.PathLike, e: OSError) -> str:
    """Why a file cannot be opened, in words: a dangling or looping symlink says so."""
    if e.errno == errno.ELOOP:
        return "a symlink loop (it points back to itself)"
    if isinstance(e, FileNotFoundError) and os.path.islink(path):
        return f"a dangling symlink (to {os.readlink(path)}, which does not exist)"
    if isinstance(e, FileNotFoundError):
        return "no such file"
    if isinstance(e, IsADirectoryError):
        return "is a folder, expected a YAML file"
    return f"cannot read: {e.strerror or e}"



def read_yaml(path: str | os.PathLike) -> Any:
    """Parse one YAML file; a syntax error becomes an InputError naming file and line."""
    path = relative_path(Path(path))
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError(Problem(path, None, None, unreadable_file(path, e))) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - data.rfind(b"\n", 0, e.start)
        raise InputError(Problem(path, line, None, f"not UTF-8 text: byte 0x{data[e.start]:02x} "
                                 f"at column {column}")) from None
    return parse_yaml(text.removeprefix("\ufeff"), path)


def relative_path(path: Path) -> str:
    """As the user would name it: relative below the working directory, else absolute."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(Path(path).absolute()) if rel.startswith("..") and Path(path).is_absolute() else rel

"""Replay engines: each takes a compiled policy set and a case and returns the trace.

`compiled` runs generated Python matchers and a counting fixed point; `rete` runs the
same rules on durable_rules, the reference semantics. A rule's step tests are monotone
and `unless` is stratified (friction.logic), and both engines decide each `unless` only
once every lower stratum is complete, so the set of firings is unique: the order in
which either engine fires cannot change the result.
"""
from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, Protocol

from ..errors import InputError

if TYPE_CHECKING:   # annotations only: the engine names cost no import of the compiler (CLI start)
    from ..case import Case
    from ..compile import CompiledPolicySet
    from ..trace import Trace

__all__ = ["ENGINES", "Engine", "make_engine", "rete_unavailable"]

ENGINES = ("compiled", "rete")


class Engine(Protocol):
    name: str

    def fire(self, case: Case, excluded: frozenset[int] = frozenset()) -> list[int]:
        """The rules (indices) that fire for this case, in no meaningful order."""
        ...

    def replay(self, case: Case, excluded: frozenset[int] = frozenset()) -> Trace:
        """Replay one case; rules in `excluded` (indices) are treated as removed."""
        ...


@functools.cache
def rete_unavailable() -> str | None:
    """Why the rete engine cannot run on this Python, or None when it can."""
    try:
        import durable.engine  # noqa: F401
    except ImportError as e:
        return (f"the rete engine is unavailable on Python {sys.version_info.major}.{sys.version_info.minor}: "
                f"durable_rules does not load there ({str(e).splitlines()[0]}); use --engine compiled")
    return None


def make_engine(name: str, cps: CompiledPolicySet) -> Engine:
    if name == "compiled":
        from .compiled import CompiledEngine
        return CompiledEngine(cps)
    if name == "rete":
        why = rete_unavailable()
        if why:
            raise InputError(why)
        from .rete import ReteEngine
        return ReteEngine(cps)
    raise InputError(f"unknown engine '{name}' (choose {' or '.join(ENGINES)})")

"""Unused: manifest entries (departments, channels, attributes, life events) no rule uses."""
from __future__ import annotations

from ..errors import InputError
from ..load import MANIFEST_FILE, read_yaml
from .context import Context, rel

__all__ = ["check"]


def check(ctx: Context) -> None:
    mfile = rel(ctx.folder / MANIFEST_FILE)
    try:
        raw = read_yaml(ctx.folder / MANIFEST_FILE)
    except InputError:
        raw = None

    def line_of(section: str, index: int | None = None, key: str | None = None) -> int | None:
        node = raw.get(section) if isinstance(raw, dict) else None
        default = raw.key_lines.get(section) if isinstance(raw, dict) else None
        if index is not None and hasattr(node, "item_lines") and index < len(node.item_lines):
            return node.item_lines[index]
        if key is not None and hasattr(node, "key_lines"):
            return node.key_lines.get(key, default)
        return default

    m = ctx.manifest
    steps = ctx.ps.steps.values()
    used_departments = {s.department for s in steps}
    for i, d in enumerate(m.departments):
        if d not in used_departments:
            ctx.add("info", "unused-department", None,
                     f"department '{d}' is in the manifest but no step is in it",
                     (mfile, line_of("departments", index=i)))
    used_channels = {c for s in steps for c in s.channels} | {m.default_channel}
    for i, c in enumerate(m.channels):
        if c not in used_channels:
            ctx.add("info", "unused-channel", None,
                     f"channel '{c}' is in the manifest but no step uses it",
                     (mfile, line_of("channels", index=i)))
    used_attributes = set().union(*(r.when.attributes() for r in ctx.rules),
                                  *(c.when.attributes() for s in steps for cs in s.choices.values()
                                    for c in cs if c.when is not None))
    for name in m.attributes:
        if name not in used_attributes:
            ctx.add("info", "unused-attribute", None,
                     f"attribute '{name}' is in the manifest but no rule reads it",
                     (mfile, line_of("attributes", key=name)))
    catch_all = any(not r.when.event and not r.when.chains for r in ctx.rules)
    used_events = {e for r in ctx.rules for e in r.when.event}
    for i, e in enumerate(m.events):
        if e not in used_events and not catch_all:
            ctx.add("info", "unused-event", None,
                     f"life event '{e}' is in the manifest but no rule starts on it: "
                     "its journeys are empty",
                     (mfile, line_of("events", index=i)))


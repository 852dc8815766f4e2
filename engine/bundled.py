"""The examples shipped with friction (the bank policy sets and the life-events catalog),
found where the package is installed, so that commands without arguments work from any
folder."""
from __future__ import annotations

from pathlib import Path

__all__ = ["bundled_path", "package_version", "DEFAULT_POLICY_SET", "DEFAULT_CATALOG"]

DEFAULT_POLICY_SET = "policies/bank"
DEFAULT_CATALOG = "cases/life-events.yaml"

_PACKAGE = Path(__file__).resolve().parent


def bundled_path(relative: str) -> str:
    """The installed copy of `policies/...` or `cases/...`: package data inside the installed
    package (friction/policies), or, when running from the source tree (an editable install,
    where the package is the engine/ folder), the repository's own folder beside it."""
    installed = _PACKAGE / relative
    if installed.exists() or _PACKAGE.name != "engine":
        return str(installed)
    return str(_PACKAGE.parent / relative)


def package_version() -> str:
    """The installed friction's version ("unknown" in a source tree never installed)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("friction")
    except PackageNotFoundError:
        return "unknown"

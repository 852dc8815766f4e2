"""A real headless browser for the tests of drawn pages: Debian's chromium driven by
Playwright (never a browser download). One browser per test session."""
from __future__ import annotations

import os
import shutil
import warnings

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str | None:
    path = os.environ.get("FRICTION_CHROMIUM")
    if path:
        return path
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def no_browser(why: str) -> None:
    """Skip, loudly: the page is then not checked in a browser at all."""
    msg = (f"BROWSER TESTS SKIPPED: {why}. The HTML report was NOT checked in a real browser. "
           "Install Debian's chromium (`apt-get install -y chromium`; `make test` does it as root).")
    warnings.warn(msg, pytest.PytestWarning, stacklevel=2)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        no_browser("the playwright package is not installed")
    path = chromium_path()
    if path is None:
        no_browser("no chromium executable found (set FRICTION_CHROMIUM to one)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


class Page:
    """A page opened from disk, with every console error and page error collected."""

    def __init__(self, browser, url: str, width: int = 1600, height: int = 1000):
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        self.requests: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(url)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.page.close()

"""Headless Chromium over the built book (``_build/html``), no network.

Uses Debian's ``chromium`` and ``chromium-driver`` (a browser that a test tool
would download cannot be fetched here); ``make test`` installs them where it
can and builds the book before running these tests.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync "
    "--disable-dev-shm-usage --window-size=1280,1600"
).split()


def _missing() -> str | None:
    if not (SITE / "index.html").is_file():
        return f"no built book at {SITE}: run `make book` first"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            return f"{path} not found: install Debian's chromium and chromium-driver"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium fetch a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in FLAGS:
        options.add_argument(flag)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


class Page:
    """A page loaded in the browser, with what it requested and logged."""

    def __init__(self, driver: object, path: Path) -> None:
        self.driver = driver
        self.path = path
        driver.get_log("performance")  # drop the previous page's events
        driver.get_log("browser")
        driver.get(path.as_uri())
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "const ready = () => window.MathJax && MathJax.startup && MathJax.startup.promise;"
            "(ready() ? MathJax.startup.promise : Promise.resolve()).then(() => done(true));"
        )
        events = [json.loads(e["message"])["message"] for e in driver.get_log("performance")]
        self.requests = [e["params"]["request"]["url"] for e in events
                         if e["method"] == "Network.requestWillBeSent"]
        self.failed = [e["params"] for e in events if e["method"] == "Network.loadingFailed"]
        self.console = driver.get_log("browser")


@pytest.fixture(scope="session")
def load(browser: object):
    def _load(path: Path) -> Page:
        return Page(browser, path)

    return _load

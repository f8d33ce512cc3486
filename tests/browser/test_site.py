"""The built book as a reader gets it: every page offline, math, figures, explorers, search."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import urlparse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import SHOTS, SITE

PAGES = sorted(SITE.glob("book/*.html"))


def _local(url: str) -> bool:
    return urlparse(url).scheme in ("file", "data", "blob", "about")


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_page_loads_offline_without_errors(load, path):
    page = load(path)
    assert [u for u in page.requests if not _local(u)] == [], "requests leaving the machine"
    assert page.failed == [], "failed requests"
    errors = [e["message"] for e in page.console if e["level"] == "SEVERE"]
    assert errors == [], "console errors"
    images = page.driver.find_elements(By.CSS_SELECTOR, "main img")
    broken = [i.get_attribute("src")[:80] for i in images if not page.driver.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 0", i)]
    assert broken == [], "images that did not load"
    if page.driver.find_elements(By.CSS_SELECTOR, ".math"):
        assert page.driver.find_elements(By.CSS_SELECTOR, "mjx-container"), "math not typeset"
    assert not page.driver.find_elements(By.CSS_SELECTOR, "mjx-merror"), "TeX errors"
    assert _overflowing(page.driver) == [], "code or text wider than the column"
    page.driver.save_screenshot(str(SHOTS / f"{path.stem}.png"))


# What runs past the right edge of the text column (or of the window): code cells and
# outputs, paragraphs, figures; math and tables scroll inside their own boxes.
OVERFLOWING = """
const article = document.querySelector('main .bd-article') || document.body;
const right = Math.min(article.getBoundingClientRect().right, window.innerWidth) + 1;
const wide = [];
if (document.documentElement.scrollWidth > window.innerWidth + 1)
  wide.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + 'px');
for (const el of article.querySelectorAll('pre, p, img, figure, .sgdlab-explorer')) {
  if (el.closest('mjx-container, .pst-scrollable-table-container, table')) continue;
  const box = el.getBoundingClientRect();
  if (box.width && (box.right > right || el.scrollWidth > el.clientWidth + 1))
    wide.push(el.tagName + ': ' + (el.textContent || el.src || '').slice(0, 60));
}
return wide;
"""


def _overflowing(driver) -> list[str]:
    return driver.execute_script(OVERFLOWING)


@pytest.fixture(scope="module")
def phone_in_dark_mode(browser):
    """The browser as a phone (390 x 844 CSS pixels, 3 device pixels each, touch) whose
    system asks for dark colours; the theme's default mode, auto, follows it."""
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_page_reads_on_a_phone_in_dark_mode(phone_in_dark_mode, load, path):
    page = load(path)
    driver = page.driver
    assert driver.execute_script("return document.documentElement.dataset.theme") == "dark"
    assert driver.execute_script("return window.innerWidth") <= 400
    assert _overflowing(driver) == [], "wider than a phone's screen"
    errors = [e["message"] for e in page.console if e["level"] == "SEVERE"]
    assert errors == [], "console errors"
    driver.save_screenshot(str(SHOTS / f"{path.stem}-phone-dark.png"))


def test_no_page_weighs_more_than_2_mb():
    """Explorer frames are files fetched when needed, not inlined: pages stay light on a phone."""
    heavy = {p.name: p.stat().st_size for p in SITE.rglob("*.html") if p.stat().st_size > 2e6}
    assert PAGES and heavy == {}


def _explorer_pages():
    return [p for p in PAGES if 'class="sgdlab-explorer"' in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("path", _explorer_pages(), ids=lambda p: p.stem)
def test_static_explorers_move(load, path):
    page = load(path)
    driver = page.driver
    explorers = driver.find_elements(By.CSS_SELECTOR, ".sgdlab-explorer")
    assert explorers
    for k, explorer in enumerate(explorers):
        driver.execute_script("arguments[0].scrollIntoView()", explorer)
        img = explorer.find_element(By.TAG_NAME, "img")
        # every slider of the fallback moves the picture (a frame file is fetched for it)
        for s, slider in enumerate(explorer.find_elements(By.CSS_SELECTOR, "input[type=range]")):
            before = hashlib.sha256(img.screenshot_as_png).hexdigest()
            target = 0 if int(slider.get_attribute("value")) else int(slider.get_attribute("max"))
            driver.execute_script(
                "arguments[0].value = arguments[1];"
                "arguments[0].dispatchEvent(new Event('input'));", slider, target)
            WebDriverWait(driver, 5).until(lambda d, i=img: d.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth > 0", i))
            time.sleep(0.3)
            after = hashlib.sha256(img.screenshot_as_png).hexdigest()
            driver.save_screenshot(str(SHOTS / f"{path.stem}-explorer-{k}-{s}.png"))
            assert before != after, (f"slider {s} of explorer {k} on {path.name} did not "
                                     "change its picture")


def test_search_finds_a_chapter_word(load):
    page = load(SITE / "search.html")
    page.driver.get((SITE / "search.html").as_uri() + "?q=Fokker")
    WebDriverWait(page.driver, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results li a"))
    hits = [a.get_attribute("href") for a in
            page.driver.find_elements(By.CSS_SELECTOR, "#search-results li a")]
    assert any("/book/" in h for h in hits), hits


def test_figures_are_legible_in_dark_mode(browser):
    """Every figure is opaque (drawn on its own white background), so the dark theme
    cannot show through its transparent parts; a dark-mode screenshot is kept."""
    import numpy as np
    from PIL import Image

    figures = sorted((SITE / "_images").glob("*.png"))
    assert figures
    for path in figures:
        with Image.open(path) as image:
            alpha = np.asarray(image.convert("RGBA"))[..., 3]
        assert alpha.min() == 255, f"{path.name} has transparent pixels"
    page = SITE / "book" / "double_well.html"
    browser.get(page.as_uri())
    browser.execute_script("localStorage.setItem('mode', 'dark');")
    browser.refresh()
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return document.documentElement.dataset.theme") == "dark")
    browser.execute_script("document.querySelector('main img').scrollIntoView()")
    browser.save_screenshot(str(SHOTS / "double_well-dark.png"))
    browser.execute_script("localStorage.setItem('mode', 'auto');")

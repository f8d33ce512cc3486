"""A chapter live in JupyterLab: its downloaded notebook, its explorer, a slider moved.

JupyterLab runs on localhost (a free port, a random token, its own runtime and
workspace folders) for this module and is stopped at its end. The notebook is the
double-well chapter as the built site offers it (``notebooks/double_well.ipynb``);
its set-up cell runs (sgdlab is installed here, so it does nothing), then the chapter's
imports, then its explorer's cell twice: the first display is the one a reader running
the chapter meets (it imports the explorer's module), the second the display alone.
The times, measured in the page, are written to
``_build/screenshots/lab-timings.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from .conftest import SHOTS, SITE

NOTEBOOK = SITE / "notebooks" / "double_well.ipynb"
STARTUP_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[str]:
    """The notebook's URL on a JupyterLab started for this module."""
    if not NOTEBOOK.is_file():
        pytest.fail(f"{NOTEBOOK} missing: the built book offers every chapter as a notebook")
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    env_dirs = {name: root / f".{name}" for name in ("runtime", "workspaces", "config")}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
               "--ip=127.0.0.1", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
               f"--LabApp.workspaces_dir={env_dirs['workspaces']}",
               "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
               "--ServerApp.port_retries=0", "--ServerApp.allow_root=True"]
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(env_dirs["runtime"]),
           "JUPYTER_CONFIG_DIR": str(env_dirs["config"])}
    log = (root / "lab.log").open("w")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {(root / 'lab.log').read_text()}")
                time.sleep(0.5)
        yield f"{url}/lab/tree/{NOTEBOOK.name}?token={token}"
    finally:
        server.terminate()   # jupyter-server shuts its kernels down on SIGTERM
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


# Runs cell `k` of the open notebook; resolves with the milliseconds until an image
# is shown in its output (`wantImage`) or until it has run.
RUN_CELL = """
const [k, wantImage, done] = arguments;
(async () => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  panel.content.activeCellIndex = k;
  const node = panel.content.widgets[k].node;
  const start = performance.now();
  await app.commands.execute('notebook:run-cell');
  while (wantImage) {
    const img = node.querySelector('.jp-OutputArea img');
    if (img && img.complete && img.naturalWidth > 0) break;
    await new Promise(r => requestAnimationFrame(r));
  }
  done(performance.now() - start);
})().catch(e => done('error: ' + e));
"""

# Resolves once the notebook is open, its kernel idle; with the index of each cell whose
# source contains one of the given strings.
OPEN_NOTEBOOK = """
const [needles, done] = arguments;
(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  while (!window.jupyterapp) await sleep(100);
  const app = window.jupyterapp;
  await app.restored;
  let panel;
  while (!(panel = app.shell.currentWidget) || !panel.sessionContext) await sleep(100);
  await panel.context.ready;
  await panel.sessionContext.ready;
  while (!panel.sessionContext.session?.kernel ||
         panel.sessionContext.session.kernel.status !== 'idle') await sleep(100);
  const sources = panel.content.widgets.map(c => c.model.sharedModel.getSource());
  done(needles.map(n => sources.findIndex(s => s.includes(n))));
})().catch(e => done('error: ' + e));
"""

# Resolves with the milliseconds from window.__moved until the image's source changes.
AWAIT_NEW_PICTURE = """
const [img, before, done] = arguments;
(async () => {
  while (img.src === before || !img.complete) await new Promise(r => requestAnimationFrame(r));
  done(performance.now() - window.__moved);
})();
"""


def _run(driver, script: str, *args):
    result = driver.execute_async_script(script, *args)
    assert not (isinstance(result, str) and result.startswith("error")), result
    return result


def test_a_chapter_explorer_runs_and_moves_in_jupyterlab(browser, lab):
    driver = browser
    driver.set_script_timeout(STARTUP_S)
    start = time.perf_counter()
    driver.get(lab)
    setup, imports, cell = _run(driver, OPEN_NOTEBOOK, [
        "find_spec(\"sgdlab\")", "import matplotlib.pyplot", "double_well_explorer("])
    opened_s = time.perf_counter() - start
    assert setup == 1 and setup < imports < cell, (setup, imports, cell)
    _run(driver, RUN_CELL, setup, False)
    _run(driver, RUN_CELL, imports, False)                 # the chapter's imports
    first_display_ms = _run(driver, RUN_CELL, cell, True)  # as a reader meets it
    display_ms = _run(driver, RUN_CELL, cell, True)        # the display alone

    output = driver.execute_script(
        "return window.jupyterapp.shell.currentWidget.content.widgets[arguments[0]].node", cell)
    img = output.find_element(By.CSS_SELECTOR, ".jp-OutputArea img")
    handle = output.find_element(By.CSS_SELECTOR, ".widget-slider .noUi-handle")
    driver.execute_script("arguments[0].scrollIntoView()", img)
    picture = hashlib.sha256(img.screenshot_as_png).hexdigest()
    moves = []
    for _ in range(7):
        before = img.get_attribute("src")
        driver.execute_script("window.__moved = performance.now()")
        handle.send_keys(Keys.ARROW_RIGHT)
        moves.append(_run(driver, AWAIT_NEW_PICTURE, img, before))
    time.sleep(0.3)
    assert hashlib.sha256(img.screenshot_as_png).hexdigest() != picture, "picture unchanged"
    driver.save_screenshot(str(SHOTS / "lab-double_well.png"))
    timings = {"lab_opened_with_idle_kernel_s": round(opened_s, 1),
               "first_display_ms": round(first_display_ms),
               "display_again_ms": round(display_ms),
               "slider_move_ms": [round(m) for m in moves],
               "slider_move_median_ms": round(statistics.median(moves))}
    (SHOTS / "lab-timings.json").write_text(json.dumps(timings, indent=1))
    print(timings)

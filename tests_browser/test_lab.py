"""The course as a learner sees it: JupyterLab and the built site, driven in a real browser.

Playwright for Python drives a Chromium that the machine provides (Debian's ``chromium`` package;
Playwright's own browser downloads are not used). The tests

* start JupyterLab the way ``make lab`` does, in fast mode (``SADLIB_FAST=1``), on a free local port;
* open notebook 00 and notebook 04 (its SKAB and NAB runs show tqdm progress bars), each in a workspace
  of its own (nothing else open, so the menus act on it) with the fresh kernel it starts, clear the
  stored outputs and run every cell through the menus (Edit, Run);
* wait on the kernel, not on time: the run is over when the server reports the notebook's kernel idle,
  no cell is queued and every code cell has its execution count (or a cell shows an error), twice in a
  row a second apart;
* check that the run happened in this session and in fast mode, so that stale committed outputs can
  neither pass nor fail the test: the execution counts are 1, 2, ... n in cell order (a fresh kernel),
  the mode line is printed fresh and says FAST mode where the committed notebook says FULL mode;
* check that the "Python 3 (sadlib)" kernel starts, no cell shows a traceback, every figure is a loaded
  image (as many as the committed outputs hold), and tqdm's bars render as finished progress-bar
  widgets rather than as text ("HBox(...)" or the bar's plain-text repr);
* open every page of the built site (``make book`` writes ``docs/_build/html``) and check that it
  loads, that nothing it asks the server for is missing and that its images load.

Screenshots go to ``browser-screenshots/`` (ignored by git) so that a person can look.
JupyterLab's autosave is switched off for the test, and the test checks that the notebooks on disk
are unchanged afterwards: running cells must never overwrite the committed outputs.

Run with ``make test-browser``. Environment variables:

``SADLIB_CHROMIUM``
    the browser executable (default: ``/usr/bin/chromium``, else ``chromium``, ``chromium-browser``
    or ``google-chrome`` on ``PATH``); ``.ci/install-chromium`` installs Debian's package.
``SADLIB_JUPYTER``
    the ``jupyter`` executable to start (default: the one beside this Python, else ``.venv/bin``).
``SADLIB_SITE_DIR``
    the built site (default: ``docs/_build/html``).
``SADLIB_BROWSER_NOTEBOOKS``
    comma-separated notebooks (in ``notebooks/``) to run instead of 00 and 04.
``SADLIB_BROWSER_TIMEOUT``
    seconds allowed for one notebook to run all its cells (default: 900).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

import pytest

try:
    import playwright.sync_api as playwright_api
except ImportError as exc:  # a missing tool fails the run: this test is never skipped quietly
    raise ImportError("Playwright for Python is missing: `make install-test` installs the test extra") from exc

REPO = Path(__file__).resolve().parents[1]
# the notebook on show (JupyterLab keeps the other open tabs in the page, hidden)
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
SHOTS = REPO / "browser-screenshots"
KERNEL_DISPLAY_NAME = "Python 3 (sadlib)"
# notebook 00 (the tour) and a deep notebook whose SKAB and NAB runs show tqdm progress bars;
# SADLIB_BROWSER_NOTEBOOKS="03_classical_baselines.ipynb,06_sequence_autoencoders.ipynb" runs others
NOTEBOOKS = os.environ.get("SADLIB_BROWSER_NOTEBOOKS", "00_setup_and_tour.ipynb,04_dense_autoencoder.ipynb").split(",")
NOTEBOOK_TIMEOUT_S = float(os.environ.get("SADLIB_BROWSER_TIMEOUT", "900"))
SERVER_START_TIMEOUT_S = 120.0

# JupyterLab settings for the test only (a temporary settings folder, the learner's own is untouched):
# no autosave, so that running cells cannot overwrite the committed notebooks; every cell attached to
# the page, so that the checks see cells outside the viewport; no update check (no network here).
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "checkForUpdates": False,
        "fetchNews": "false",
    },
}

# A traceback as IPython prints it, or the last line of one (SyntaxError has no "Traceback" header).
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*[A-Za-z_][\w.]*(Error|Exception)\b", re.MULTILINE)
# What a widget looks like when the page cannot show it: its repr, or JupyterLab's failure messages.
WIDGET_AS_TEXT = re.compile(r"\b(HBox|VBox|FloatProgress|IntProgress)\(|Error displaying widget|Loading widget")


def find_chromium() -> str:
    """The browser executable, or a failure that says how to install one."""
    configured = os.environ.get("SADLIB_CHROMIUM")
    if configured:
        if not Path(configured).is_file():
            pytest.fail(f"SADLIB_CHROMIUM={configured} is not a file: point it at a Chromium or Chrome executable")
        return configured
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "no Chromium found: run `bash .ci/install-chromium` (Debian/Ubuntu, as root) or set SADLIB_CHROMIUM "
        "to a Chromium or Chrome executable"
    )


def find_jupyter() -> str:
    configured = os.environ.get("SADLIB_JUPYTER")
    candidates = [configured] if configured else [Path(sys.executable).with_name("jupyter"), REPO / ".venv/bin/jupyter"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return str(candidate)
    tried = ", ".join(map(str, candidates))
    pytest.fail(f"no jupyter executable at {tried}: run `make install` (or set SADLIB_JUPYTER)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=find_chromium())
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server started as `make lab` starts it, in fast mode; yields its base URL and token."""
    home = tmp_path_factory.mktemp("lab")
    settings = home / "user-settings"
    for relative, values in LAB_SETTINGS.items():
        target = settings / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, SADLIB_FAST="1", JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    mirror = REPO.parent / "shared" / "datasets"
    if not env.get("SADLIB_DATA_DIR") and mirror.is_dir():
        env["SADLIB_DATA_DIR"] = str(mirror)
    command = [find_jupyter(), "lab", "--notebook-dir=.", "--no-browser", f"--port={port}",
               "--ip=127.0.0.1", f"--IdentityProvider.token={token}", "notebooks/00_setup_and_tour.ipynb"]
    if os.geteuid() == 0:  # as the Makefile's ROOT_ARGS
        command.insert(2, "--allow-root")
    log = (home / "lab.log").open("wb")
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    try:
        while True:
            if server.poll() is not None:
                tail = (home / "lab.log").read_text()[-3000:]
                pytest.fail(f"JupyterLab exited with code {server.returncode}:\n{tail}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_TIMEOUT_S:.0f} s:\n"
                            f"{(home / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"base": base, "token": token, "log": home / "lab.log"}
    finally:
        # the server and the kernels it started form their own process group
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


# requests to any host but this machine's loopback address
OTHER_HOSTS = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")


def click_menu(page, menu: str, item: str) -> None:
    """Open a menu of JupyterLab's menu bar and click one of its items, as a person would."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


# The state of every code cell: its prompt ("[3]:", "[*]:" or "[ ]:"), whether its source is empty,
# and its outputs (mime type, text, and the images with their natural sizes).
CELLS_JS = """
() => Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')).map(cell => ({
    prompt: (cell.querySelector('.jp-InputPrompt') || {}).textContent || '',
    empty: ((cell.querySelector('.jp-InputArea-editor') || {}).textContent || '').trim() === '',
    outputs: Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(out => ({
        mime: out.getAttribute('data-mime-type') || '',
        text: out.innerText,
        widgets: out.querySelectorAll('.jupyter-widgets').length,
        // tqdm's bar is a FloatProgress widget: the width of its filled part, e.g. "100%"
        bars: Array.from(out.querySelectorAll('.widget-hprogress .progress-bar')).map(bar => bar.style.width),
        images: Array.from(out.querySelectorAll('img')).map(img => [img.complete, img.naturalWidth]),
    })),
}))
"""

# the title of the notebook tab that is current in the main area (what the menus act on)
CURRENT_TAB_JS = """
() => {
    const tab = document.querySelector('#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel');
    return tab ? tab.textContent.trim() : '';
}
"""
# the mode line that sadlib.course.modes.describe() prints in every notebook
MODE_LINE = re.compile(r"\b(FAST|FULL) mode\b")


def kernel_state(lab, path: str) -> str:
    """The execution state ("idle", "busy", "starting", ...) that the server reports for the notebook's kernel.

    "no answer" when the server, busy on a loaded machine, does not answer within 30 s: the callers poll again.
    """
    try:
        with urllib.request.urlopen(f"{lab['base']}/api/sessions?token={lab['token']}", timeout=30) as response:
            sessions = json.loads(response.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        return f"no answer ({exc})"
    states = [s["kernel"]["execution_state"] for s in sessions if s.get("path") == path and s.get("kernel")]
    return states[0] if len(states) == 1 else f"{len(states)} sessions"


def prompt_number(prompt: str) -> int | None:
    found = re.search(r"\[(\d+)\]", prompt)
    return int(found.group(1)) if found else None


def wait_for_run(page, lab, path: str, timeout_s: float) -> list[dict]:
    """Wait until the kernel has run the notebook: the cells' state once the run is over.

    Over means, on two polls in a row a second apart: the server reports the kernel idle, no cell
    is queued or running ("[*]"), and every non-empty code cell has an execution count, or a cell
    shows an error (Run All stops there). No fixed sleep: a loaded machine only takes longer.
    """
    deadline, done_once = time.monotonic() + timeout_s, False
    while True:
        cells = page.evaluate(CELLS_JS)
        state = kernel_state(lab, path)
        queued = any("[*]" in cell["prompt"] for cell in cells)
        unnumbered = [i for i, c in enumerate(cells) if not c["empty"] and prompt_number(c["prompt"]) is None]
        errored = any(TRACEBACK.search(out["text"]) for cell in cells for out in cell["outputs"])
        done = state == "idle" and not queued and (not unnumbered or errored)
        if done and done_once:
            return cells
        done_once = done
        if time.monotonic() > deadline:
            pytest.fail(f"the run did not finish within {timeout_s:.0f} s: kernel {state!r}, "
                        f"{sum('[*]' in c['prompt'] for c in cells)} cells queued, cells without a count: {unnumbered}")
        time.sleep(1.0)


def committed_mode_cells(notebook: Path) -> dict[int, str]:
    """Code-cell index -> the mode ("FULL"/"FAST") that the committed outputs of that cell print."""
    found = {}
    code = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    for i, cell in enumerate(code):
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            match = MODE_LINE.search(text)
            if match:
                found[i] = match.group(1)
    return found


def kernel_label(page) -> str:
    return page.locator(f"{PANEL} .jp-KernelName").inner_text().strip()


def code_cell(page, index: int):
    return page.locator(f"{PANEL} .jp-CodeCell").nth(index)


def committed_images(notebook: Path) -> int:
    """How many figures (PNG outputs, shown as <img> by JupyterLab and the site) a notebook's committed cells hold."""
    cells = json.loads(notebook.read_text())["cells"]
    return sum("image/png" in out.get("data", {})
               for cell in cells if cell["cell_type"] == "code" for out in cell.get("outputs", []))


def progress_labels(notebook: dict) -> list[str]:
    """The descriptions of the tqdm bars in a notebook's committed outputs ("SKAB" for "SKAB:   0%|...")."""
    labels = []
    for cell in notebook["cells"]:
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            data = out.get("data", {})
            match = re.match(r"\s*([^:|]+):", "".join(data.get("text/plain", "")))
            if "application/vnd.jupyter.widget-view+json" in data and match:
                labels.append(match.group(1).strip())
    return labels


def test_a_tested_notebook_has_progress_bars():
    """The widget check is not vacuous: at least one notebook under test shows tqdm bars."""
    found = {name: progress_labels(json.loads((REPO / "notebooks" / name).read_text())) for name in NOTEBOOKS}
    assert any(found.values()), f"none of {NOTEBOOKS} shows a tqdm progress bar in its committed outputs"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_lab(browser, lab, name):
    """Every cell of the notebook runs through JupyterLab's menus without an error; figures and bars render."""
    path = REPO / "notebooks" / name
    before = digest(path)
    SHOTS.mkdir(exist_ok=True)
    stem = Path(name).stem
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console_errors = []
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    page.route(OTHER_HOSTS, lambda route: route.abort())  # the Colab badge: CI has no network, learners may not
    try:
        # a workspace of its own, reset: only this notebook is open, so the menus act on it (with the server's
        # default notebook 00 restored beside it, "Run All" once ran 00 while the page showed 04's stale outputs)
        page.goto(f"{lab['base']}/lab/workspaces/test-{stem}/tree/notebooks/{name}?reset&token={lab['token']}")
        page.locator(f"{PANEL} .jp-CodeCell").first.wait_for(timeout=120_000)
        page.wait_for_function(f"() => ({CURRENT_TAB_JS})() === {json.dumps(name)}", timeout=60_000)
        # the kernel named in the notebook starts (the toolbar's indicator reaches idle) under the course's name
        page.wait_for_selector(f"{PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
        try:
            page.wait_for_function(
                "([panel, expected]) => { const k = document.querySelector(panel + ' .jp-KernelName');"
                " return k && k.textContent.trim() === expected; }",
                arg=[PANEL, KERNEL_DISPLAY_NAME], timeout=15_000,
            )
        except playwright_api.TimeoutError:
            page.screenshot(path=SHOTS / f"lab-{stem}-kernel.png")
            pytest.fail(f"the notebook's kernel shows as {kernel_label(page)!r}, not {KERNEL_DISPLAY_NAME!r}: "
                        "`make install` registers the course's kernel")

        # the kernel that opening the notebook started, connected and idle as the server sees it: a fresh one,
        # whose execution counts start at 1 (restarting it here, right after its start, once broke the page's
        # kernel connection on a loaded machine, and the cells stayed queued)
        deadline = time.monotonic() + 120
        while (state := kernel_state(lab, f"notebooks/{name}")) != "idle":
            assert time.monotonic() < deadline, f"the notebook's kernel is {state!r} after 120 s, not idle"
            time.sleep(0.5)
        assert page.evaluate(CURRENT_TAB_JS) == name, "another tab became current: the menus would act on it"
        click_menu(page, "Edit", "Clear Outputs of All Cells")
        page.wait_for_function(
            "(panel) => Array.from(document.querySelectorAll(panel + ' .jp-CodeCell')).every(c =>"
            " !c.querySelector('.jp-OutputArea-output')"
            " && !/\\d/.test(c.querySelector('.jp-InputPrompt').textContent))",
            arg=PANEL, timeout=60_000)

        started = time.monotonic()
        click_menu(page, "Run", "Run All Cells")
        cells = wait_for_run(page, lab, f"notebooks/{name}", NOTEBOOK_TIMEOUT_S)
        elapsed = time.monotonic() - started
        (SHOTS / f"lab-{stem}-cells.json").write_text(json.dumps(cells, indent=1))
        page.locator(f"{PANEL} .jp-Cell").first.scroll_into_view_if_needed()
        page.screenshot(path=SHOTS / f"lab-{stem}-top.png")
        print(f"\n{name}: {len(cells)} code cells ran in {elapsed:.1f} s through the browser")

        # no cell shows an error
        errors = [(i, out["text"][-800:]) for i, cell in enumerate(cells) for out in cell["outputs"]
                  if TRACEBACK.search(out["text"])]
        for i, _ in errors[:3]:
            code_cell(page, i).screenshot(path=SHOTS / f"lab-{stem}-error-cell{i}.png")
        assert not errors, f"cells show errors: {errors}"
        # every code cell ran (Run All stops at the first error, leaving later prompts empty)
        not_run = {i: cell["prompt"] for i, cell in enumerate(cells)
                   if not cell["empty"] and not re.search(r"\[\d+\]", cell["prompt"])}
        assert not not_run, f"code cells did not run (cell index: prompt): {not_run}"
        # ... in this session, by a fresh kernel: counts 1..n in cell order (stale outputs keep old prompts). The
        # hidden claims cells (collapsed: the page shows neither their code nor their prompt) run too and take
        # their numbers, so each visible cell's count is its place among the notebook's non-empty code cells.
        code = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
        assert len(code) == len(cells), f"the page shows {len(cells)} code cells, the notebook has {len(code)}"
        place = list(itertools.accumulate(1 if "".join(c["source"]).strip() else 0 for c in code))
        expected = [place[i] for i, cell in enumerate(cells) if not cell["empty"]]
        counts = [prompt_number(cell["prompt"]) for cell in cells if not cell["empty"]]
        assert counts == expected, f"execution counts are not {expected}: {counts}"
        # ... in fast mode: the mode line is printed fresh, FAST where the committed notebook says FULL
        committed = committed_mode_cells(path)
        assert committed, f"{name} prints no mode line in its committed outputs (sadlib.course.modes.describe())"
        for i, mode in committed.items():
            fresh = [m.group(1) for out in cells[i]["outputs"] for m in MODE_LINE.finditer(out["text"])]
            assert fresh == ["FAST"], (f"code cell {i} prints the mode {fresh} in this run (committed: {mode}); "
                                       f"JupyterLab runs in fast mode (SADLIB_FAST=1)")
        # figures: every image in an output is loaded; as many figures as the committed notebook has
        images = [img for cell in cells for out in cell["outputs"] for img in out["images"]]
        assert all(complete and width > 0 for complete, width in images), f"images not loaded: {images}"
        expected_figures = committed_images(path)
        assert len(images) >= expected_figures, f"{len(images)} figures rendered, the notebook has {expected_figures}"
        figure_cells = [i for i, cell in enumerate(cells) if any(out["images"] for out in cell["outputs"])]
        if figure_cells:
            figure = code_cell(page, figure_cells[0]).locator(".jp-OutputArea-output img").first
            figure.screenshot(path=SHOTS / f"lab-{stem}-figure.png")
        # tqdm's progress bars are widgets, never their text repr
        as_text = [(i, out["text"][:200]) for i, cell in enumerate(cells) for out in cell["outputs"]
                   if WIDGET_AS_TEXT.search(out["text"])]
        assert not as_text, f"widgets shown as text: {as_text}"
        for label in progress_labels(json.loads(path.read_text())):
            def finished(state):
                return [i for i, cell in enumerate(state) for out in cell["outputs"]
                        if "100%" in out["bars"] and re.search(rf"{label}:\s*100%", out["text"])]

            bars, deadline = finished(cells), time.monotonic() + 60
            while not bars and time.monotonic() < deadline:  # the kernel is done; the page may still draw widgets
                time.sleep(1.0)
                bars = finished(page.evaluate(CELLS_JS))
            assert bars, f"no finished '{label}' progress bar rendered as a widget (a filled FloatProgress bar)"
            bar = code_cell(page, bars[0]).locator(".jp-OutputArea-output:has(.widget-hprogress)").first
            bar.screenshot(path=SHOTS / f"lab-{stem}-progress-{label}.png")
        assert not console_errors, f"the page raised JavaScript errors: {console_errors}"
    finally:
        page.close()
    assert digest(path) == before, f"{name} changed on disk while the test ran: JupyterLab saved it"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature is the standard library's
        pass


@pytest.fixture(scope="module")
def site():
    """The built site served over HTTP on a free local port (search and relative links need a server)."""
    root = Path(os.environ.get("SADLIB_SITE_DIR", REPO / "docs" / "_build" / "html"))
    if not (root / "index.html").is_file():
        pytest.fail(f"no built site at {root}: run `make book` first (or set SADLIB_SITE_DIR)")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"root": root, "base": f"http://127.0.0.1:{server.server_address[1]}"}
    finally:
        server.shutdown()
        server.server_close()


META_REFRESH = re.compile(r"""<meta\s+http-equiv=["']refresh["']\s+content=["']\d+;\s*url=([^"']+)["']""", re.I)


def test_site_pages_load_with_figures(browser, site):
    """Every page of the built site loads; nothing it asks the server for is missing; every figure loads.

    A page built from a notebook shows at least as many images as the notebook's committed outputs hold.
    Requests to other hosts (the Colab badge) are blocked: the site must work offline, and CI has no network.
    """
    root, base = site["root"], site["base"]
    pages = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html")
                   if not p.relative_to(root).parts[0].startswith("_"))
    assert "index.html" in pages
    from_notebooks = {p: REPO / Path(p).with_suffix(".ipynb") for p in pages
                      if (REPO / Path(p).with_suffix(".ipynb")).is_file()}
    assert any(p.startswith("notebooks/") for p in from_notebooks), f"no notebook pages among {pages}"
    SHOTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems, blocked = [], set()

    def block(route):
        blocked.add(route.request.url)
        route.abort()

    page.route(OTHER_HOSTS, block)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda exc: problems.append(f"JavaScript error on {page.url}: {exc}"))
    n_images = 0
    try:
        for relative in pages:
            redirect = META_REFRESH.search((root / relative).read_text(errors="replace"))
            if redirect:  # index.html sends the browser to the home page, which is checked as a page of its own
                page.goto(f"{base}/{relative}")
                page.wait_for_url(urljoin(f"{base}/{relative}", redirect.group(1)), wait_until="load")
                continue
            response = page.goto(f"{base}/{relative}", wait_until="load")
            assert response is not None and response.ok, f"{relative}: HTTP {response and response.status}"
            # images below the fold may load lazily: make them all eager and wait for them
            page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
            page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=30_000)
            images = page.evaluate("() => Array.from(document.images).map(i => [i.currentSrc, i.naturalWidth])")
            local = [(src, width) for src, width in images if src.startswith(base) or src.startswith("data:")]
            broken = [src for src, width in local if width == 0]
            assert not broken, f"{relative}: images that did not load: {broken}"
            if relative in from_notebooks:
                expected = committed_images(from_notebooks[relative])
                assert len(local) >= expected, (
                    f"{relative} shows {len(local)} images, {from_notebooks[relative].name} has {expected} figures")
            n_images += len(local)
        page.goto(f"{base}/index.html")
        page.wait_for_url(lambda url: not url.endswith("/index.html"), wait_until="load")
        page.screenshot(path=SHOTS / "site-index.png")
        page.goto(f"{base}/notebooks/04_dense_autoencoder.html")
        page.locator("img[src*='_images']").first.scroll_into_view_if_needed()
        page.screenshot(path=SHOTS / "site-notebook-04.png")
    finally:
        page.close()
    assert not problems, f"requests that failed, or page errors: {problems}"
    print(f"\n{len(pages)} site pages loaded with {n_images} local images; {len(blocked)} requests to other hosts "
          "blocked (expected: badges)")

"""The dashboard in a real browser: `streamlit run` on a free port, headless Chromium driven by playwright.

Every page is visited; inputs change across a small matrix (through the URL's query parameters and by typing,
including bad values); each run must end without an exception box, with charts drawn, metric values not cut
short, and (after a warm-up visit) in under 5 s. Long work (simulation, planning, probe) is cancelled from the
page; a calibrated device YAML is loaded back. Screenshots go to tests/artifacts/dashboard/.
Skipped, with the reason, when playwright or a Chromium binary is missing (`.ci/run` installs both).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "dashboard"
RUN_TIMEOUT_S = 90.0
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed: pip install playwright (the dev extra has it)")


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium binary: apt-get install -y chromium "
                                "(or set CHROMIUM=/path/to/chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def streamlit_server() -> Iterator[str]:
    """`streamlit run dashboard/app.py` on a free localhost port; yields its base URL (also used by
    benchmarks/bench_dashboard.py)."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start: {proc.stdout.read() if proc.stdout else ''}"[:2000])
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser(server: str):
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # the app's first run registers its pages: until then a deep link shows a "Page not found" dialog
        first = b.new_context()
        visit(first.new_page(), server, "estimate")
        first.close()
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


def _state(pg) -> dict:
    return pg.evaluate("""() => ({
        running: !!document.querySelector('[data-testid="stStatusWidget"]'),
        title: !!document.querySelector('[data-testid="stMain"] h1'),
        stale: !!document.querySelector('[data-stale="true"], [data-testid^="stSkeleton"]'),
        progress: document.querySelectorAll('[data-testid="stProgress"]').length,
        charts: document.querySelectorAll('[data-testid="stPlotlyChart"]').length,
        drawn: document.querySelectorAll('[data-testid="stPlotlyChart"] .main-svg').length})""")


def wait_done(pg, timeout_s: float = RUN_TIMEOUT_S) -> tuple[float, float]:
    """Wait until the script run has ended and every element is in place (title, no running status, no stale or
    skeleton elements, no background job's progress bar), then until every chart is drawn, each for two polls in
    a row.
    Returns (seconds to the first, seconds to the second)."""
    start = time.monotonic()
    settled_s = None
    quiet = 0
    while time.monotonic() - start < timeout_s:
        state = _state(pg)
        settled = state["title"] and not state["running"] and not state["stale"] and not state["progress"]
        if settled and settled_s is None:
            settled_s = time.monotonic() - start
        if not settled:
            settled_s = None
        quiet = quiet + 1 if settled and state["drawn"] >= state["charts"] else 0
        if quiet >= 2:
            return settled_s or 0.0, time.monotonic() - start
        time.sleep(0.15)
    raise AssertionError(f"the page did not finish within {timeout_s:.0f} s: {pg.url}")


def visit(pg, base: str, path: str, params: dict | None = None) -> tuple[float, float]:
    """Open a page (with query parameters): seconds until its run ended with every element in place, and until
    its charts were drawn."""
    start = time.monotonic()
    path = "" if path == "estimate" else path  # the default page lives at the root URL
    pg.goto(f"{base}/{path}" + (f"?{urlencode(params)}" if params else ""))
    settled, drawn = wait_done(pg)
    spent = time.monotonic() - start
    return spent - (drawn - settled), spent


def check(pg, name: str, *, charts: int = 1, errors: int = 0) -> None:
    """No exception box, exactly `errors` one-line error messages, at least `charts` drawn plotly charts,
    no metric value cut short; saves a screenshot."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert pg.locator('[data-testid="stException"]').count() == 0, f"{name}: exception box"
    error_boxes = pg.locator('[data-testid="stAlertContentError"]')
    assert error_boxes.count() == errors, f"{name}: {error_boxes.all_inner_texts()}"
    for text in error_boxes.all_inner_texts():
        assert "Traceback" not in text and len(text.strip().splitlines()) == 1, text
    drawn = pg.locator('[data-testid="stPlotlyChart"] .main-svg').count()
    assert drawn >= charts, f"{name}: {drawn} charts drawn, expected at least {charts}"
    cut = pg.evaluate("""() => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)""")
    assert not cut, f"{name}: metric values cut short: {cut}"


def type_number(pg, label: str, value: str) -> None:
    """Type into a number input (by its label) and submit with Enter."""
    box = pg.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    time.sleep(0.3)
    wait_done(pg)


def type_text(pg, label: str, value: str) -> None:
    box = pg.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    time.sleep(0.3)
    wait_done(pg)


# (url path, query parameters, name, charts expected, error boxes expected)
MATRIX = [
    ("estimate", {}, "estimate-default", 3, 0),
    ("estimate", {"model": "llama-3.1-70b", "hardware": "a100-sxm-80gb", "tp": 4, "weight_dtype": "fp8",
                  "batch": 32, "engine": "sglang"}, "estimate-70b-tp4", 3, 0),
    ("estimate", {"batch": "-5", "output_len": "99999999999", "tp": "abc", "model": "no-such-model"},
     "estimate-bad-url-values-ignored", 3, 0),
    ("estimate", {"tp": 2, "ep": 4}, "estimate-bad-parallelism", 0, 1),
    ("compare", {}, "compare-devices", 3, 0),
    ("compare", {"cmp_dimension": "engines", "cmp_engines": "vllm,sglang,trtllm,llama.cpp"}, "compare-engines", 3, 0),
    ("compare", {"cmp_dimension": "precisions", "cmp_precisions": "bf16"}, "compare-needs-two", 0, 0),
    ("capacity-planning", {}, "capacity-planning", 0, 0),
    ("serving-simulation", {"sim_requests": 100}, "serving-chat", 4, 0),
    ("serving-simulation", {"sim_scenario": "disagg-2p1d", "sim_requests": 60, "sim_rate": 50}, "serving-disagg", 4, 0),
    ("serving-simulation", {"sim_path": "/no/such/scenario.yaml"}, "serving-missing-file", 0, 1),
    ("test-time-scaling", {}, "tts-default", 5, 0),
    ("test-time-scaling", {"tts_metric": "latency (s)", "tts_sparse": "block-topk"}, "tts-latency-sparse", 5, 0),
    ("calibration", {"cal_path": "/no/such/bundle.json"}, "calibration-missing-bundle", 0, 1),
    ("calibration", {"cal_source": "calibrated device YAML", "cal_device_path": "/no/such/device.yaml"},
     "calibration-missing-device-yaml", 0, 1),
    ("calibration", {"cal_source": "no-such-view", "cal_budget_s": "100000"}, "calibration-bad-url-values-ignored",
     0, 0),
    ("validation", {}, "validation-default", 0, 0),
]


def test_every_page_across_an_input_matrix(server: str, page) -> None:
    """Every configuration renders with its charts and no unexpected error box. Each page's first
    configuration is visited again after that warm-up (imports, caches) and the reload's time is
    recorded under the test artifacts; the 5 s page-load target is checked by
    benchmarks/bench_dashboard.py, not here (a loaded machine must not fail the suite)."""
    timed: dict[str, tuple[float, float]] = {}
    for path, params, name, charts, errors in MATRIX:
        visit(page, server, path, params)
        if path not in timed:
            timed[path] = visit(page, server, path, params)
        check(page, name, charts=charts, errors=errors)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "page_load_s.txt").write_text("page\tloaded_s\tcharts_drawn_s\n" + "".join(
        f"{p}\t{a:.2f}\t{b:.2f}\n" for p, (a, b) in timed.items()))


def test_typed_bad_values_are_refused_and_state_survives_page_switches(server: str, page) -> None:
    visit(page, server, "estimate")
    caption = page.locator('[data-testid="stCaptionContainer"]').first
    assert "fits" in caption.inner_text() and "✅" not in caption.inner_text()
    assert caption.locator('[role="img"][aria-label="check_circle icon"]').count() == 1
    # the status icon is a Material Symbols glyph; its font ships with Streamlit, unlike an emoji font
    assert page.evaluate("""() => [...document.fonts].some(
        f => f.family.includes("Material Symbols") && f.status === "loaded")""")
    type_number(page, "Output tokens", "99999999999")
    check(page, "estimate-typed-huge-output", charts=3)
    assert "output_len=256" in page.url  # out of bounds: flagged in the field, never sent to the server
    type_number(page, "Batch", "48")
    assert "batch=48" in page.url  # the URL carries the inputs
    page.get_by_role("link", name="Compare").click()
    wait_done(page)
    assert page.get_by_label("Batch", exact=True).input_value() == "48"
    page.get_by_role("link", name="Estimate").click()
    wait_done(page)
    assert page.get_by_label("Batch", exact=True).input_value() == "48"
    type_text(page, "…or custom device/system YAML path (overrides)", "/no/such/device.yaml")
    check(page, "estimate-typed-bad-path", charts=0, errors=1)
    shared = page.url
    fresh = page.context.new_page()
    visit(fresh, server, shared.split("/", 3)[3])
    assert fresh.get_by_label("Batch", exact=True).input_value() == "48"
    fresh.close()


def test_short_probe_can_be_cancelled(server: str, page) -> None:
    visit(page, server, "calibration")
    page.get_by_role("button", name="Run probe").click()
    page.get_by_role("button", name="Cancel probe").wait_for(timeout=20_000)
    time.sleep(1.0)
    page.get_by_role("button", name="Cancel probe").click()
    wait_done(page)
    check(page, "calibration-cancelled", charts=0)
    assert page.get_by_text("Probe cancelled.").count() == 1


def test_a_running_simulation_can_be_cancelled(server: str, page) -> None:
    """5,000 requests arriving at 1 req/s take seconds to simulate: Cancel stops it, the page says so, no error."""
    page.goto(f"{server}/serving-simulation?" + urlencode({"sim_requests": 5000, "sim_rate": 1.0}))
    cancel = page.get_by_role("button", name="Cancel simulation")
    cancel.wait_for(timeout=30_000)
    assert page.locator('[data-testid="stProgress"]').count() == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "serving-running.png"), full_page=True)
    cancel.click()
    page.get_by_text("Simulation cancelled.").wait_for(timeout=30_000)
    wait_done(page)
    check(page, "serving-cancelled", charts=0)
    assert page.get_by_role("button", name="Run again").count() == 1
    type_number(page, "Requests", "50")  # a new input starts a new run, which ends with its charts
    check(page, "serving-after-cancel", charts=4)


def test_running_plan_can_be_cancelled(server: str, page) -> None:
    visit(page, server, "capacity-planning")
    page.get_by_role("button", name="Plan").click()
    cancel = page.get_by_role("button", name="Cancel planning")
    cancel.wait_for(timeout=30_000)
    cancel.click()
    page.get_by_text("Planning cancelled.").wait_for(timeout=30_000)
    wait_done(page)
    check(page, "capacity-planning-cancelled", charts=0)


def test_calibration_page_loads_a_calibrated_device_yaml(server: str, page, calibrated_yaml: Path,
                                                         tmp_path: Path) -> None:
    visit(page, server, "calibration",
          {"cal_source": "calibrated device YAML", "cal_device_path": str(calibrated_yaml)})
    check(page, "calibration-device-yaml", charts=1)
    assert page.get_by_role("button", name="Download calibrated device YAML").count() == 1
    uncalibrated = tmp_path / "plain.yaml"
    uncalibrated.write_text((ROOT / "hardware_specs" / "epyc-9654.yaml").read_text())
    type_text(page, "…or device YAML path", str(uncalibrated))
    check(page, "calibration-device-yaml-uncalibrated", charts=0, errors=1)
    assert "calibration.gemm_roofline" in page.locator('[data-testid="stAlertContentError"]').inner_text()
    type_text(page, "…or device YAML path", "/no/such/device.yaml")
    check(page, "calibration-device-yaml-missing", charts=0, errors=1)


def test_calibration_page_draws_fits_of_a_bundle(server: str, page, gemm_bundle: Path) -> None:
    visit(page, server, "calibration", {"cal_path": str(gemm_bundle), "cal_base": "epyc-9654"})
    check(page, "calibration-bundle", charts=1)
    assert page.get_by_role("button", name="Download calibrated device YAML").count() == 1


def test_validation_page_with_a_small_csv(server: str, page, tmp_path: Path) -> None:
    csv = tmp_path / "cv.csv"
    csv.write_text("kind,study,engine,hardware,num_devices,model,weight_dtype,batch,input_len,output_len,quantity,"
                   "value,prior,fitted,cv_source,cv_device,cv_engine\n"
                   "e2e,s1,vllm,h100-sxm-80gb,1,llama-3.1-8b,bf16,1,128,128,e2e_s,1.0,1.3,1.1,s1,h100,vllm\n"
                   "e2e,s2,sglang,a100-sxm-80gb,1,llama-3.1-8b,bf16,8,512,128,e2e_s,2.0,2.6,1.8,s2,a100,sglang\n"
                   "serving,s3,vllm,h100-sxm-80gb,1,llama-3.1-8b,bf16,16,512,256,ttft_s,0.1,0.2,0.12,s3,h100,vllm\n")
    visit(page, server, "validation", {"val_csv": str(csv), "val_engines": "vllm"})
    check(page, "validation-small-csv", charts=1)
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text() == "2"  # two vllm rows

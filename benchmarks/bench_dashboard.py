"""Dashboard page loads in a real browser (headless Chromium driven by playwright).

Target: every page, reloaded after a warm-up visit, has finished its run with every element in place
in under 5 s. Run: `.venv/bin/python benchmarks/bench_dashboard.py` (needs /usr/bin/chromium, or set
CHROMIUM). The server, browser and page-timing helpers are the browser test's
(`tests/dashboard/test_browser.py`), so the benchmark times exactly what the test visits.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE_LOAD_LIMIT_S = 5.0


def _browser_test():
    spec = importlib.util.spec_from_file_location("browser_test", ROOT / "tests" / "dashboard" / "test_browser.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    bt = _browser_test()
    if bt.CHROMIUM is None:
        print("no Chromium binary: apt-get install -y chromium (or set CHROMIUM=/path/to/chromium)")
        return 2
    first = {}
    for path, params, *_ in bt.MATRIX:
        first.setdefault(path, params)
    rows = []
    with bt.streamlit_server() as url, bt.playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=bt.CHROMIUM, args=bt.CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        for path, params in first.items():
            bt.visit(page, url, path, params)  # warm-up: imports and caches
            loaded_s, drawn_s = min(bt.visit(page, url, path, params) for _ in range(2))
            rows.append((path, loaded_s, drawn_s))
        browser.close()
    print(f"{'page':22} {'loaded s':>9} {'charts drawn s':>15}   (target: loaded < {PAGE_LOAD_LIMIT_S:g} s)")
    for path, loaded_s, drawn_s in rows:
        print(f"{path:22} {loaded_s:9.2f} {drawn_s:15.2f}")
    slow = [path for path, loaded_s, _ in rows if loaded_s >= PAGE_LOAD_LIMIT_S]
    print("all pages under the target" if not slow else f"over the target: {', '.join(slow)}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench docs clean browser test-browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,probe,docs]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/perfmodel estimate --model llama-3.1-8b --hardware h100-sxm-80gb --engine vllm --batch 8 --input-len 1024 --output-len 256
	$(BIN)/streamlit run dashboard/app.py --server.headless true --server.address localhost

test: $(STAMP) browser
	$(BIN)/ruff check perfmodel tests benchmarks dashboard
	$(BIN)/pytest

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

# Headless Chromium for tests/dashboard/test_browser.py (playwright drives the OS package; no download).
# Skipped when a Chromium is already there; tolerated when apt is unavailable (the test then skips, saying why).
browser:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then echo "chromium: $$(command -v chromium || echo /usr/bin/chromium)"; \
	elif command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo -n); \
		($$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium) \
		|| echo "chromium could not be installed: the browser test will skip"; \
	else echo "no apt-get: install chromium by hand, or the browser test will skip"; fi

test-browser: $(STAMP) browser
	$(BIN)/pytest tests/dashboard/test_browser.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_cost.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site

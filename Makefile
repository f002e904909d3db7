PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,probe,docs]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/perfmodel estimate --model llama-3.1-8b --hardware h100-sxm-80gb --engine vllm --batch 8 --input-len 1024 --output-len 256
	$(BIN)/streamlit run dashboard/app.py --server.headless true --server.address localhost

test: $(STAMP)
	$(BIN)/ruff check perfmodel tests benchmarks dashboard
	$(BIN)/pytest

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_cost.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site

# Quick start: `make run` starts the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test install demo-model bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[test]'
	touch $(STAMP)

install: $(STAMP) demo-model

# The tiny SmolLM2 demo model (Apache-2.0), so a fresh install can chat offline later.
# Never fails: without network the app starts anyway and says why the demo is missing.
demo-model: $(STAMP)
	$(PY) -m app.library.demo_model install

run: install
	$(VENV)/bin/hearth

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: $(STAMP)
	$(PY) bench/engine_throughput.py
	$(PY) bench/ui_latency.py
	$(PY) bench/download_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info

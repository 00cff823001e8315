# Quick start: `make run` starts the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint install demo-model bench clean rebuild-engine bundle check-bundle engine-server

# llama.cpp's AMX kernels (Intel Xeon 4th gen and later) crash on some hosts: SIGILL or SIGSEGV
# in ggml_backend_amx_mul_mat on the first reply (llama.cpp issue 20824). A native build turns
# them on where the CPU reports AMX, so there the build leaves them out; everything else that
# -march=native finds (AVX-512, VNNI, ...) stays. Elsewhere nothing changes (and compilers older
# than GCC 11, which lack these flags, still work). `make ENGINE_CMAKE_ARGS= rebuild-engine` puts
# them back on a host where they work. bench/engine_throughput.py builds llama-server the same way.
ifeq ($(shell grep -qw amx_tile /proc/cpuinfo 2>/dev/null && echo amx),amx)
ENGINE_CMAKE_ARGS ?= -DCMAKE_C_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16' -DCMAKE_CXX_FLAGS='-mno-amx-tile -mno-amx-int8 -mno-amx-bf16'
endif
# CMAKE_ARGS you give (a GPU backend: see README), in the environment or on make's command line,
# come after these.
override CMAKE_ARGS := $(strip $(ENGINE_CMAKE_ARGS) $(CMAKE_ARGS))
export CMAKE_ARGS
# pip reuses a wheel it built before, whatever CMAKE_ARGS now say: check the installed build.
CHECK_ENGINE := $(if $(ENGINE_CMAKE_ARGS),$(PY) -m app.engine.build_check,true)
# Build llama-cpp-python again from source with CMAKE_ARGS. The wheel it builds replaces pip's
# cached one (for every venv of this user), so later installs reuse it.
REBUILD_ENGINE := { $(PY) -m pip cache remove 'llama_cpp_python*' || true; } && \
	$(PY) -m pip install --force-reinstall --no-deps \
	"llama-cpp-python==$$($(PY) -c 'from importlib.metadata import version; print(version("llama-cpp-python"))')"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e '.[test]'
	$(CHECK_ENGINE) || { $(REBUILD_ENGINE) && $(CHECK_ENGINE); }
	touch $(STAMP)

# A GPU backend, or the build flags changed: see README.
rebuild-engine: $(STAMP)
	$(REBUILD_ENGINE)
	$(CHECK_ENGINE)

install: $(STAMP) demo-model

# The tiny SmolLM2 demo model (Apache-2.0), so a fresh install can chat offline later.
# Never fails: without network the app starts anyway and says why the demo is missing.
demo-model: $(STAMP)
	$(PY) -m app.library.demo_model install

run: install
	$(VENV)/bin/hearth

# The linters first (seconds): a red lint stops the suite, as CI does.
test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# ruff's and mypy's settings are in pyproject.toml (mypy checks app/, strictly in app/chat, app/engine, app/store).
lint: $(STAMP)
	$(PY) -m ruff check app tests bench
	$(PY) -m mypy app

bench: $(STAMP)
	$(PY) bench/engine_throughput.py
	$(PY) bench/ui_latency.py
	$(PY) bench/download_throughput.py

# One executable file for x86-64 Linux in dist/ (packaging/README.md): every llama.cpp CPU
# variant inside, chosen at run time. The first build compiles llama.cpp 14 times (once per CPU
# variant): 20-60 minutes on two cores. GPU: make bundle ENGINE_FLAVOR=cuda BUNDLE_CMAKE_ARGS=-DGGML_CUDA=ON
bundle:
	ENGINE_FLAVOR=$(or $(ENGINE_FLAVOR),cpu) bash packaging/build_bundle.sh $(BUNDLE_CMAKE_ARGS)

# Runs the bundle as a user's machine would (no Python or compiler, a fresh home, Xvfb for the
# window). Not part of `make test` (the build takes too long for CI): run it before a release.
check-bundle:
	bash packaging/check_bundle.sh

# llama-server from the llama.cpp source llama-cpp-python vendors, built as the engine is (for tests and
# `hearth chat --runtime`); cached in ~/.cache/hearth/llama-ref (bench/engine_throughput.py's build_reference).
engine-server: $(STAMP)
	cd bench && ../$(PY) -c "from engine_throughput import build_reference, engine_cmake_args; \
		print(build_reference(engine_cmake_args()) / 'llama-server')"

clean:
	rm -rf $(VENV) build *.egg-info

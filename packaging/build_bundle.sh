#!/usr/bin/env bash
# `make bundle`: Hearth as one executable file for x86-64 Linux, in dist/.
#
#   bash packaging/build_bundle.sh                        # dist/Hearth-x86_64 (CPU; any x86-64 CPU)
#   ENGINE_FLAVOR=cuda bash packaging/build_bundle.sh -DGGML_CUDA=ON     # dist/Hearth-cuda-x86_64
#
# Arguments go to CMake for llama.cpp (packaging/build_engine.sh). The file holds Python, Qt,
# llama.cpp (every CPU variant, chosen at run time), Hearth, its icons and desktop entry; not
# a model: the first run offers the demo model as `make run` does. packaging/check_bundle.sh
# checks the result as a user's machine would run it.
#
# The build uses a virtual environment of its own (build/bundle-venv) with only what Hearth
# needs at run time, plus PyInstaller; llama-cpp-python is installed there without its C++
# part, which comes from build_engine.sh instead. Its Python must have a shared libpython
# (pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared; distribution Pythons have one).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=build/bundle-venv
FLAVOR=${ENGINE_FLAVOR:-cpu}
NAME=Hearth-x86_64
[[ $FLAVOR == cpu ]] || NAME=Hearth-$FLAVOR-x86_64
LLAMA_VERSION=$(sed -n 's/^ *"llama-cpp-python==\([^"]*\)".*/\1/p' pyproject.toml)

if [[ ! -f $VENV/.installed || pyproject.toml -nt $VENV/.installed ]]; then
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # The Python bindings only (LLAMA_BUILD=OFF): nothing is compiled, and no wheel of pip's
    # cache (built natively by `make install`) slips in.
    CMAKE_ARGS="-DLLAMA_BUILD=OFF -DLLAVA_BUILD=OFF" "$VENV/bin/python" -m pip install -q --no-cache-dir \
        --no-binary llama-cpp-python "llama-cpp-python==$LLAMA_VERSION"
    "$VENV/bin/python" -m pip install -q . "pyinstaller>=6.10,<7"
    # Hearth itself is taken from this checkout (the spec's pathex), not from site-packages.
    "$VENV/bin/python" -m pip uninstall -q -y hearth-chat
    touch "$VENV/.installed"
fi

ENGINE_LIB=$(PY=$VENV/bin/python ENGINE_FLAVOR=$FLAVOR bash packaging/build_engine.sh "$@")
echo "engine libraries: $ENGINE_LIB" >&2

# llama_cpp is imported while PyInstaller looks for modules: it needs the libraries too.
HEARTH_ENGINE_LIB=$ENGINE_LIB LLAMA_CPP_LIB_PATH=$ENGINE_LIB HEARTH_BUNDLE_NAME=$NAME \
    "$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/bundle-work packaging/hearth.spec

chmod +x "dist/$NAME"
size=$(stat -c %s "dist/$NAME")
echo "bundle: dist/$NAME ($((size / 1000000)) MB)"

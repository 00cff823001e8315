#!/usr/bin/env bash
# A minimal Debian 12 root file system for packaging/check_bundle.sh (HEARTH_CHECK_ROOT): a user's
# machine as bare as it gets, with no Python, no compiler and no development files.
#
#   sudo bash packaging/make_rootfs.sh [DIR]     # default ~/.cache/hearth/bundle-rootfs/bookworm
#   sudo HEARTH_CHECK_ROOT=DIR bash packaging/check_bundle.sh
#
# Debian's minbase variant plus only what any Linux desktop has and the bundle does not carry (it
# must match the machine's drivers or display server): the OpenGL/EGL libraries, libxcb, the
# Wayland client libraries, libdrm, fontconfig and one font. Needs debootstrap (apt-get install
# debootstrap) and Debian's package mirror; takes a few minutes and about 550 MB.
set -euo pipefail
DIR=${1:-$HOME/.cache/hearth/bundle-rootfs/bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DESKTOP=libgl1,libegl1,libxcb1,libwayland-client0,libwayland-cursor0,libwayland-egl1,libdrm2,fontconfig,fonts-dejavu-core

if [[ -x $DIR/bin/sh ]]; then
    echo "$DIR already holds a root file system (delete it to make it again)"
    exit 0
fi
debootstrap --variant=minbase --include="$DESKTOP" bookworm "$DIR" "$MIRROR"
if compgen -G "$DIR/usr/bin/python*" >/dev/null; then
    echo "make_rootfs: a python came in with the packages above" >&2
    exit 1
fi
echo "root file system: $DIR ($(du -sh "$DIR" | cut -f1))"

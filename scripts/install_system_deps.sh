#!/usr/bin/env bash
# Installs the system synthesizers voicelab's corpus is spoken by (Debian/Ubuntu).
# As root it runs apt-get; otherwise it stops and prints the exact command to run.
#
# For a machine without network or apt (a GPU box, a cluster node), in two steps:
#   bash scripts/install_system_deps.sh --download DIR     # where apt works: the .deb files into DIR
#   bash scripts/install_system_deps.sh --unpack DIR PREFIX # there: unpacked into PREFIX, no root needed
# --unpack prints the environment to export (PATH, LD_LIBRARY_PATH, ESPEAK_DATA_PATH).
set -euo pipefail

packages=(flite espeak-ng libsndfile1)
# what --download fetches: the programs and the libraries and data they load
# (libsndfile comes with the soundfile wheel)
portable=(flite libflite1 espeak-ng libespeak-ng1 espeak-ng-data libpcaudio0 libsonic0)

case "${1:-}" in
--download)
    dir=${2:?usage: install_system_deps.sh --download DIR}
    mkdir -p "$dir"
    (cd "$dir" && apt-get download "${portable[@]}")
    echo "downloaded into $dir: $(ls "$dir" | tr '\n' ' ')"
    exit 0
    ;;
--unpack)
    dir=${2:?usage: install_system_deps.sh --unpack DIR PREFIX}
    prefix=${3:?usage: install_system_deps.sh --unpack DIR PREFIX}
    mkdir -p "$prefix"
    prefix=$(cd "$prefix" && pwd)
    shopt -s nullglob
    debs=("$dir"/*.deb)
    [ ${#debs[@]} -gt 0 ] || { echo "no .deb files in $dir" >&2; exit 1; }
    for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$prefix"; done
    lib="$prefix/usr/lib/$(uname -m)-linux-gnu"
    echo "unpacked ${#debs[@]} packages into $prefix; before building a corpus, run:"
    echo "export PATH=\"$prefix/usr/bin:\$PATH\" LD_LIBRARY_PATH=\"$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\" ESPEAK_DATA_PATH=\"$lib\""
    exit 0
    ;;
"") ;;
*)
    echo "unknown option $1 (none, --download DIR, or --unpack DIR PREFIX)" >&2
    exit 2
    ;;
esac

missing=()
command -v flite >/dev/null 2>&1 || missing+=(flite)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
if ! ldconfig -p 2>/dev/null | grep -q libsndfile.so; then missing+=(libsndfile1); fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "system synthesizers present: $(flite --version 2>&1 | grep -o 'flite-[0-9.]*' | head -1), espeak-ng $(espeak-ng --version | grep -o '[0-9][0-9.]*' | head -1)"
    exit 0
fi

command="apt-get update && apt-get install -y ${packages[*]}"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${packages[@]}" >/dev/null
else
    echo "voicelab needs these system packages: ${missing[*]}" >&2
    echo "run this, then 'make' again:" >&2
    echo "    sudo sh -c '$command'" >&2
    exit 1
fi

#!/usr/bin/env bash
# Installs the system synthesizers voicelab's corpus is spoken by (Debian/Ubuntu).
# As root it runs apt-get; otherwise it stops and prints the exact command to run.
set -euo pipefail

packages=(flite espeak-ng libsndfile1)
missing=()
command -v flite >/dev/null 2>&1 || missing+=(flite)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
if ! ldconfig -p 2>/dev/null | grep -q libsndfile.so; then missing+=(libsndfile1); fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "system synthesizers present: flite $(flite --version 2>&1 | head -1 | awk '{print $2}'), espeak-ng"
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

#!/usr/bin/env bash
# Installs every Debian package irisgate needs to build, test and benchmark.
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail
PKGS=(build-essential cmake pkg-config libuv1-dev node-llhttp libcurl4-openssl-dev
      libcjson-dev libsqlite3-dev sqlite3 libssl-dev zlib1g-dev curl python3 nginx-light wrk)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

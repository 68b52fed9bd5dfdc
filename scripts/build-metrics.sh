#!/usr/bin/env bash
# Builds SSIMULACRA 2.1 from ../shared/metrics/ssimulacra2/src into .cache/metrics/ssimulacra2
# (shared/ is read-only in CI) and installs Butteraugli (Debian libjxl-devtools) and
# cjxl/djxl (libjxl-tools, for the JPEG XL peer). Idempotent; ~2 min the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC="${MRT_METRICS_DIR:-../shared/metrics}/ssimulacra2/src"
OUT=.cache/metrics/ssimulacra2
pkgs="libjxl-devtools libjxl-tools libhwy-dev liblcms2-dev ninja-build cmake g++ libpng-dev libjpeg62-turbo-dev"
if ! command -v butteraugli_main >/dev/null || ! command -v cjxl >/dev/null || ! dpkg -s $pkgs >/dev/null 2>&1; then
  echo "build-metrics: installing $pkgs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q $pkgs
fi
if [ ! -x "$OUT/ssimulacra2" ]; then
  [ -d "$SRC" ] || { echo "build-metrics: SSIMULACRA 2.1 sources not found at $SRC" >&2; exit 1; }
  mkdir -p "$OUT"
  cmake -S "$SRC" -B "$OUT" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C "$OUT" -j2 ssimulacra2 >/dev/null
fi
echo "build-metrics: ssimulacra2 $(pwd)/$OUT/ssimulacra2; butteraugli $(command -v butteraugli_main); cjxl $(cjxl --version 2>&1 | head -1)"

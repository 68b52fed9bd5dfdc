#!/usr/bin/env bash
# Builds src/model/lean/kernels.wasm from src/model/lean/kernels.c with fixed flags, so that
# the committed bytes are reproducible with Debian's clang 14 + lld (apt-get install clang lld).
#
#   bash scripts/build-wasm.sh           # rebuild kernels.wasm
#   bash scripts/build-wasm.sh --check   # rebuild into a temp file; exit 1 if it differs
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=src/model/lean/kernels.c
OUT=src/model/lean/kernels.wasm
CHECK=0
[ "${1:-}" = "--check" ] && CHECK=1

for tool in clang wasm-ld; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-wasm: $tool not found; install it with: apt-get install -y clang lld" >&2
    exit 2
  fi
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# -fno-unroll-loops: only the loops marked UNROLL in kernels.c unroll (size).
# -ffile-prefix-map and a fixed relative source path keep the output independent of the checkout
# location; no -g; memory starts at 2 pages (64 KiB stack + data) and grows without a maximum.
clang --target=wasm32 -O3 -fno-unroll-loops -msimd128 -nostdlib -fno-builtin -ffreestanding \
  -ffile-prefix-map="$PWD"=. -fno-ident \
  -Wall -Wextra -Werror -Wno-unused-parameter -Wno-pass-failed \
  -Wl,--no-entry -Wl,--export=__heap_base -Wl,--strip-all \
  -Wl,-z,stack-size=65536 -Wl,--initial-memory=131072 \
  -o "$TMP/kernels.wasm" "$SRC"

SIZE=$(wc -c <"$TMP/kernels.wasm" | tr -d ' ')
if [ "$CHECK" = 1 ]; then
  if ! cmp -s "$TMP/kernels.wasm" "$OUT"; then
    echo "build-wasm: $OUT is stale: rebuilding $SRC gives different bytes ($SIZE bytes vs $(wc -c <"$OUT" 2>/dev/null | tr -d ' ' || echo missing))." >&2
    echo "build-wasm: run 'bash scripts/build-wasm.sh' and commit $OUT ($(clang --version | head -1))." >&2
    exit 1
  fi
  echo "build-wasm: $OUT is up to date ($SIZE bytes)"
else
  cp "$TMP/kernels.wasm" "$OUT"
  echo "build-wasm: wrote $OUT ($SIZE bytes)"
fi

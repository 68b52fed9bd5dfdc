#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages, idempotently:
# Debian's chromium, firefox-esr, and webkit2gtk-driver with xvfb (browser tests), djpeg
# (bench/peers.ts: progressive JPEG prefixes) and the local torch wheels (training smoke test),
# and the perceptual metrics and JPEG XL tools
# (bench/visitor.ts, whose quick mode is part of the tests).
set -euo pipefail
if ! command -v /usr/bin/chromium >/dev/null 2>&1 || ! command -v djpeg >/dev/null 2>&1 || ! command -v /usr/bin/firefox-esr >/dev/null 2>&1 \
  || ! command -v /usr/bin/WebKitWebDriver >/dev/null 2>&1 || ! command -v /usr/bin/Xvfb >/dev/null 2>&1; then
  echo "setup: installing Debian chromium, libjpeg-turbo-progs (djpeg), firefox-esr, webkit2gtk-driver and xvfb (WebKitGTK's MiniBrowser needs a display)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q chromium libjpeg-turbo-progs firefox-esr webkit2gtk-driver xvfb
fi
if ! command -v clang >/dev/null 2>&1 || ! command -v wasm-ld >/dev/null 2>&1; then
  echo "setup: installing clang and lld (scripts/build-wasm.sh --check)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q clang lld
fi
if ! python3 -c "import torch, onnx, onnxruntime, numpy, PIL" >/dev/null 2>&1; then
  echo "setup: installing torch, onnx, onnxruntime, numpy, pillow from the local wheels"
  pip install -q --index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple \
    --find-links /opt/wheels torch onnx onnxruntime numpy pillow
fi
bash "$(dirname "$0")/build-metrics.sh"
echo "setup: chromium $(/usr/bin/chromium --version 2>/dev/null | head -1); djpeg $(command -v djpeg); torch $(python3 -c 'import torch; print(torch.__version__)')"

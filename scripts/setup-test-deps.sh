#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages, idempotently:
# Debian's chromium (browser tests) and the local torch wheels (training smoke test).
set -euo pipefail
if ! command -v /usr/bin/chromium >/dev/null 2>&1; then
  echo "setup: installing Debian chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q chromium
fi
if ! python3 -c "import torch, onnx, onnxruntime, numpy, PIL" >/dev/null 2>&1; then
  echo "setup: installing torch, onnx, onnxruntime, numpy, pillow from the local wheels"
  pip install -q --index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple \
    --find-links /opt/wheels torch onnx onnxruntime numpy pillow
fi
echo "setup: chromium $(/usr/bin/chromium --version 2>/dev/null | head -1); torch $(python3 -c 'import torch; print(torch.__version__)')"

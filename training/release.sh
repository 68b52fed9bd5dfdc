#!/usr/bin/env bash
# Release the best checkpoint of a (possibly still running) training run into models/:
# snapshot best.pt, train the RCM on its tokens, export (parity-checked), run the Node tests.
#   training/release.sh training/runs/lin [rcm-minutes] [rcm-layers]
# (rcm-layers: the RCM codes only the first N layers, the static prior the rest; 0 = all)
# Then evaluate: python training/eval.py --ckpt <run>/release.pt --rcm <run>/release_rcm.pt
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:?run dir}
MIN=${2:-6}
LAYERS=${3:-0}
export OMP_NUM_THREADS=1
cp "$RUN/best.pt" "$RUN/release.pt"
python training/train_rcm.py --ckpt "$RUN/release.pt" --out "$RUN/release_rcm.pt" --minutes "$MIN" --layers "$LAYERS"
python training/export.py --ckpt "$RUN/release.pt" --rcm "$RUN/release_rcm.pt"
npx vitest run test/models

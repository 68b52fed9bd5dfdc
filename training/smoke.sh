#!/usr/bin/env bash
# CI smoke test (~5 min on 1 CPU thread): a few training steps on tiny crops, a tiny RCM,
# export to a temp dir (export.py itself checks onnxruntime against PyTorch), then the
# Node tests (onnxruntime-node + onnxruntime-web WASM) on that export.
set -euo pipefail
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export OMP_NUM_THREADS=1
python training/train.py --run "$TMP/run0" --tiny --steps 16 --batch 4 --crop 64 --val-every 16 --nval 2 --lin --T 72  # T > 64: the export writes the split decoder too
# continue with an extra decoder and encoder block at 1/32 (--add-res32, --add-enc-res), the decoder's seam inputs (--add-seam)
# and extra stage blocks (--add-xres): export records them in manifest.arch, recover.py rebuilds them (the seam biases from
# their graph form);
# on coarse-first stream states with coarse-only tokens at mask 0.5 (export writes manifest.coarseMask, recover.py carries it)
python training/train.py --run "$TMP/run" --tiny --steps 4 --batch 4 --crop 64 --val-every 4 --nval 2 --init "$TMP/run0/best.pt" --add-res32 1 --mid32 8 --add-enc-res 1 --enc-mid 8 --add-seam --add-xres 8,2 \
  --coarse 8 --coarse-mask 0.5 --exact-frac 0.5 --coarse-rate st
python training/train_rcm.py --ckpt "$TMP/run/best.pt" --out "$TMP/run/rcm.pt" --tiny --epochs 2 --layers 8 --refine 8  # an RCM over the first layers only (hybrid prior), learning for the coarse-first order
python training/train_rcm.py --ckpt "$TMP/run/best.pt" --out "$TMP/run/coarse_rcm.pt" --tiny --epochs 2 --coarse 8  # the coarse-trit RCM (rcm.json "coarse")
python training/export.py --ckpt "$TMP/run/best.pt" --rcm "$TMP/run/rcm.pt" --coarse-rcm "$TMP/run/coarse_rcm.pt" --out "$TMP/models" --id smoke
python training/eval.py --ckpt "$TMP/run/best.pt" --rcm "$TMP/run/rcm.pt" --images 1 --no-msssim > "$TMP/eval.txt"
tail -n 3 "$TMP/eval.txt"
# recovery from the shipped files (training/runs is not in git): re-exporting the recovered
# checkpoints must give the same model (same modelHash)
python training/recover.py --models "$TMP/models" --run "$TMP/rec" --tiny
python training/export.py --ckpt "$TMP/rec/recovered.pt" --rcm "$TMP/rec/recovered_rcm.pt" \
  --coarse-rcm "$TMP/rec/recovered_coarse_rcm.pt" --out "$TMP/models2" --id smoke > /dev/null
python - "$TMP/models/manifest.json" "$TMP/models2/manifest.json" <<'EOF'
import json, os, sys
ma, mb = (json.load(open(p)) for p in sys.argv[1:])
a, b = ma['modelHash'], mb['modelHash']
print(f'recovered re-export modelHash {"matches" if a == b else "DIFFERS"}: {b}')
ca, cb = ma.get('coarseMask'), mb.get('coarseMask')
print(f'coarseMask {ca} -> {cb}')
dirs = [p.rsplit('/', 1)[0] for p in sys.argv[1:]]
cT = [json.load(open(d + '/rcm.json')).get('coarse', {}).get('T') for d in dirs]
print(f'coarse RCM over {cT[0]} -> {cT[1]} layers')
seam = [m.get('arch', {}).get('dec', {}).get('seam') for m in (ma, mb)]
print(f'decoder seam inputs {seam[0]} -> {seam[1]}')
xres = [m.get('arch', {}).get('dec', {}).get('xres') for m in (ma, mb)]
print(f'decoder extra stage blocks {xres[0]} -> {xres[1]}')
# the training data (training/datasets.py records, written by export.py) survive the recovery
td = [(m.get('trainingSets'), m.get('trainingData'), m.get('weightsLicence')) for m in (ma, mb)]
attrib = all(os.path.exists(os.path.join(d, 'ATTRIBUTION.md')) for d in dirs)
print(f'trainingData {"round-trips" if td[0] == td[1] else "DIFFERS"}: {td[0][0]}, '
      f'{sum(e["images"] for e in td[0][1] or [])} images, weightsLicence {td[0][2]}; ATTRIBUTION.md {"written" if attrib else "MISSING"}')
sys.exit(a != b or ca != cb or ca != 0.5 or cT[0] != 8 or cT[1] != 8 or seam != [[4, 2], [4, 2]] or xres != [[8, 2], [8, 2]]
         or td[0] != td[1] or not td[0][1] or not td[0][2] or not attrib)
EOF
if command -v npx >/dev/null && [ -d node_modules/onnxruntime-node ]; then
  MRT_MODELS_DIR="$TMP/models" npx vitest run test/models
  # the decoder on the real encoder's tokens and placeholders (scripts/encoder-tokens.ts with that export)
  python training/real_tokens.py --models "$TMP/models" --out "$TMP/real" --limit 1 --jobs 1
  python training/train.py --run "$TMP/runr" --tiny --steps 2 --batch 2 --crop 64 --val-every 2 --init "$TMP/run/best.pt" \
    --coarse 8 --coarse-mask 0.5 --decoder-only --states deploy --focus 8:12:0.5 --real-tokens "$TMP/real" | tail -n 1
  # the default model's whole recipe from scratch on tiny inputs (training/reproduce.sh --data open, ~3 min): every
  # step runs, and its last export has the shipped release's id, layout and architecture. (The same recipe on the
  # research set, the previous default's, is not run here: as long again)
  PYTHON=python training/reproduce.sh --tiny --data open "$TMP/repro" > "$TMP/repro.log" 2>&1 || { tail -n 40 "$TMP/repro.log"; exit 1; }
  grep '^reproduce.sh:' "$TMP/repro.log"
  python - "$TMP/repro/m13/manifest.json" models/manifest.json <<'EOF'
import json, sys
got, shipped = (json.load(open(p)) for p in sys.argv[1:])
keys = ('id', 'layout', 'arch', 'coarseMask')
diff = [k for k in keys if got.get(k) != shipped.get(k)]
print('reproduce.sh --tiny: the last export matches models/manifest.json in', ', '.join(keys) if not diff else f'NOT in {diff}')
sys.exit(1 if diff else 0)
EOF
fi
echo "smoke OK"

#!/usr/bin/env bash
# One command that trains the default model (mrt-v0.13-open) from scratch, release step by
# release step (models/README.md "Reproduce"; --dry-run prints the commands), on one training set
# (training/datasets.py; `python training/datasets.py` lists them):
#
#   training/reproduce.sh [--dry-run] [--tiny] [--data SET] [RUNS_DIR]
#
#   --data open      (default) the permissively licensed photos only (CC0, public domain, CC BY,
#                    Unsplash, Pexels: weights under the project's MIT licence); RUNS_DIR defaults
#                    to training/runs/repro-open, and the exports' ids end in -open
#   --data research  ../shared/data/train, the set of every release up to mrt-v0.13 (research-only
#                    weights); RUNS_DIR defaults to training/runs/repro
#   --data open-sa   open plus the CC BY-SA photos (a labelled variant); training/runs/repro-open-sa
#
# Each release along the way is exported to RUNS_DIR/mNN (RUNS_DIR/m13 is the last:
# `npx tsx bench/rd.ts --models RUNS_DIR/m13` evaluates it, `training/ship.sh RUNS_DIR/m13` ships it). Later steps
# encode the training images with the TypeScript encoder and those exports, as the releases did,
# so run `npm install` first. Resumable: a finished step leaves RUNS_DIR/.done/STEP and is
# skipped when the command is run again; an interrupted training run continues from its
# last.pt (a --minutes cap counts the run's whole training time, across restarts; train.py
# saves last.pt every 5 minutes). training/carry.sh copies what a resume needs to a tracked
# folder and back, for machines that do not keep RUNS_DIR. Wall time on this 2-core machine:
# about 11-12 hours on the open set (17 on the research set), the sum of the recipe's run times. Runs take the same seeds as the releases
# but will not reproduce their exact numbers: the time-capped runs stop wherever the machine
# has got to, and the tokens come from today's encoder (the closed loop and the container
# changed between releases).
#   --dry-run  print the steps and their commands, run nothing
#   --tiny     every step on a few images and a few steps (CI: checks the recipe runs end to end)
# Every run of the recipe records its set in its checkpoints, and the exports write it to their
# manifest (trainingSets, trainingData, weightsLicence) and ATTRIBUTION.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DRY= TINY= DATA=open
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --tiny) TINY=1 ;;
    --data) [ $# -ge 2 ] || { echo "reproduce.sh: --data needs a set" >&2; exit 2; }; DATA=$2; shift ;;
    --data=*) DATA=${1#--data=} ;;
    -*) echo "reproduce.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
case "$DATA" in
  research) R=${1:-training/runs/repro} IDS= ;;
  open|open-sa) R=${1:-training/runs/repro-$DATA} IDS=-$DATA ;;
  *) echo "reproduce.sh: unknown training set '$DATA' (research, open, open-sa)" >&2; exit 2 ;;
esac
export OMP_NUM_THREADS=1
PY=${PYTHON:-python3}
# a RUNS_DIR holds one set's runs (its steps resume each other)
if [ -f "$R/.data" ] && [ "$(cat "$R/.data")" != "$DATA" ]; then
  echo "reproduce.sh: $R holds runs on the $(cat "$R/.data") set, not $DATA: give another RUNS_DIR" >&2
  exit 2
fi
if [ -z "$DRY" ]; then
  mkdir -p "$R"
  echo "$DATA" > "$R/.data"
fi
# --tiny: the same commands with these appended (argparse keeps the last value of a flag)
TRAIN_TINY=(--tiny --steps 2 --batch 2 --crop 64 --val-every 2 --nval 2 --minutes 0)
RCM_TINY=(--tiny --epochs 1)
PCA_TINY=(--tiny --images 4)
TOKENS_TINY=(--limit 1)
N=0

# step NAME KIND cmd...: run cmd unless NAME is done; KIND picks the --tiny arguments
step() {
  local name=$1 kind=$2
  shift 2
  local extra=()
  case "$kind" in
    train|rcm|pca|tokens) extra=(--data "$DATA") ;;  # export.py reads the set from the checkpoints
  esac
  if [ -n "$TINY" ]; then
    case "$kind" in
      train) extra+=("${TRAIN_TINY[@]}") ;;
      rcm) extra+=("${RCM_TINY[@]}") ;;
      pca) extra+=("${PCA_TINY[@]}") ;;
      tokens) extra+=("${TOKENS_TINY[@]}") ;;
    esac
  fi
  N=$((N + 1))
  if [ -f "$R/.done/$name" ]; then
    echo "[$N] $name: done"
    return
  fi
  echo "[$N] $name: $* ${extra[*]}"
  [ -n "$DRY" ] && return
  local prev= a
  for a in "$@"; do  # the scripts write into --out's folder but do not create it
    [ "$prev" = --out ] && mkdir -p "$(dirname "$a")"
    prev=$a
  done
  "$@" "${extra[@]}"
  mkdir -p "$R/.done"
  date -u +%FT%TZ > "$R/.done/$name"
}

T="$PY training/train.py"
RC="$PY training/train_rcm.py"
EX="$PY training/export.py"
TOK="$PY training/real_tokens.py"
# the settings every decoder-only run on coarse-first states shares (mrt-v0.8 on)
CF=(--coarse-mask 0.5 --base avif444 --qmin 15 --qmax 65 --val-q 40)
FT=(--coarse 192 --decoder-only "${CF[@]}" --states deploy)
# and the rounds since mrt-v0.11: half the states at Kodak's ~2 KB stream lengths, a low learning rate
FOCUS=(--focus 192:256:0.5 --lr 5e-5 --lr-final 5e-6)

# mrt-v0.4 .. v0.5: PCA-initialised linear token paths, grown T = 64 -> 256 -> 384
step pca pca $PY training/pca.py --images 300 --out "$R/pca.pt"
step lin train $T --run "$R/lin" --minutes 120 --batch 16 --crop 128 --pca "$R/pca.pt" --pca-scale 4 --qmin 0 --qmax 50
step grow256 train $T --run "$R/grow256" --minutes 60 --T 256 --lam 20 --lin --grow "$R/lin/best.pt" --pca "$R/pca.pt" \
  --pca-scale 4 --qmin 0 --qmax 50 --batch 16 --crop 128 --val-every 500
step g256l30 train $T --run "$R/g256l30" --init "$R/grow256/best.pt" --minutes 100 --steps 12000 --T 256 --lam 30 --lin \
  --qmin 0 --qmax 50 --batch 16 --crop 128 --val-every 500
step pca512 pca $PY training/pca.py --images 300 --components 512 --out "$R/pca512.pt"
step grow384 train $T --run "$R/grow384" --grow "$R/g256l30/best.pt" --pca "$R/pca512.pt" --T 384 --minutes 85 --lam 20 \
  --lam-short 30 --short-k 64 --lin --qmin 0 --qmax 50 --batch 16 --crop 128 --val-every 500
step grow384-decay train $T --run "$R/grow384" --steps 15500 --lr-final 2e-5 --T 384 --lam 20 --lam-short 30 --short-k 64 \
  --lin --qmin 0 --qmax 50 --batch 16 --crop 128 --val-every 500
# mrt-v0.6 .. v0.7: T = 512, then lambda 45 for the first 32 layers
step grow512 train $T --run "$R/grow512" --grow "$R/grow384/best.pt" --pca "$R/pca512.pt" --T 512 --lam 20 --lam-short 30 \
  --short-k 64 --lin --qmin 0 --qmax 50 --batch 16 --crop 128 --val-every 500 --steps 9000 --lr-final 2e-5 --minutes 75
step ls45k32 train $T --run "$R/ls45k32" --init "$R/grow512/last.pt" --steps 9000 --minutes 45 --lr 2e-4 --lr-final 2e-5 \
  --lam 20 --lam-short 45 --short-k 32 --qmin 0 --qmax 50
step rcm07 rcm $RC --ckpt "$R/ls45k32/last.pt" --out "$R/ls45k32/r128/rcm.pt" --minutes 8 --layers 128
# mrt-v0.8: the decoder on coarse-first states
step cmask train $T --run "$R/cmask" --init "$R/ls45k32/last.pt" --coarse 128 --decoder-only "${CF[@]}" --exact-frac 0.4 \
  --lr 1e-4 --lr-final 1e-5 --steps 5000
step cmask2 train $T --run "$R/cmask2" --init "$R/cmask/last.pt" --coarse 128 --decoder-only "${CF[@]}" --exact-frac 0.6 \
  --lr 5e-5 --lr-final 5e-6 --steps 3000
step export08 - $EX --ckpt "$R/cmask2/last.pt" --rcm "$R/ls45k32/r128/rcm.pt" --id mrt-v0.8$IDS --out "$R/m08"
# mrt-v0.9: both RCMs on the real encoder's tokens (coarse trits over 192 layers)
step coarse-rcm09 rcm $RC --ckpt "$R/cmask2/last.pt" --encoder-tokens "$R/m08" --coarse 192 --minutes 14 \
  --out "$R/v09/coarse192_rcm.pt"
step rcm09 rcm $RC --ckpt "$R/cmask2/last.pt" --encoder-tokens "$R/m08" --layers 128 --minutes 10 --out "$R/v09/rcm128_renc.pt"
step export09 - $EX --ckpt "$R/cmask2/last.pt" --rcm "$R/v09/rcm128_renc.pt" --coarse-rcm "$R/v09/coarse192_rcm.pt" \
  --id mrt-v0.9$IDS --out "$R/m09"
# mrt-v0.10: the token RCM on refinement trits; the decoder on the real encoder's tokens
step rcm10 rcm $RC --ckpt "$R/cmask2/last.pt" --encoder-tokens "$R/m09" --layers 128 --refine 192 \
  --init-rcm "$R/v09/rcm128_renc.pt" --lr 1e-3 --minutes 12 --out "$R/v10/rcm128_refine_ft.pt"
step tokens09 tokens $TOK --models "$R/m09" --out "$R/v10/real" --jobs 1
step s14rdeploy train $T --run "$R/s14rdeploy" --init "$R/cmask2/last.pt" "${FT[@]}" --real-tokens "$R/v10/real" \
  --lr 1e-4 --lr-final 1e-5 --steps 8000 --minutes 38 --threads 1
step export10 - $EX --ckpt "$R/s14rdeploy/best.pt" --rcm "$R/v10/rcm128_refine_ft.pt" --coarse-rcm "$R/v09/coarse192_rcm.pt" \
  --id mrt-v0.10$IDS --out "$R/m10"
# mrt-v0.11: the decoder on mrt-v0.10's own tokens, half the states at ~2 KB
step tokens10 tokens $TOK --models "$R/m10" --out "$R/v11/real" --jobs 1
step s15f1 train $T --run "$R/s15f1" --init "$R/s14rdeploy/best.pt" "${FT[@]}" --real-tokens "$R/v11/real" \
  "${FOCUS[@]}" --steps 8000 --minutes 28 --threads 1
step export11 - $EX --ckpt "$R/s15f1/best.pt" --rcm "$R/v10/rcm128_refine_ft.pt" --coarse-rcm "$R/v09/coarse192_rcm.pt" \
  --id mrt-v0.11$IDS --out "$R/m11"
# mrt-v0.12: RCMs refitted to mrt-v0.11's tokens; seam inputs at 1/4 + 1/2, then 1/8; then its own tokens
step rcm12 rcm $RC --ckpt "$R/s15f1/best.pt" --encoder-tokens "$R/m11" --layers 128 --refine 192 \
  --init-rcm "$R/v10/rcm128_refine_ft.pt" --lr 1e-3 --minutes 12 --epochs 30 --patience 3 --out "$R/v12/refit_refine.pt"
step coarse-rcm12 rcm $RC --ckpt "$R/s15f1/best.pt" --encoder-tokens "$R/m11" --coarse 192 \
  --init-rcm "$R/v09/coarse192_rcm.pt" --lr 1e-3 --minutes 12 --epochs 30 --patience 3 --out "$R/v12/refit_coarse.pt"
step s16seam train $T --run "$R/s16seam" --init "$R/s15f1/best.pt" --add-seam 4,2 "${FT[@]}" --real-tokens "$R/v11/real" \
  "${FOCUS[@]}" --steps 12000 --minutes 40 --threads 1
step s16seam8 train $T --run "$R/s16seam8" --init "$R/s16seam/best.pt" --add-seam 8 "${FT[@]}" --real-tokens "$R/v11/real" \
  "${FOCUS[@]}" --steps 11000 --minutes 36 --threads 1
step export12a - $EX --ckpt "$R/s16seam/best.pt" --rcm "$R/v12/refit_refine.pt" --coarse-rcm "$R/v12/refit_coarse.pt" \
  --id mrt-v0.12$IDS --out "$R/m12a"
step tokens12a tokens $TOK --models "$R/m12a" --out "$R/v12/real" --jobs 1
step s16f3 train $T --run "$R/s16f3" --init "$R/s16seam8/best.pt" "${FT[@]}" --real-tokens "$R/v12/real" \
  "${FOCUS[@]}" --steps 8000 --minutes 24 --threads 2
step export12 - $EX --ckpt "$R/s16f3/best.pt" --rcm "$R/v12/refit_refine.pt" --coarse-rcm "$R/v12/refit_coarse.pt" \
  --id mrt-v0.12$IDS --out "$R/m12"
# mrt-v0.13: one more res block at 1/4, on mrt-v0.12's own tokens
step tokens12 tokens $TOK --models "$R/m12" --out "$R/v13/real" --jobs 1
step s17xC train $T --run "$R/s17xC" --init "$R/s16f3/best.pt" --add-xres 4 "${FT[@]}" --real-tokens "$R/v13/real" \
  "${FOCUS[@]}" --steps 12000 --minutes 40 --threads 1
step export13 - $EX --ckpt "$R/s17xC/best.pt" --rcm "$R/v12/refit_refine.pt" --coarse-rcm "$R/v12/refit_coarse.pt" \
  --id mrt-v0.13$IDS --out "$R/m13"
echo "reproduce.sh: $N steps on the $DATA set; the last release is in $R/m13"

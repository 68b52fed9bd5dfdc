#!/usr/bin/env bash
# Carries a reproduce.sh run across machines that keep only the repository: `save` copies what
# resuming needs from RUNS_DIR into a tracked folder, `restore` puts it back; then
# `training/reproduce.sh --data SET` goes on from there (finished steps are skipped, the running
# one resumes from its last.pt).
#
#   training/carry.sh save    [RUNS_DIR] [CARRY_DIR]
#   training/carry.sh restore [CARRY_DIR] [RUNS_DIR]
#
# RUNS_DIR defaults to training/runs/repro-open, CARRY_DIR to training/carry/repro-open.
# Carried: the set's name (.data), the finished steps (.done), every checkpoint and PCA basis
# (*.pt) and the training logs (log.jsonl). Not carried, and so redone on restore (their .done
# marks are dropped): the exports (mNN/, minutes each) and the training images' tokens (real_*.pt,
# *tokens_*.pt and real/: derived from the training photos, which stay out of the repository,
# and ~90 MB each).
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-}
case "$cmd" in
  save) SRC=${2:-training/runs/repro-open} DST=${3:-training/carry/repro-open} ;;
  restore) SRC=${2:-training/carry/repro-open} DST=${3:-training/runs/repro-open} ;;
  *) echo "usage: training/carry.sh save|restore [FROM] [TO]" >&2; exit 2 ;;
esac
[ -d "$SRC" ] || { echo "carry.sh: $SRC does not exist" >&2; exit 2; }
mkdir -p "$DST"
# the files a resume needs, relative to SRC (checkpoints being written end in .tmp: skipped)
files=$(cd "$SRC" && find . \( -name '*.pt' -o -name log.jsonl -o -path './.done/*' -o -name .data \) -type f \
  -not -path '*/real/*' -not -name 'real_*.pt' -not -name '*tokens_*.pt' -not -path './m[0-9]*' | sort)
n=0
for f in $files; do
  mkdir -p "$DST/$(dirname "$f")"
  cp -p "$SRC/$f" "$DST/$f"
  n=$((n + 1))
done
if [ "$cmd" = restore ]; then
  # exports and token sets were not carried: their steps run again
  for d in "$DST"/.done/export* "$DST"/.done/tokens*; do [ -e "$d" ] && rm -f "$d"; done
fi
echo "carry.sh: $cmd: $n files, $(du -sh "$DST" | cut -f1) in $DST"

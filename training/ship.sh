#!/usr/bin/env bash
# Make an exported model (training/export.py --out DIR) the default in models/, keeping the
# current default decodable in models/<first 8 hex digits of its modelHash>/ (models/README.md,
# "Model versions"): its manifest.json, the files it lists and its ATTRIBUTION.md move there
# unchanged (git mv); the parity fixtures (testvec/) and the model card stay with the default.
# Then writes the new default's lean decoder files (scripts/build-lean-model.ts).
#   training/ship.sh training/runs/repro-open/m13
# Afterwards: update models/README.md (the model card), write models/<prefix>/README.md (what the
# earlier model is, its weights licence; the npm package ships it), then run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=${1:?usage: training/ship.sh EXPORT_DIR}
[ -f "$SRC/manifest.json" ] || { echo "ship.sh: $SRC/manifest.json not found (an export.py --out folder?)" >&2; exit 1; }
[ -z "$(git status --porcelain models)" ] || { echo "ship.sh: models/ has uncommitted changes" >&2; exit 1; }

field() { node -e 'const m=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const v=process.argv[2].split(".").reduce((o,k)=>o?.[k],m);console.log(Array.isArray(v)||typeof v==="object"?Object.keys(v).join("\n"):v)' "$1" "$2"; }

OLD=$(field models/manifest.json modelHash)
NEW=$(field "$SRC/manifest.json" modelHash)
[ "$OLD" != "$NEW" ] || { echo "ship.sh: $SRC is already the default ($NEW)" >&2; exit 1; }
PREFIX=${OLD:0:8}
DEST=models/$PREFIX
[ ! -e "$DEST" ] || { echo "ship.sh: $DEST exists" >&2; exit 1; }

echo "ship.sh: $(field models/manifest.json id) ($PREFIX) moves to $DEST; $(field "$SRC/manifest.json" id) (${NEW:0:8}) becomes the default"
mkdir -p "$DEST"
for f in manifest.json ATTRIBUTION.md $(field models/manifest.json files); do
  git mv "models/$f" "$DEST/$f"
done
git rm -rq models/testvec

for f in manifest.json ATTRIBUTION.md $(field "$SRC/manifest.json" files); do
  cp "$SRC/$f" "models/$f"
done
cp -r "$SRC/testvec" models/testvec
npx tsx scripts/build-lean-model.ts
git add models
echo "ship.sh: done; now update models/README.md, write $DEST/README.md, and run the tests"

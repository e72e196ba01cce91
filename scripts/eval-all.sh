#!/usr/bin/env bash
# Runs `fewshot eval --json` (our head, the plain prototype and the peer, same episodes) for every model on
# every development dataset, writes docs/eval/<model>-<dataset>.json, then the tables and plots
# (scripts/accuracy-report.ts); then the leave-one-domain-out fit and judgement of each model's calibration
# constants (scripts/lodo.ts -> docs/lodo/<model>.json) with its tables and plots (scripts/lodo-report.ts).
# Embeddings are cached in FEWSHOT_CACHE (default .fewshot/cache): warm it first
# with `npm run embed:dev`.
#   npm run eval:docs                                   (every model; with a warm cache, v3 on all eight sets took 45 min
#                                                       on 2 cores under a load average of 10-20, v2 on the five small sets 3 min at a load of 4)
#   MODELS=mobilenet_v3_small_075 npm run eval:docs     (some models; the report reads every docs/eval/*.json)
#   SETS="dtd10_textures pbc_blood_cells" npm run eval:docs   (some datasets, by the names below)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${FEWSHOT_DATASETS:-../shared/datasets}"
cache="${FEWSHOT_CACHE:-.fewshot/cache}"
episodes="${EPISODES:-300}"
models="${MODELS:-mobilenet_v2_100 mobilenet_v1_025 mobilenet_v3_small_075}"
# dataset-name:folder. Omniglot's two splits, then the other development domains (scripts/dev-data.ts, DEV_DOMAINS).
sets="caltech101:caltech101 omniglot_background:omniglot/background_images omniglot_evaluation:omniglot
  gtsrb_traffic_signs:gtsrb_traffic_signs dtd10_textures:dtd10_textures pbc_blood_cells:pbc_blood_cells
  plant_seedlings:plant_seedlings sign_language_digits:sign_language_digits"
mkdir -p docs/eval
run() { # model dataset-name folder
  node dist/node/cli.js --model "$1" eval --data "$data/$3" --episodes "$episodes" --cache "$cache" --json |
    node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); r.dataset = process.argv[1]; r.data = process.argv[2]; console.log(JSON.stringify(r, null, 1));' "$2" "$3" \
    > "docs/eval/$1-$2.json.tmp"
  mv "docs/eval/$1-$2.json.tmp" "docs/eval/$1-$2.json"
  echo "docs/eval/$1-$2.json" >&2
}
all_sets() { # model: its datasets one after the other (one process per model writes that model's cache)
  for set in $sets; do
    if [ -z "${SETS:-}" ] || [[ " $SETS " == *" ${set%%:*} "* ]]; then run "$1" "${set%%:*}" "${set#*:}"; fi
  done
}
# Two models at a time (2 cores); each model's runs are sequential, so no two processes write one cache.
pids=()
for model in $models; do
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do sleep 1; done
  all_sets "$model" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
npx tsx scripts/accuracy-report.ts
for model in $models; do npx tsx scripts/lodo.ts --model "$model"; done
npx tsx scripts/lodo-report.ts

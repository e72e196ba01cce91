#!/usr/bin/env bash
# Runs `fewshot eval --json` (our head, the plain prototype and the peer, same episodes) for every model on
# every development dataset, writes docs/eval/<model>-<dataset>.json, then the tables and plots
# (scripts/accuracy-report.ts). Embeddings are cached in FEWSHOT_CACHE (default .fewshot/cache).
#   npm run eval:docs            (about 20 min on 2 cores with a warm cache)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${FEWSHOT_DATASETS:-../shared/datasets}"
cache="${FEWSHOT_CACHE:-.fewshot/cache}"
episodes="${EPISODES:-300}"
mkdir -p docs/eval
run() { # model dataset-name folder
  node dist/node/cli.js --model "$1" eval --data "$data/$3" --episodes "$episodes" --cache "$cache" --json |
    node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); r.dataset = process.argv[1]; r.data = process.argv[2]; console.log(JSON.stringify(r, null, 1));' "$2" "$3" \
    > "docs/eval/$1-$2.json"
  echo "docs/eval/$1-$2.json" >&2
}
for model in mobilenet_v2_100 mobilenet_v1_025; do
  run "$model" caltech101 caltech101 &
  run "$model" omniglot_background omniglot/background_images &
  wait
  run "$model" omniglot_evaluation omniglot
done
npx tsx scripts/accuracy-report.ts

#!/usr/bin/env bash
# Rating quality against the PyTorch reference (../shared/peers/torch_mf.py) on
# MovieLens-100K, on exactly the reference's split: bench/movielens_split.py writes the
# random 80/20 split torch_mf.py draws for --seed (numpy's default_rng permutation).
# Tessera trains examples/movielens_mf.pbtxt's MF and, with side features,
# examples/movielens_mf_side.pbtxt's, through mpirun (1 scheduler, 2 servers, 2
# workers); the reference trains its default (dim 32, Adam 2e-3, reg 0.05, batch 256,
# 30 epochs) and reports its last and its best epoch.
#
#   bench/movielens_vs_torch.sh [SEED]       default SEED 0
#   TORCH=0 bench/movielens_vs_torch.sh      Tessera only (the reference takes minutes)
# Needs: a build (launch/build), ../shared/data, python3-numpy; for the reference
# python3-torch python3-pandas.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${TESSERA_SHARED_DIR:-$root/../shared}"
seed="${1:-0}"
ml="$shared/data/movielens-100k"
work="$(mktemp -d /tmp/tessera-movielens-XXXXXX)"
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 "$root/bench/movielens_split.py" "$ml/u.data" "$work/split" --seed "$seed"
mean=$(awk '{ s += $3 } END { printf "%.4f", s / NR }' "$work/split/train")
echo "load $(cut -d' ' -f1-3 /proc/loadavg); mean training rating $mean"

for example in movielens_mf movielens_mf_side; do
  sed -e "s#\"ml-split/#\"$work/split/#g" -e "s#\"\\.\\./shared/#\"$shared/#g" \
      -e "s#label_offset: [0-9.]*#label_offset: $mean#" \
      -e "s#model_dir: \"[^\"]*\"#model_dir: \"$work/model-$example\"#" \
      "$root/examples/$example.pbtxt" > "$work/$example.pbtxt"
  start=$(date +%s.%N)
  "$root/launch/tessera-run" --servers 2 --workers 2 -- train --config "$work/$example.pbtxt" \
    > "$work/log-$example.txt" 2>&1 || { echo "tessera $example FAILED"; tail -20 "$work/log-$example.txt"; continue; }
  end=$(date +%s.%N)
  rmse=$(grep -o '"rmse": [0-9.]*' "$work/model-$example/metrics.jsonl" | tail -1 | cut -d' ' -f2)
  best=$(grep -o '"rmse": [0-9.]*' "$work/model-$example/metrics.jsonl" | cut -d' ' -f2 | sort -n | head -1)
  eps=$(grep -o '"examples_per_second": [0-9.e+]*' "$work/model-$example/metrics.jsonl" | tail -1 | cut -d' ' -f2)
  printf 'RESULT tessera %s seed=%s test_rmse=%s best=%s train_examples_per_s=%.0f wall_s=%.1f\n' \
    "$example" "$seed" "$rmse" "$best" "$eps" "$(echo "$end - $start" | bc)"
done
if [ "${TORCH:-1}" != 0 ]; then
  /usr/bin/python3 "$shared/peers/torch_mf.py" --data "$ml/u.data" --seed "$seed" --threads 2 --quiet \
    | grep RESULT | sed 's/^RESULT/RESULT torch torch_mf.py/'
fi

#!/usr/bin/env bash
# Quality check against the PyTorch reference (../shared/peers/torch_ctr.py) on the real
# Criteo sample, same split and epochs: the four parts concatenated in order, the last
# 10% (13,714 lines) as test, 1 epoch, batch 1024, embedding dim 16, Adam lr 1e-3.
# Tessera runs 1 scheduler, 2 servers, 2 workers with batch 512 each (BSP averages the
# two workers' gradients: one step sees 1024 examples, as the reference's batch does).
#
#   bench/criteo_vs_torch.sh [MODELS]     default MODELS="lr deepfm dlrm"
#   WORKERS=1 bench/criteo_vs_torch.sh    one worker reads the file in order, as the
#                                         reference does (batch 1024 per step either way)
# Needs: a build (launch/build), ../shared/data, and for the reference Debian's
# python3-torch python3-pandas python3-numpy python3-sklearn libopenblas0-pthread.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${TESSERA_SHARED_DIR:-$root/../shared}"
models="${1:-lr deepfm dlrm}"
workers="${WORKERS:-2}"
source "$root/bench/torch_compare.sh"
work="$(mktemp -d /tmp/tessera-criteo-XXXXXX)"
trap 'rm -rf "$work"' EXIT

zcat "$shared"/data/criteo-sample/toy_train.part-{0,1,2,3}.txt.gz > "$work/all.tsv"
total=$(wc -l < "$work/all.tsv")
test_lines=$(( (total + 5) / 10 ))
head -n $((total - test_lines)) "$work/all.tsv" > "$work/train.tsv"
tail -n "$test_lines" "$work/all.tsv" > "$work/test.tsv"
echo "split: $((total - test_lines)) train, $test_lines test lines; load $(cut -d' ' -f1-3 /proc/loadavg)"

for m in $models; do
  case "$m" in
    lr) kind=LR; mlp="" ;;
    fm) kind=FM; mlp="" ;;
    deepfm) kind=DEEPFM; mlp="mlp_hidden: [400, 400, 400]" ;;
    dlrm) kind=DLRM; mlp="" ;;  # defaults: the reference's --bot 512-256-64-16 --top 512-256
    *) echo "unknown model $m"; exit 2 ;;
  esac
  write_job "$work/$m.pbtxt" "$work/train.tsv" "$work/test.tsv" "kind: $kind embedding_dim: 16 $mlp" \
    "$work/model-$m" $((1024 / workers))
  start=$(date +%s.%N)
  "$root/launch/tessera-run" --servers 2 --workers "$workers" -- train --config "$work/$m.pbtxt" > "$work/log-$m.txt" 2>&1 \
    || { echo "tessera $m FAILED"; tail -20 "$work/log-$m.txt"; continue; }
  end=$(date +%s.%N)
  auc=$(metric "$work/model-$m" auc)
  ll=$(metric "$work/model-$m" logloss)
  eps=$(metric "$work/model-$m" examples_per_second)
  printf 'RESULT tessera model=%s workers=%s auc=%s logloss=%s train_examples_per_s=%.0f wall_s=%.1f\n' \
    "$m" "$workers" "$auc" "$ll" "$eps" "$(echo "$end - $start" | bc)"
  if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    /usr/bin/python3 "$shared/peers/torch_ctr.py" --train "$work/train.tsv" --test "$work/test.tsv" \
      --model "$m" --epochs 1 --batch-size 1024 --threads 2 2>&1 | grep RESULT | sed 's/^RESULT/RESULT torch  /'
  fi
done

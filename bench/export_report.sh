#!/usr/bin/env bash
# Export for serving (issue 4, item 6): size on disk and validation AUC of each
# `tessera export` option against the checkpoint it came from.
#   bench/export_report.sh [MODEL] [TRAIN_LINES] [NORMS] [COMBINED_NORM]
# defaults: fm 200000 "0.03 0.04 0.05 0.07" 0.05 (NORMS: the --prune_norm_below rows;
# COMBINED_NORM: the threshold of the last row, int8 with both prunings).
# MODEL is fm or deepfm (dim 16, Adam 1e-3, 1 epoch, batch 1024 = 2 workers x 512, 2
# servers). Data: tessera gen-data, TRAIN_LINES train and 50k validation lines.
# AUC is `tessera predict` on the validation file; the baseline is the checkpoint itself
# (whose missing keys score as their initial value, an export's as zero).
# Sizes are the bytes of all files of the directory (du -sb), MANIFEST included.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${TESSERA_BIN:-$root/build/tessera}"
export TESSERA_BIN="$bin"
model="${1:-fm}"
lines="${2:-200000}"
norms="${3:-0.03 0.04 0.05 0.07}"
combined_norm="${4:-0.05}"
case "$model" in
  fm) spec="kind: FM embedding_dim: 16" ;;
  deepfm) spec="kind: DEEPFM embedding_dim: 16 mlp_hidden: [200, 100]" ;;
  *) echo "unknown model $model (fm or deepfm)"; exit 2 ;;
esac
work="$(mktemp -d /tmp/tessera-export-XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$bin" gen-data --out "$work" --train_lines "$lines" --validation_lines 50000 >/dev/null
cat > "$work/job.pbtxt" <<JOB
data { train: "$work/train.tsv" validation: "$work/validation.tsv" batch_size: 1024 }
model { $spec }
training { epochs: 1 seed: 42 sparse_optimizer { kind: ADAM learning_rate: 0.001 }
           dense_optimizer { kind: ADAM learning_rate: 0.001 } }
checkpoint { dir: "$work/ckpt" keep: 1 }
output { model_dir: "$work/model" }
JOB
"$root/launch/tessera-run" --servers 2 --workers 2 -- train --config "$work/job.pbtxt" \
  > "$work/train.log" 2>&1 || { tail -20 "$work/train.log"; exit 1; }
ckpt="$work/ckpt/epoch-0001"

bytes() { du -sb "$1" | cut -f1; }
auc() { "$bin" predict --model "$1" --data "$work/validation.tsv" | grep -o 'AUC [0-9.]*' | cut -d' ' -f2; }
base_auc=$(auc "$ckpt")
weights=0
for f in "$ckpt"/shard-*.tsr; do weights=$((weights + $(stat -c %s "$f"))); done
fp32_bytes=""

echo "model $model, $lines train / 50000 validation lines, 2 servers; nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "checkpoint: $(bytes "$ckpt") bytes (weight shards $weights), validation AUC $base_auc"
printf '| %-48s | %12s | %9s | %8s | %9s | %10s |\n' option bytes "vs fp32" rows AUC "AUC change"
printf '|%s|%s|%s|%s|%s|%s|\n' --- ---: ---: ---: ---: ---:
row() {  # label, export flags
  local out="$work/export-$RANDOM"
  "$bin" export --checkpoint "$ckpt" --out "$out" $2 > "$work/export.log"
  local b a rows
  b=$(bytes "$out")
  [ -n "$fp32_bytes" ] || fp32_bytes=$b
  a=$(auc "$out")
  rows=$(grep -o '[0-9]* of [0-9]* kept' "$work/export.log" | cut -d' ' -f1)
  printf '| %-48s | %12s | %8.3fx | %8s | %9s | %+10.6f |\n' "$1" "$b" \
    "$(echo "$b / $fp32_bytes" | bc -l)" "$rows" "$a" "$(echo "$a - $base_auc" | bc -l)"
  rm -rf "$out"
}
row "fp32" ""
row "fp16" "--precision fp16"
row "int8" "--precision int8"
row "fp32 --prune_untouched" "--prune_untouched"
for norm in $norms; do
  row "fp32 --prune_norm_below $norm" "--prune_norm_below $norm"
done
row "int8 --prune_untouched --prune_norm_below $combined_norm" \
  "--precision int8 --prune_untouched --prune_norm_below $combined_norm"

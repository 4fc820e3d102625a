#!/usr/bin/env bash
# End-to-end training throughput and AUC against the PyTorch reference, in one
# invocation so the ratio holds on a noisy machine (issue 5, item 2).
#   bench/e2e_vs_torch.sh [MODELS] [TRAIN_LINES]   default "lr fm deepfm dlrm" 1000000
# Data: tessera gen-data (TRAIN_LINES train, 200k validation). 1 epoch, batch 1024
# (Tessera: 2 workers x 512, BSP), embedding dim 16, Adam lr 1e-3; DeepFM MLP
# 400-400-400; DLRM bottom 512-256-64(-16), top 512-256 (the reference's defaults).
# Tessera runs 1 scheduler, 1 server, 2 workers on the machine's cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${TESSERA_SHARED_DIR:-$root/../shared}"
models="${1:-lr fm deepfm dlrm}"
lines="${2:-1000000}"
source "$root/bench/torch_compare.sh"
work="$(mktemp -d /tmp/tessera-e2e-XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$root/build/tessera" gen-data --out "$work" --train_lines "$lines" --validation_lines 200000 >/dev/null
echo "data: $lines train, 200000 validation lines; nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-7s %14s %14s %7s %10s %10s\n' model tessera_ex/s torch_ex/s ratio t_auc torch_auc
for m in $models; do
  case "$m" in
    lr) model="kind: LR" ;;
    fm) model="kind: FM embedding_dim: 16" ;;
    deepfm) model="kind: DEEPFM embedding_dim: 16 mlp_hidden: [400, 400, 400]" ;;
    dlrm) model="kind: DLRM embedding_dim: 16 dlrm_bottom_mlp: [512, 256, 64] dlrm_top_mlp: [512, 256]" ;;
    *) echo "unknown model $m"; exit 2 ;;
  esac
  write_job "$work/$m.pbtxt" "$work/train.tsv" "$work/validation.tsv" "$model" "$work/model-$m"
  "$root/launch/tessera-run" --servers 1 --workers 2 -- train --config "$work/$m.pbtxt" \
    > "$work/log-$m.txt" 2>&1 || { echo "tessera $m FAILED"; tail -5 "$work/log-$m.txt"; continue; }
  t_eps=$(metric "$work/model-$m" examples_per_second)
  t_auc=$(metric "$work/model-$m" auc)
  r=$(/usr/bin/python3 "$shared/peers/torch_ctr.py" --train "$work/train.tsv" \
        --test "$work/validation.tsv" --model "$m" --epochs 1 --batch-size 1024 --threads 2 \
        2>&1 | grep RESULT || true)
  p_eps=$(echo "$r" | grep -o 'train_samples_per_s=[0-9.]*' | cut -d= -f2)
  p_auc=$(echo "$r" | grep -o ' auc=[0-9.]*' | cut -d= -f2)
  ratio=$(/usr/bin/python3 -c "print(f'{float(\"$t_eps\")/float(\"${p_eps:-0}\"):.2f}' if \"${p_eps:-0}\" not in ('','0') else 'n/a')")
  printf '%-7s %14.0f %14s %7s %10.5f %10s\n' "$m" "$t_eps" "${p_eps:-n/a}" "$ratio" "$t_auc" "${p_auc:-n/a}"
done

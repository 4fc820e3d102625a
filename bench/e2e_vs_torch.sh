#!/usr/bin/env bash
# End-to-end training throughput and AUC against the PyTorch reference, in one
# invocation so the ratio holds on a noisy machine (issue 5, item 2).
#   bench/e2e_vs_torch.sh [MODELS] [TRAIN_LINES]   default "lr fm deepfm dlrm" 1000000
# Data: tessera gen-data (TRAIN_LINES train, 200k validation). 1 epoch, batch 1024
# (Tessera: 2 workers x 512, BSP), embedding dim 16, Adam lr 1e-3; DeepFM MLP
# 400-400-400; DLRM bottom 512-256-64(-16), top 512-256 (the reference's defaults).
# Tessera runs 1 scheduler, 1 server, 2 workers on the machine's cores; each rank's
# peak resident set (bench/peak_rss) is printed beside its figures, in MiB.
# TESSERA_BUILD_DIRS="build-a build-b" (relative to the repository, default "build")
# runs each build's tessera in turn before the reference: a before/after comparison
# in one invocation.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${TESSERA_SHARED_DIR:-$root/../shared}"
models="${1:-lr fm deepfm dlrm}"
lines="${2:-1000000}"
builds="${TESSERA_BUILD_DIRS:-build}"
source "$root/bench/torch_compare.sh"
work="$(mktemp -d /tmp/tessera-e2e-XXXXXX)"
trap 'rm -rf "$work"' EXIT
first_build="${builds%% *}"
"$root/$first_build/tessera" gen-data --out "$work" --train_lines "$lines" \
  --validation_lines 200000 >/dev/null
echo "data: $lines train, 200000 validation lines; nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-7s %-20s %12s %12s %6s %8s %9s %18s\n' model build tessera_ex/s torch_ex/s ratio t_auc \
  torch_auc 'peak MiB s/srv/w'
# peak_mib DIR RANKS...: the largest peak RSS of those ranks, in MiB.
peak_mib() {
  local dir="$1" max=0 kib
  shift
  for r in "$@"; do
    kib=$(cat "$dir/rank.$r" 2>/dev/null || echo 0)
    ((kib > max)) && max=$kib
  done
  echo $((max / 1024))
}
results=()
for m in $models; do
  case "$m" in
    lr) model="kind: LR" ;;
    fm) model="kind: FM embedding_dim: 16" ;;
    deepfm) model="kind: DEEPFM embedding_dim: 16 mlp_hidden: [400, 400, 400]" ;;
    dlrm) model="kind: DLRM embedding_dim: 16 dlrm_bottom_mlp: [512, 256, 64] dlrm_top_mlp: [512, 256]" ;;
    *) echo "unknown model $m"; exit 2 ;;
  esac
  rows=()
  for b in $builds; do
    rss="$work/rss-$m-${b//\//_}"
    mkdir -p "$rss"
    write_job "$work/$m.pbtxt" "$work/train.tsv" "$work/validation.tsv" "$model" "$work/model-$m"
    rm -rf "$work/model-$m"
    if ! TESSERA_BIN="$root/bench/peak_rss" TESSERA_RSS_BIN="$root/$b/tessera" TESSERA_RSS_DIR="$rss" \
        "$root/launch/tessera-run" --servers 1 --workers 2 -- train --config "$work/$m.pbtxt" \
        > "$work/log-$m.txt" 2>&1; then
      echo "tessera $m ($b) FAILED"; tail -5 "$work/log-$m.txt"; continue
    fi
    peaks="$(peak_mib "$rss" 0)/$(peak_mib "$rss" 1)/$(peak_mib "$rss" 2 3)"
    rows+=("$b $(metric "$work/model-$m" examples_per_second) $(metric "$work/model-$m" auc) $peaks")
  done
  r=$(/usr/bin/python3 "$shared/peers/torch_ctr.py" --train "$work/train.tsv" \
        --test "$work/validation.tsv" --model "$m" --epochs 1 --batch-size 1024 --threads 2 \
        2>&1 | grep RESULT || true)
  p_eps=$(echo "$r" | grep -o 'train_samples_per_s=[0-9.]*' | cut -d= -f2)
  p_auc=$(echo "$r" | grep -o ' auc=[0-9.]*' | cut -d= -f2)
  for row in "${rows[@]}"; do
    read -r b t_eps t_auc peaks <<<"$row"
    ratio=$(/usr/bin/python3 -c "print(f'{float(\"$t_eps\")/float(\"${p_eps:-0}\"):.2f}' if \"${p_eps:-0}\" not in ('','0') else 'n/a')")
    printf '%-7s %-20s %12.0f %12s %6s %8.5f %9s %18s\n' "$m" "$b" "$t_eps" "${p_eps:-n/a}" \
      "$ratio" "$t_auc" "${p_auc:-n/a}" "$peaks"
    case_name="e2e_$m"
    [[ "$builds" == "${builds%% *}" ]] || case_name="e2e_$m@${b//\//_}"  # several builds
    IFS=/ read -r pk_s pk_srv pk_w <<<"$peaks"
    results+=("RESULT case=$case_name tessera_eps=$t_eps torch_eps=${p_eps:-0} tessera_auc=$t_auc torch_auc=${p_auc:-0} peak_scheduler_mib=$pk_s peak_server_mib=$pk_srv peak_worker_mib=$pk_w")
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# The same figures, one machine-readable line each (bench/run's report reads them).
printf '%s\n' "${results[@]}"

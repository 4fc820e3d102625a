#!/usr/bin/env bash
# Checkpoint write and restore throughput of one server (issue 4), against the machine's
# sequential disk write speed measured in the same run: dd writes 1 GiB of zeros with
# conv=fdatasync (median of 3), then checkpoint_bench writes and restores a 10M-row
# Adam table's checkpoint (medians of 3) into a temp dir in the same directory. A server
# writes only its own shard, so with S servers the S shards are written in parallel: the
# per-server MB/s here is what each server sees (on its own disk, or its share of a shared one).
# Skips (exit 1) when MemAvailable is short of ~4x the payload (table, exported copies,
# the serialized file, the restored table) plus 2 GiB. Temp files are removed.
# Then an incremental checkpoint (checkpoint.full_every > 1) of the same table after one
# Adam step on a random --changed fraction of its rows (default 1%), against the full write.
#   bench/checkpoint_bench.sh [--rows=N] [--dir=DIR] [--changed=F]   defaults 10000000, /tmp, 0.01
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${TESSERA_BUILD_DIR:-$root/build}"
rows=10000000
dir=/tmp
changed=0.01
for arg in "$@"; do
  case "$arg" in
    --rows=*) rows="${arg#--rows=}" ;;
    --dir=*) dir="${arg#--dir=}" ;;
    --changed=*) changed="${arg#--changed=}" ;;
    *) echo "usage: $0 [--rows=N] [--dir=DIR] [--changed=F]" >&2; exit 2 ;;
  esac
done
ninja -C "$build" checkpoint_bench >/dev/null

need_kib=$((rows * 48 * 4 * 4 / 1024 + 2 * 1024 * 1024))
avail_kib=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
if ((need_kib > avail_kib)); then
  echo "SKIP checkpoint_$rows needs $((need_kib / 1048576)) GiB, $((avail_kib / 1048576)) GiB available"
  exit 1
fi

echo "bench/checkpoint_bench.sh --rows=$rows --dir=$dir --changed=$changed, $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg), $(df -h --output=source,fstype "$dir" | tail -1)"
ddfile="$(mktemp "$dir/checkpoint_bench_dd.XXXXXX")"
trap 'rm -f "$ddfile"' EXIT
dd_runs=()
for _ in 1 2 3; do
  # dd's last stderr line: "N bytes (...) copied, S s, R MB/s"; bytes / seconds, MB = 10^6.
  line=$(dd if=/dev/zero of="$ddfile" bs=1M count=1024 conv=fdatasync 2>&1 | tail -1)
  dd_runs+=("$(awk -F', ' '{split($1, b, " "); split($3, s, " "); printf "%.1f", b[1] / s[1] / 1e6}' <<<"$line")")
  rm -f "$ddfile"
done
disk=$(printf '%s\n' "${dd_runs[@]}" | sort -g | sed -n 2p)
echo "dd 1 GiB conv=fdatasync MB/s: ${dd_runs[*]}"

both=$(timeout 1800 "$build/bench/checkpoint_bench" --rows="$rows" --dir="$dir" --changed="$changed")
echo "$both"
result=$(grep '^RESULT case=checkpoint_' <<<"$both")
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$result"; }
write=$(field write_mb_s)
restore=$(field restore_mb_s)
echo
echo "| rows | bytes written | write s | write MB/s | restore s | restore MB/s | disk MB/s (dd) | write / disk |"
echo "|---|---|---|---|---|---|---|---|"
echo "| $(field rows) | $(field bytes) | $(field write_s) | $write | $(field restore_s) | $restore | $disk | $(awk -v w="$write" -v d="$disk" 'BEGIN {printf "%.2f", w / d}') |"
incremental=$(grep '^RESULT case=incremental_checkpoint_' <<<"$both" || true)
if [[ -n "$incremental" ]]; then
  result="$incremental"
  echo
  echo "| rows | changed rows | bytes written | write s | full bytes | full write s | full / incremental write time |"
  echo "|---|---|---|---|---|---|---|"
  echo "| $(field rows) | $(field changed_rows) | $(field bytes) | $(field write_s) | $(field full_bytes) | $(field full_write_s) | $(field speedup) |"
fi

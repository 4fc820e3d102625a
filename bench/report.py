#!/usr/bin/env python3
"""Turns the raw output of bench/run (kv_bench RESULT lines, micro_bench JSON) into one
Markdown section: the median of 3 runs of each figure beside its anchor and the ratio.

Usage: report.py OUT_DIR   (OUT_DIR holds kv.N.txt, raw.N.txt, micro.json, state.txt)

Nothing measured is written here: the only numbers in this file are the ANCHORS, which
are other systems' figures, labelled with where they come from.
"""
import glob
import json
import os
import statistics
import sys

# ps-lite on this kind of machine (ZeroMQ 4.3.4, medians of 3), as issue 5 quotes it.
# MB/s of values (push+pull counts both directions); latency in microseconds.
PSLITE = "ps-lite (issue 5)"
ANCHORS_PSLITE = {
    "kv_4096x16_if1_push": 350, "kv_4096x16_if1_pull": 420, "kv_4096x16_if1_pushpull": 608,
    "kv_4096x16_if8_push": 625, "kv_4096x16_if8_pull": 910, "kv_4096x16_if8_pushpull": 1047,
    "kv_4096x64_if1_push": 883, "kv_4096x64_if1_pull": 1224, "kv_4096x64_if1_pushpull": 1324,
    "kv_dense1MiB_if1_push": 2934, "kv_dense1MiB_if1_pull": 2708,
    "kv_dense1MiB_if1_pushpull": 3004,
}
ANCHOR_PSLITE_KEYS_PER_S = {"kv_4096x16_if1_pushpull": 4.75e6}
ANCHOR_PSLITE_LATENCY = {"p50_us": 170, "p99_us": 244}
# Issue 5's targets.
TARGET_PUSHPULL_4096x16_IF1 = 1200  # MB/s, >= 2x ps-lite
TARGET_RAW_FRACTION = 0.5           # push+pull >= 50% of raw ZeroMQ for the same bytes
TARGET_LATENCY_P50_US = 85
# TOOLCHAIN.md "Raw limits": ZeroMQ tcp loopback, one sender, one receiver (MB/s).
TOOLCHAIN = "TOOLCHAIN.md raw tcp"
ANCHORS_RAW = {"raw_4096": 667, "raw_65536": 1383, "raw_1048576": 3224, "raw_8388608": 2917}

# Which raw message size carries the same value bytes as one message of a KV case.
RAW_FOR = {"4096x16": "raw_262144", "4096x64": "raw_1048576", "dense1MiB": "raw_1048576",
           "dense8MiB": "raw_8388608"}


def parse_results(paths):
    """{case: {key: [values over runs]}} from RESULT lines."""
    runs = {}
    for path in paths:
        with open(path) as f:
            for line in f:
                if not line.startswith("RESULT "):
                    continue
                fields = dict(kv.split("=", 1) for kv in line.split()[1:])
                case = fields.pop("case")
                for key, value in fields.items():
                    runs.setdefault(case, {}).setdefault(key, []).append(float(value))
    return runs


def med(values):
    return statistics.median(values)


def fmt(x, digits=0):
    return f"{x:,.{digits}f}"


def human(x):
    """1234567 -> '1.23M', 6135 -> '6.14k'."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.2f}{suffix}"
    return f"{x:.2f}"


def spread(values, digits=0):
    return f"{fmt(min(values), digits)}–{fmt(max(values), digits)}"


def kv_table(kv, raw):
    rows = ["| case | MB/s (median of 3) | runs' range | keys/s | ps-lite | ours / ps-lite |"
            " raw ZeroMQ, same bytes | ours / raw |",
            "|---|---|---|---|---|---|---|---|"]
    for case, f in kv.items():
        if not case.startswith(("kv_", "real_")) or "lat_" in case:
            continue
        mbps = med(f["mbps"])
        anchor = ANCHORS_PSLITE.get(case.replace("real_", "kv_", 1))
        shape = case.split("_")[1]
        raw_case = RAW_FOR.get(shape)
        raw_mbps = med(raw[raw_case]["mbps"]) if raw_case in raw else None
        keys = med(f["keys_per_s"])
        rows.append("| {} | {} | {} | {} | {} | {} | {} | {} |".format(
            case, fmt(mbps), spread(f["mbps"]), human(keys) if keys else "—",
            anchor if anchor else "—", f"{mbps / anchor:.2f}" if anchor else "—",
            f"{fmt(raw_mbps)} ({raw_case})" if raw_mbps else "—",
            f"{mbps / raw_mbps:.2f}" if raw_mbps else "—"))
    return rows


def latency_table(kv, raw):
    rows = ["| round trip, 1 key x 16 floats | p50 us (median of 3) | p99 us | runs' p50 range |"
            " ps-lite p50 / p99 | ours / ps-lite (p50) |",
            "|---|---|---|---|---|---|"]
    cases = [c for c in kv if "lat_" in c] + [c for c in raw if c.startswith("raw_lat")]
    for case in cases:
        f = kv.get(case) or raw.get(case)
        p50, p99 = med(f["p50_us"]), med(f["p99_us"])
        rows.append("| {} | {} | {} | {} | {} / {} | {:.2f} |".format(
            case, fmt(p50, 1), fmt(p99, 1), spread(f["p50_us"], 1),
            ANCHOR_PSLITE_LATENCY["p50_us"], ANCHOR_PSLITE_LATENCY["p99_us"],
            p50 / ANCHOR_PSLITE_LATENCY["p50_us"]))
    return rows


def raw_table(raw):
    rows = ["| raw ZeroMQ tcp loopback, message size | MB/s (median of 3) | runs' range |"
            " TOOLCHAIN.md | ours / TOOLCHAIN |", "|---|---|---|---|---|"]
    for case, f in raw.items():
        if "mbps" not in f:
            continue
        mbps = med(f["mbps"])
        anchor = ANCHORS_RAW.get(case)
        rows.append("| {} bytes | {} | {} | {} | {} |".format(
            case[4:], fmt(mbps), spread(f["mbps"]), anchor if anchor else "—",
            f"{mbps / anchor:.2f}" if anchor else "—"))
    return rows


def targets(kv, raw):
    lines = []
    raw_mbps = med(raw["raw_262144"]["mbps"]) if "raw_262144" in raw else float("nan")
    for prefix in ("kv_", "real_"):
        pp = kv.get(prefix + "4096x16_if1_pushpull")
        if pp:
            mbps = med(pp["mbps"])
            lines.append(
                f"- {prefix}4096x16_if1_pushpull: {fmt(mbps)} MB/s against the target "
                f"{TARGET_PUSHPULL_4096x16_IF1} (2x ps-lite): "
                f"{'met' if mbps >= TARGET_PUSHPULL_4096x16_IF1 else 'NOT met'}; "
                f"{mbps / raw_mbps:.0%} of raw ZeroMQ for 256 KiB messages (target "
                f"{TARGET_RAW_FRACTION:.0%}): "
                f"{'met' if mbps >= TARGET_RAW_FRACTION * raw_mbps else 'NOT met'}; "
                f"{fmt(med(pp['keys_per_s']) / 1e6, 2)}M keys/s against ps-lite's "
                f"{ANCHOR_PSLITE_KEYS_PER_S['kv_4096x16_if1_pushpull'] / 1e6:.2f}M.")
        lat = kv.get(prefix.replace("kv_", "") + "lat_1x16_pull")
        if lat:
            p50 = med(lat["p50_us"])
            lines.append(f"- {prefix.replace('kv_', '')}lat_1x16_pull: p50 {fmt(p50, 1)} us "
                         f"against the target {TARGET_LATENCY_P50_US} us: "
                         f"{'met' if p50 <= TARGET_LATENCY_P50_US else 'NOT met'}.")
    return lines


def micro_table(path):
    with open(path) as f:
        data = json.load(f)
    rows = ["| kernel | time per iteration (median of 3) | items/s | bytes/s |",
            "|---|---|---|---|"]
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        items = b.get("items_per_second")
        bps = b.get("bytes_per_second")
        time, unit = b["real_time"], b["time_unit"]
        if unit == "ns":
            time, unit = time / 1e3, "us"
        rows.append("| {} | {} {} | {} | {} |".format(
            b["run_name"], fmt(time, 1), unit, human(items) if items else "—",
            fmt(bps / 1e6) + " MB/s" if bps else "—"))
    return rows


def main():
    out = sys.argv[1]
    kv = parse_results(sorted(glob.glob(os.path.join(out, "kv.*.txt"))) +
                       sorted(glob.glob(os.path.join(out, "real.*.txt"))))
    raw = parse_results(sorted(glob.glob(os.path.join(out, "raw.*.txt"))))
    with open(os.path.join(out, "state.txt")) as f:
        state = f.read().strip()
    lines = [state, "", "KV push/pull. `kv_*`: `kv_bench`, a forked server process running our "
             "own loop over net::Message framing with ps::SparseTable / ps::DenseStore (Adam) "
             "behind it, pushes acknowledged; push+pull sends a PUSH and a PULL together and "
             "waits for both. `real_*`: `kv_bench --role=real`, ps::PsClient against a forked "
             "ps::Server (BSP, 1 worker): per step a Pull, then an unacknowledged Push, the "
             "worker's pattern. Anchors are ps-lite's figures from issue 5; ratio > 1 is "
             "faster.", ""]
    lines += kv_table(kv, raw)
    lines += ["", "Latency (lower is better; ratio < 1 is faster than ps-lite):", ""]
    lines += latency_table(kv, raw)
    lines += ["", "Raw ZeroMQ, our ceiling (`kv_bench --role=raw`: PAIR sockets, constant "
              "zero-copy messages, a forked receiver; anchors from TOOLCHAIN.md, measured "
              "idle):", ""]
    lines += raw_table(raw)
    lines += ["", "Issue 5's targets:", ""] + targets(kv, raw)
    micro = os.path.join(out, "micro.json")
    if os.path.exists(micro):
        lines += ["", "Microbenchmarks (`micro_bench`, Google Benchmark, 3 repetitions; no "
                  "anchors):", ""] + micro_table(micro)
    print("\n".join(lines))


if __name__ == "__main__":
    main()

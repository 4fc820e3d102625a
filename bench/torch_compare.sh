# Shared by bench/criteo_vs_torch.sh and bench/e2e_vs_torch.sh (sourced, not run):
# the job both comparisons train (1 epoch, 2 workers x 512 examples by default, Adam 1e-3) and
# reading a figure back from metrics.jsonl.

# write_job FILE TRAIN VALIDATION "MODEL BLOCK BODY" MODEL_DIR [BATCH_PER_WORKER, default 512]
write_job() {
  cat > "$1" <<JOB
data { train: "$2" validation: "$3" batch_size: ${6:-512} }
model { $4 }
training { epochs: 1 seed: 1
  sparse_optimizer { kind: ADAM learning_rate: 0.001 }
  dense_optimizer { kind: ADAM learning_rate: 0.001 } }
cluster { progress_interval_s: 0 }
output { model_dir: "$5" }
JOB
}

# metric MODEL_DIR KEY: the last epoch's value of KEY in MODEL_DIR/metrics.jsonl.
metric() {
  grep -o "\"$2\": [0-9.e+-]*" "$1/metrics.jsonl" | tail -1 | cut -d' ' -f2
}

#!/usr/bin/env bash
# The README's first command: set up what is missing (.venv with the pinned stack, the tiny ScanNet
# in mmdet3d's on-disk format), then train the CPU-sized Pointformer VoteNet and evaluate it with
# mmdet3d's IndoorMetric (mAP@0.25 / mAP@0.5). Extra arguments go to tools/train.py, e.g.
# `bash tools/main_job.sh --cfg-options train_cfg.max_epochs=1`.
set -euo pipefail
# One thread unless the caller sets another count: the float reductions, hence the random stream of
# the run and its mAP, depend on the thread count (README numbers: one thread; two threads gave
# 0.328 / 0.178 instead of 0.399 / 0.144), and one thread competes less with other jobs.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="${CONFIG:-configs/pointformer/votenet_pointformer_1xb4-tiny_scannet-3d.py}"
WORK_DIR="${WORK_DIR:-work_dirs/main_job}"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
"$PY" tools/dataset_converters/make_tiny_data.py scannet --out data/tiny/scannet
exec "$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"

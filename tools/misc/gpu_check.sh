#!/usr/bin/env bash
# CUDA checks on a GPU machine that has PyTorch but not the OpenMMLab stack (and maybe no network):
#
#   bash tools/misc/gpu_check.sh WHEEL_DIR [OUT_DIR]
#
# WHEEL_DIR holds pure-Python wheels of the stack (mmengine, mmpretrain, mmdet, mmdet3d and their
# small needs) and mmcv-2.1.0.tar.gz. The script
#   1. installs the wheels into a private site dir (nothing system-wide is touched);
#   2. starts a full mmcv 2.1.0 CUDA build in the background (FORCE_CUDA=1, this GPU's arch only);
#   3. meanwhile uses mmcv's pure-Python part (no compiled ops) to
#      a. compare every dynamicnet point op on CUDA with its CPU version and with mmcv's own CUDA
#         kernels, JIT-compiled from the unchanged mmcv source (tools/misc/gpu_check_point_ops.py),
#      b. train the tiny GroupNorm classifier on the GPU through tools/train.py, with and without
#         --amp (the mmengine Runner's CUDA path);
#   4. if the full mmcv build (skipped with GPU_CHECK_FULL_BUILD=0) finished in time
#      (GPU_CHECK_BUILD_DEADLINE seconds, default 330),
#      trains the tiny Pointformer VoteNet on CUDA through mmdet3d with mmcv's real kernels, and
#      runs the gpu-marked tests.
# Logs go to OUT_DIR (default ./gpu_check_out); the exit status is non-zero if a check failed.
# Known limit: mmpretrain 1.2.0 does not import where transformers >= 5 is installed (its BLIP
# module subclasses transformers' PreTrainedModel, which moved); put a transformers 4.x wheel in
# WHEEL_DIR on such machines, or step 3b fails at import.
set -uo pipefail
WHEELS="$(cd "$1" && pwd)"
OUT_DIR="$(mkdir -p "${2:-gpu_check_out}" && cd "${2:-gpu_check_out}" && pwd)"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEADLINE="${GPU_CHECK_BUILD_DEADLINE:-330}"
PY="${PYTHON:-python3}"
START=$(date +%s)
SITE=/tmp/dynamicnet_gpu_site
WORK=/tmp/dynamicnet_gpu_work
rm -rf "$SITE" "$WORK" && mkdir -p "$SITE" "$WORK"
status=0
step() { echo "[gpu_check +$(( $(date +%s) - START ))s] $*"; }

step "installing wheels"
"$PY" -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$WHEELS"/*.whl \
    > "$OUT_DIR/pip.log" 2>&1 || { step "pip failed"; tail "$OUT_DIR/pip.log"; exit 2; }
tar -xzf "$WHEELS"/mmcv-2.1.0.tar.gz -C "$WORK"
SRC="$WORK/mmcv-2.1.0"
sed -i "s/'-std=c++17'/'-std=c++20'/g; s/'-std=c++14'/'-std=c++17'/g" "$SRC/setup.py"
mkdir -p "$WORK/lite" && cp -r "$SRC/mmcv" "$WORK/lite/mmcv"
export PYTHONPATH="$ROOT:$SITE:$WORK/lite"
export MPLBACKEND=Agg

ARCH="$("$PY" -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability())')"
FULL_BUILD="${GPU_CHECK_FULL_BUILD:-1}"
[[ "$FULL_BUILD" == 1 ]] && step "background: full mmcv CUDA build for sm_$ARCH"
[[ "$FULL_BUILD" == 1 ]] && (cd "$SRC" && PYTHONPATH="$SITE" MMCV_WITH_OPS=1 FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST="$ARCH" \
    MAX_JOBS="$(( $(nproc) - 2 ))" "$PY" setup.py build_ext --inplace > "$OUT_DIR/mmcv_build.log" 2>&1; \
    echo $? > "$WORK/build_rc") &

cd "$ROOT"
step "point ops: dynamicnet CUDA vs CPU vs mmcv's JIT-compiled kernels"
"$PY" tools/misc/gpu_check_point_ops.py --mmcv-src "$SRC" --skip-train 2>&1 | tee "$OUT_DIR/point_ops.log"
[[ ${PIPESTATUS[0]} == 0 ]] || status=1

step "tiny classification on CUDA through tools/train.py (fp32, then --amp)"
"$PY" tools/dataset_converters/make_tiny_data.py imagenet --out "$WORK/data/imagenet" > "$OUT_DIR/data.log" 2>&1
for amp in "" "--amp"; do
    "$PY" tools/train.py tests/data/configs/tiny_cls_gn.py --work-dir "$WORK/cls$amp" $amp \
        --cfg-options train_cfg.max_epochs=2 \
        train_dataloader.dataset.data_root="$WORK/data/imagenet" \
        val_dataloader.dataset.data_root="$WORK/data/imagenet" \
        test_dataloader.dataset.data_root="$WORK/data/imagenet" > "$OUT_DIR/cls$amp.log" 2>&1 \
        || { status=1; step "FAIL cls$amp"; tail -20 "$OUT_DIR/cls$amp.log"; }
    grep -E "Epoch\(val\).*accuracy|device|cuda" "$OUT_DIR/cls$amp.log" | tail -3
done

step "waiting for the mmcv build (deadline ${DEADLINE}s)"
while [[ "$FULL_BUILD" == 1 && ! -f "$WORK/build_rc" && $(( $(date +%s) - START )) -lt $DEADLINE ]]; do
    sleep 5
done
if [[ -f "$WORK/build_rc" && "$(cat "$WORK/build_rc")" == 0 ]]; then
    export PYTHONPATH="$ROOT:$SITE:$SRC"
    step "mmcv CUDA build done: real mmcv kernels, VoteNet+Pointformer training on CUDA, gpu tests"
    "$PY" tools/misc/gpu_check_point_ops.py --iters 5 2>&1 | tee "$OUT_DIR/point_ops_mmcv.log"
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
    "$PY" -m pytest -q -m gpu -p no:cacheprovider tests 2>&1 | tail -15 | tee "$OUT_DIR/pytest_gpu.log"
    [[ ${PIPESTATUS[0]} == 0 ]] || status=1
else
    step "mmcv CUDA build not finished or failed: mmdet3d training on CUDA not checked"
    tail -5 "$OUT_DIR/mmcv_build.log"
fi
step "done, status $status"
exit $status

#!/usr/bin/env bash
# Set up (or verify) the project-local environment `.venv` with the pinned OpenMMLab stack.
#
# Idempotent: a second run checks a stamp and returns in about a second. mmcv 2.1.0 is compiled
# from source once (20-30 minutes on 2 cores) and the built wheel is kept in
# $DYNAMICNET_WHEEL_CACHE (default ~/.cache/dynamicnet/wheels), so later installs, a fresh clone
# or CI on the same machine, skip the compile.
#
# Every workaround for the stack lives here or in dynamicnet/utils/compat.py, each explained:
#   * torch 2.14.1 + torchvision 0.29.1 from the machine's local wheel store: mmpretrain imports
#     torchvision at import time and no other pair works here.
#   * mmcv 2.1.0 (the last release accepted by mmdet 3.3 / mmdet3d 1.4 / mmseg 1.2.2) is only a
#     source distribution; its setup.py forces -std=c++17 while torch 2.14's headers need C++20,
#     so the flag is patched. FORCE_CUDA=1 is set automatically where nvcc and CUDA torch exist.
#   * mmdet3d 1.4.0, nuscenes-devkit and lyft_dataset_sdk are installed with --no-deps: their
#     declared pins (numpy<2, an old matplotlib built from source) cannot install here.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DYNAMICNET_VENV:-$ROOT/.venv}"
PY_BOOT="${PYTHON:-python3.11}"
command -v "$PY_BOOT" >/dev/null 2>&1 || PY_BOOT=python3
WHEELS="${DYNAMICNET_WHEEL_CACHE:-$HOME/.cache/dynamicnet/wheels}"
REQ="$ROOT/requirements"

STAMP_INPUT="$(cat "$REQ"/*.txt "$ROOT/setup.py" "$0" | sha256sum | cut -c1-16)"
STAMP="$VENV/.dynamicnet-env-$STAMP_INPUT"
if [[ -f "$STAMP" ]]; then
    exit 0
fi

log() { echo "[setup_env] $*" >&2; }

# The CUDA build of torch and its libraries take about 6.5 GiB in the venv; pip unpacks them in
# $TMPDIR first. Fail here with the numbers rather than midway with pip's "No space left".
NEED_GIB=8
if ! "$VENV/bin/python" -c 'import torch' >/dev/null 2>&1; then
    for dir in "$VENV" "${TMPDIR:-/tmp}"; do
        while [[ ! -d "$dir" ]]; do dir="$(dirname "$dir")"; done
        free_kib="$(df -Pk "$dir" | awk 'NR == 2 {print $4}')"
        if (( free_kib < NEED_GIB * 1024 * 1024 )); then
            echo "[setup_env] error: $dir has $((free_kib / 1024)) MiB free; installing the" \
                "stack into $VENV needs about $NEED_GIB GiB. Free space there (or set" \
                "DYNAMICNET_VENV / TMPDIR to a larger disk) and rerun." >&2
            exit 1
        fi
    done
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV"
    "$PY_BOOT" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --disable-pip-version-check -q)

log "build tools and torch"
"${PIP[@]}" -r "$REQ/build.txt"
"${PIP[@]}" -r "$REQ/torch.txt"

# CUDA kernels are compiled where a GPU is visible (or FORCE_CUDA=1 is set) and nvcc exists.
CUDA_TAG=cpu
if command -v nvcc >/dev/null 2>&1 && { [[ "${FORCE_CUDA:-0}" == 1 ]] || \
        "$PY" -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)'; }; then
    CUDA_TAG=cuda
fi
TORCH_VER="$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')"
MMCV_DIR="$WHEELS/mmcv-2.1.0-torch$TORCH_VER-$CUDA_TAG"
if ! "$PY" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"' 2>/dev/null; then
    if ! ls "$MMCV_DIR"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
        log "building mmcv 2.1.0 with ops ($CUDA_TAG), once: 20-30 minutes on 2 cores"
        BUILD="$(mktemp -d)"
        "$PY" -m pip download --disable-pip-version-check -q --no-deps --no-binary mmcv \
            --no-build-isolation -d "$BUILD" mmcv==2.1.0
        tar -xzf "$BUILD"/mmcv-2.1.0.tar.gz -C "$BUILD"
        sed -i "s/'-std=c++17'/'-std=c++20'/g" "$BUILD/mmcv-2.1.0/setup.py"
        mkdir -p "$MMCV_DIR"
        if [[ "$CUDA_TAG" == cuda ]]; then export FORCE_CUDA=1; fi
        MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" "$PY" -m pip wheel --no-build-isolation \
            --no-deps -w "$MMCV_DIR" "$BUILD/mmcv-2.1.0"
        rm -rf "$BUILD"
    fi
    "${PIP[@]}" --no-deps "$MMCV_DIR"/mmcv-2.1.0-*.whl
fi

log "OpenMMLab packages and runtime requirements"
"${PIP[@]}" -r "$REQ/runtime.txt" -r "$REQ/tests.txt" \
    mmengine==0.10.7 mmdet==3.3.0 mmpretrain==1.2.0 mmsegmentation==1.2.2 \
    -c <(grep -hv '^#' "$REQ/runtime.txt" "$REQ/build.txt" "$REQ/torch.txt")
log "mmdet3d 1.4.0 (--no-deps) and its real import-time needs (pip then lists the declared pins"
log "of mmdet3d, nuscenes-devkit and lyft_dataset_sdk as conflicts: expected, see requirements/optional.txt)"
"${PIP[@]}" --no-deps mmdet3d==1.4.0 nuscenes-devkit==1.2.0 lyft_dataset_sdk==0.0.8
"${PIP[@]}" -r "$REQ/optional.txt" -c <(grep -hv '^#' "$REQ/runtime.txt" "$REQ/build.txt" "$REQ/torch.txt")
log "dynamicnet (editable)"
"${PIP[@]}" --no-deps --no-build-isolation -e "$ROOT"

"$PY" - <<'PYCHECK'
import mmcv, mmcv.ops, mmdet, mmdet3d, mmpretrain, mmseg, mmengine, torch, torchvision, numpy
import dynamicnet
print('[setup_env] torch', torch.__version__, 'torchvision', torchvision.__version__,
      'mmcv', mmcv.__version__, 'mmengine', mmengine.__version__, 'mmdet', mmdet.__version__,
      'mmdet3d', mmdet3d.__version__, 'mmpretrain', mmpretrain.__version__,
      'mmseg', mmseg.__version__, 'numpy', numpy.__version__)
PYCHECK
rm -f "$VENV"/.dynamicnet-env-*
touch "$STAMP"

#!/usr/bin/env bash
# The long recipe, as run on a lent GPU machine (no internet there): render the synthetic
# dataset with all cores, then train with ultralytics. Stage 1 from scratch; stage 2 fine-tunes
# stage 1's best weights. Usage: scripts/train_gpu.sh STAGE IMAGES MINUTES  (writes to $OUT)
set -euo pipefail
STAGE=${1:-1}; IMAGES=${2:-16000}; MINUTES=${3:-8}
OUT=${OUT:-out}; mkdir -p "$OUT"
LIB=/tmp/pylib
if [ ! -d $LIB/ultralytics ]; then
  python3 -m pip install -q --no-deps --target $LIB .gpu/wheels/*.whl .gpu/wheels312/*.whl
  mkdir -p $LIB/polars && echo "# offline shim: ultralytics only needs polars for CSV summaries" > $LIB/polars/__init__.py
fi
export PYTHONPATH=$LIB:$PWD YOLO_OFFLINE=1
DS=/tmp/kitchen-ds
if [ ! -f $DS/data.yaml ]; then
  python3 -c "from pathlib import Path; from vision.synth.dataset import write_dataset; write_dataset(Path('$DS'), $IMAGES, val_fraction=0.06, test_fraction=0.06, workers=15)"
fi
H=$(python3 -c "print($MINUTES/60)")
if [ "$STAGE" = 1 ]; then
  python3 -m vision.train --data $DS/data.yaml --model yolo11n.yaml --imgsz 640 --batch 64 --workers 14 \
    --device 0 --time-h $H --epochs 200 --out /tmp/runs --name s1 --cache ram 2>&1 | tail -40
  cp /tmp/runs/s1/weights/best.pt "$OUT/s1-best.pt"; cp /tmp/runs/s1/results.csv "$OUT/s1-results.csv"
else
  S1=/tmp/runs/s1/weights/best.pt; [ -f $S1 ] || S1=.gpu/s1-best.pt
  python3 -m vision.train --data $DS/data.yaml --model $S1 --imgsz 640 --batch 64 --workers 14 \
    --device 0 --time-h $H --epochs 200 --out /tmp/runs --name s2 --cache ram --lr0 0.0005 --warmup-epochs 0 2>&1 | tail -40
  cp /tmp/runs/s2/weights/best.pt "$OUT/s2-best.pt"; cp /tmp/runs/s2/results.csv "$OUT/s2-results.csv"
fi

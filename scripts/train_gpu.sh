#!/usr/bin/env bash
# The long recipe, as run on a lent GPU machine (no internet there): render the synthetic
# dataset with all cores, then train with ultralytics. Stage 1 from scratch; stage 2 fine-tunes
# the previous stage's best weights. Shipped model: stages 1, 2, 3 of 7, 8 and 6 minutes on one
# H100 (models/kitchen-yolo11n.md). Usage: scripts/train_gpu.sh STAGE IMAGES MINUTES  (writes to $OUT)
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
  # Stage N fine-tunes stage N-1 (on this machine if it is still there, else the carried copy)
  # with AdamW and a lower learning rate: stage 2 at 5e-4, stage 3 at 3e-4.
  PREV=s$((STAGE - 1)); LR=$([ "$STAGE" = 2 ] && echo 0.0005 || echo 0.0003)
  W=/tmp/runs/$PREV/weights/best.pt; [ -f $W ] || W=.gpu/$PREV-best.pt
  python3 -m vision.train --data $DS/data.yaml --model $W --imgsz 640 --batch 64 --workers 14 \
    --device 0 --time-h $H --epochs 200 --out /tmp/runs --name s$STAGE --cache ram --lr0 $LR --warmup-epochs 0 2>&1 | tail -40
  cp /tmp/runs/s$STAGE/weights/best.pt "$OUT/s$STAGE-best.pt"; cp /tmp/runs/s$STAGE/results.csv "$OUT/s$STAGE-results.csv"
fi

"""COCO keypoint AP of any MoveNet file: ``python eval/evaluate.py +exp=thunder checkpoint=PATH annotations=JSON
images=DIR protocol=single_person output=DIR`` (see configs/eval.yaml and the README)."""

from movenet_train.jobs import evaluate

if __name__ == "__main__":
    evaluate.main()

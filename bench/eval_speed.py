"""Benchmark (not a test): images/s of the COCO keypoint eval, per model file, and the cost of the metric.

    python bench/eval_speed.py [--checkpoint PATH ...] [--annotations JSON --images DIR] [--repeats 3]

Defaults: the released TF.js Lightning (run as a Keras model) and the official int8 TFLite Lightning from
../shared, on the COCO sample's single_person images. For each file it prints the load time, the first eval
(tf.function tracing included), then the steady end-to-end rate (decode, letterbox, model, pycocotools) and the
model-only rate. The last part times pycocotools' COCOeval on a scaled-up ground truth, and faster-coco-eval
beside it when that package is importable, checking that both give the same numbers.
"""

import argparse
import copy
import os
import pathlib
import platform
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("MOVENET_SHARED_DIR", REPO.parent / "shared"))
DEFAULT_CHECKPOINTS = [
    SHARED / "reference_models" / "tfjs_human_models" / "movenet-lightning.json",
    SHARED / "reference_models" / "tflite" / "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite",
]
COCO_SAMPLE = SHARED / "data" / "coco_sample"


class TimedPredictor:
    """Passes calls through to a predictor and adds up the seconds spent in them."""

    def __init__(self, predictor):
        self.predictor, self.seconds = predictor, 0.0
        self.kind, self.multi_pose, self.input_size = predictor.kind, predictor.multi_pose, predictor.input_size
        self.schema = predictor.schema

    def __call__(self, images):
        start = time.perf_counter()
        try:
            return self.predictor(images)
        finally:
            self.seconds += time.perf_counter() - start


def bench_checkpoint(path, args):
    from movenet_train.evaluation import evaluate
    from movenet_train.runtime import load_predictor

    start = time.perf_counter()
    predictor = TimedPredictor(load_predictor(path, num_threads=args.num_threads))
    load_s = time.perf_counter() - start
    protocol = "multi_person" if predictor.multi_pose else "single_person"
    kwargs = dict(annotations=args.annotations, images=args.images, protocol=protocol, batch_size=args.batch_size,
                  progress=False)
    start = time.perf_counter()
    metrics = evaluate(predictor, **kwargs)
    first_s = time.perf_counter() - start
    predictor.seconds, total_s = 0.0, 0.0
    for _ in range(args.repeats):
        start = time.perf_counter()
        evaluate(predictor, **kwargs)
        total_s += time.perf_counter() - start
    n = metrics["num_images"] * args.repeats
    print(f"{pathlib.Path(path).name} ({predictor.kind}, {protocol}, {metrics['num_images']} images, "
          f"AP {metrics['AP']:.3f}): load {load_s:.1f} s, first eval {first_s:.1f} s; "
          f"steady {n / total_s:.1f} images/s end to end, {n / predictor.seconds:.1f} images/s in the model")


def scaled_ground_truth(annotations, copies, seed=0):
    """The sample's ground truth repeated ``copies`` times, and jittered copies of it as results."""
    import json

    with open(annotations) as f:
        data = json.load(f)
    rng = np.random.default_rng(seed)
    images, anns, results = [], [], []
    for c in range(copies):
        offset = (c + 1) * 10**7
        images += [dict(image, id=image["id"] + offset) for image in data["images"]]
        for ann in data["annotations"]:
            anns.append(dict(ann, id=ann["id"] + offset, image_id=ann["image_id"] + offset))
            if ann["num_keypoints"] and rng.uniform() < 0.9:
                kp = np.array(ann["keypoints"], np.float64).reshape(17, 3)
                kp[:, :2] += rng.normal(0, 0.05 * np.sqrt(ann["area"]), (17, 2))  # 5% of the person's scale
                kp[:, 2] = rng.uniform(0, 1, 17)
                results.append({"image_id": ann["image_id"] + offset, "category_id": 1,
                                "keypoints": kp.reshape(-1).tolist(), "score": float(rng.uniform())})
    return dict(data, images=images, annotations=anns), results


def bench_metric(args):
    from movenet_train.evaluation import coco_metrics

    ground_truth, results = scaled_ground_truth(args.annotations, args.metric_copies)
    image_ids = [image["id"] for image in ground_truth["images"]]
    start = time.perf_counter()
    stats = coco_metrics.keypoint_ap(copy.deepcopy(ground_truth), copy.deepcopy(results), image_ids).stats
    py_s = time.perf_counter() - start
    print(f"pycocotools COCOeval: {len(image_ids)} images, {len(results)} results: {py_s:.2f} s "
          f"({len(image_ids) / py_s:.0f} images/s), AP {stats['AP']:.4f}")
    try:
        import faster_coco_eval
        from faster_coco_eval import COCO, COCOeval_faster
    except ImportError:
        print("faster-coco-eval: not installed (pip install faster-coco-eval to compare)")
        return
    start = time.perf_counter()
    gt = COCO(copy.deepcopy(ground_truth))
    evaluator = COCOeval_faster(gt, gt.loadRes(copy.deepcopy(results)), iouType="keypoints",
                                print_function=lambda *a: None)
    evaluator.params.imgIds = image_ids
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    fast_s = time.perf_counter() - start
    fast = dict(zip(coco_metrics.STAT_NAMES, evaluator.stats[:10]))
    worst = max(abs(fast[k] - stats[k]) for k in coco_metrics.STAT_NAMES)
    print(f"faster-coco-eval {faster_coco_eval.__version__}: {fast_s:.2f} s ({len(image_ids) / fast_s:.0f} images/s), "
          f"AP {fast['AP']:.4f}, largest difference over the 10 stats {worst:.2e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", action="append", help="model file (repeatable); default: see above")
    parser.add_argument("--annotations", default=str(COCO_SAMPLE / "person_keypoints_sample.json"))
    parser.add_argument("--images", default=str(COCO_SAMPLE / "images"))
    parser.add_argument("--repeats", type=int, default=3, help="steady-state evals after the first")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--num-threads", type=int, default=None, help="TFLite interpreter threads")
    parser.add_argument("--metric-copies", type=int, default=100, help="copies of the sample for the metric timing")
    args = parser.parse_args()

    load = os.getloadavg()
    print(f"{platform.node()}: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {load[0]:.1f} at start (other work on the machine slows these figures)")
    for path in args.checkpoint or DEFAULT_CHECKPOINTS:
        bench_checkpoint(str(path), args)
    bench_metric(args)


if __name__ == "__main__":
    main()

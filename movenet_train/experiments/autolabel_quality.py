"""How good are autolabel's labels? (``python experiments/autolabel_quality.py``, configs/autolabel_quality.yaml)

Each variant labels the images of a hand-labelled COCO set with ``people=multi`` (the same detector finds the
people for all), its labeller and transforms; the annotations are read only to score the labels afterwards:
multi-person COCO keypoint AP (pycocotools, every image of the set, the labels' ``score`` ranking the people) and
the paired bootstrap interval of each variant's change over the ``baseline`` variant (the single pass), images
resampled as ``experiments/folds.py`` does. The labels are matched to the annotation file's images by file name.
Each variant's labels stay under ``<output>/<variant>/`` (a rerun resumes them); ``results.json`` holds the figures.
"""

import os

from movenet_train.errors import UserError
from movenet_train.evaluation import bootstrap, coco_metrics, inputs
from movenet_train.evaluation.protocols import is_person_with_keypoints


def score_labels(labels, ground_truth, schema):
    """``KeypointAP`` of a labels dict (``coco_writer.dataset``) on every image of ``ground_truth``, the labels'
    images matched by file name (labels of images the ground truth lacks are left out)."""
    from movenet_train.autolabel import coco_writer

    ids = {image["file_name"]: image["id"] for image in ground_truth["images"]}
    names = {image["id"]: image["file_name"] for image in labels["images"]}
    results = []
    for result in coco_writer.results(labels):
        name = names[result["image_id"]]
        if name in ids:
            results.append({**result, "image_id": ids[name]})
    return coco_metrics.keypoint_ap(ground_truth, results, [i["id"] for i in ground_truth["images"]], schema)


def run(cfg):
    """Labels (or resumes) every variant, scores it; returns the report (also ``<output>/results.json``)."""
    from omegaconf import OmegaConf

    from movenet_train.autolabel import coco_writer
    from movenet_train.autolabel.labelling import autolabel
    from movenet_train.autolabel.options import Options
    from movenet_train.keypoints import DEFAULT_SCHEMA
    from movenet_train.runtime import load_predictor

    variants = OmegaConf.to_container(cfg.variants, resolve=True)
    if cfg.baseline not in variants:
        raise UserError(f"baseline={cfg.baseline!r} is not one of variants: {', '.join(variants)}")
    ground_truth = inputs.read_annotations(cfg.annotations, DEFAULT_SCHEMA)
    people = sum(map(is_person_with_keypoints, ground_truth["annotations"]))
    work = os.path.abspath(cfg.output)
    loaded = {}

    def model(path):
        return lambda: loaded.setdefault(path, load_predictor(path))

    scored = {}
    for name, variant in variants.items():
        unknown = set(variant) - {"checkpoint", "transforms"}
        if unknown:
            raise UserError(f"variants.{name}: unknown keys {sorted(unknown)} (known: checkpoint, transforms)")
        options = Options.defaults(**OmegaConf.to_container(cfg.autolabel, resolve=True), people="multi",
                                   transforms=variant.get("transforms", []))
        detector = None if variant["checkpoint"] == cfg.detector else model(cfg.detector)
        autolabel(model(variant["checkpoint"]), cfg.images, os.path.join(work, name), options, detector=detector,
                  progress=cfg.progress, models={"checkpoint": os.path.abspath(variant["checkpoint"]),
                                                 "detector": os.path.abspath(cfg.detector)})
        labels = coco_writer.read_labels(os.path.join(work, name, coco_writer.LABELS_FILE), DEFAULT_SCHEMA)
        scored[name] = (score_labels(labels, ground_truth, DEFAULT_SCHEMA), len(labels["annotations"]))

    baseline = scored[cfg.baseline][0]
    report = {"annotations": os.path.abspath(cfg.annotations), "images": len(ground_truth["images"]),
              "people": people, "baseline": cfg.baseline, "detector": os.path.abspath(cfg.detector),
              "options": OmegaConf.to_container(cfg.autolabel, resolve=True), "variants": {}}
    for name, (ap, labelled) in scored.items():
        entry = {**variants[name], "AP": ap.stats["AP"], "AP50": ap.stats["AP50"], "AP75": ap.stats["AP75"],
                 "AR": ap.stats["AR"], "labelled_people": labelled}
        if name != cfg.baseline:
            change = bootstrap.paired_difference(baseline.matches, ap.matches, cfg.bootstrap.resamples,
                                                 cfg.bootstrap.seed)
            entry["change"] = {**change, "num_people": people}
        report["variants"][name] = entry
    coco_writer.write_json(os.path.join(work, "results.json"), report, indent=1)
    return report


def format_report(report):
    """One line per variant: AP, and its change over the baseline with the interval."""
    lines = [f"multi-person keypoint AP of people=multi labels, {report['images']} images, {report['people']} "
             f"people (labels scored against {report['annotations']})"]
    for name, entry in report["variants"].items():
        line = f"{name:<34} AP {entry['AP']:.3f}  ({entry['labelled_people']} labelled people)"
        if "change" in entry:
            line += f"  vs {report['baseline']}: " + bootstrap.format_difference(entry["change"], report["people"])
        lines.append(line)
    return "\n".join(lines)

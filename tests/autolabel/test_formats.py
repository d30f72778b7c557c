"""The labels open where users open them: data/prepare_coco.py as it is, pycocotools, Datumaro's
``coco_person_keypoints`` (CVAT's COCO importer) and Label Studio's COCO converter. The last two are the optional
``labeling`` extra (pip install -e ".[labeling]"); their tests skip, saying so, without it."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from movenet_train.autolabel import coco_writer
from movenet_train.autolabel.labelling import autolabel
from movenet_train.autolabel.options import Options
from movenet_train.keypoints import COCO_17
from tests.autolabel.standins import KnownPose, two_tone
from tests.in_process import run_main

# An upright COCO-17 person, normalised over the model input; the left wrist (0.1) is left unlabelled.
COCO_POSE = [[0.2, 0.5, 0.9], [0.18, 0.52, 0.9], [0.18, 0.48, 0.9], [0.2, 0.55, 0.8], [0.2, 0.45, 0.8],
             [0.3, 0.6, 0.9], [0.3, 0.4, 0.9], [0.42, 0.63, 0.8], [0.42, 0.37, 0.8], [0.52, 0.64, 0.1],
             [0.52, 0.36, 0.7], [0.55, 0.57, 0.9], [0.55, 0.43, 0.9], [0.7, 0.57, 0.8], [0.7, 0.43, 0.8],
             [0.85, 0.57, 0.7], [0.85, 0.43, 0.7]]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """(labels file, image folder) of three stand-in-labelled images."""
    root = tmp_path_factory.mktemp("formats")
    images = root / "images"
    images.mkdir()
    for name, size in (("a.jpg", (96, 64)), ("b.jpg", (80, 80)), ("c.png", (64, 120))):
        Image.fromarray(two_tone(*size)).save(images / name)
    options = Options.defaults(transforms=[], min_keypoint_score=0.3, contact_sheet={"enabled": False})
    autolabel(KnownPose(COCO_POSE, schema=COCO_17), str(images), str(root / "labels"), options, progress=False)
    return root / "labels" / coco_writer.LABELS_FILE, images


def test_prepare_coco_converts_the_labels_as_they_are(labelled, tmp_path):
    from movenet_train.evaluation.inputs import record_source
    from movenet_train.jobs import prepare_coco

    labels_path, images = labelled
    result = run_main(prepare_coco.main, f"annotations={labels_path}", f"images={images}",
                      f"output={tmp_path / 'records'}", "num_workers=0", "strict=true")
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((tmp_path / "records" / "train-manifest.json").read_text())
    assert manifest["counts"]["examples"] == 3 and manifest["counts"]["skipped_images"] == 0
    labels = json.loads(labels_path.read_text())
    ground_truth, samples = record_source(str(tmp_path / "records" / "train-*.tfrecord"), COCO_17)
    read = {s.image["file_name"]: s.annotations for s in samples}
    for image in labels["images"]:
        (ann,) = [a for a in labels["annotations"] if a["image_id"] == image["id"]]
        (back,) = read[image["file_name"]]
        np.testing.assert_allclose(back["keypoints"], ann["keypoints"], atol=1e-3)
        assert back["num_keypoints"] == ann["num_keypoints"]
    # c.png (120x64) is letterboxed into a square reaching 28 px above and below it (y = -28 + 120 y): the head
    # (y < 0) and the ankles (y = 74 > 64), found there, are unlabelled
    assert [a["num_keypoints"] for a in labels["annotations"]] == [16, 16, 9]


def test_pycocotools_reads_the_labels_and_scores_them_perfect_against_themselves(labelled):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    labels_path, _ = labelled
    ground_truth = COCO(str(labels_path))
    assert len(ground_truth.getImgIds()) == 3 and len(ground_truth.getAnnIds()) == 3
    evaluator = COCOeval(ground_truth, ground_truth.loadRes(coco_writer.results(json.loads(labels_path.read_text()))),
                         iouType="keypoints")
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    assert evaluator.stats[0] == pytest.approx(1.0)


def test_datumaro_imports_the_labels_as_coco_person_keypoints(labelled, tmp_path):
    datumaro = pytest.importorskip("datumaro", reason="Datumaro is in the optional labeling extra: "
                                   "pip install -e '.[labeling]'")
    labels_path, images = labelled
    # the layout Datumaro and CVAT's COCO import expect: annotations/person_keypoints_<subset>.json, images/<subset>/
    (tmp_path / "annotations").mkdir()
    shutil.copy(labels_path, tmp_path / "annotations" / "person_keypoints_default.json")
    shutil.copytree(images, tmp_path / "images" / "default")
    dataset = datumaro.Dataset.import_from(str(tmp_path), "coco_person_keypoints")
    labels = json.loads(labels_path.read_text())
    names = {i["id"]: i["file_name"].rsplit(".", 1)[0] for i in labels["images"]}
    items = {item.id: item for item in dataset}
    assert set(items) == set(names.values())
    for ann in labels["annotations"]:
        (points,) = [a for a in items[names[ann["image_id"]]].annotations
                     if isinstance(a, datumaro.components.annotation.Points)]
        keypoints = np.reshape(ann["keypoints"], (-1, 3))
        np.testing.assert_allclose(np.reshape(points.points, (-1, 2)), keypoints[:, :2])
        assert [int(v) for v in points.visibility] == keypoints[:, 2].astype(int).tolist()
        assert points.attributes["score"] == ann["score"]


def test_label_studio_converts_the_labels(labelled, tmp_path):
    pytest.importorskip("label_studio_sdk", reason="label-studio-sdk is in the optional labeling extra: "
                        "pip install -e '.[labeling]'")
    from label_studio_sdk.converter.imports.coco import convert_coco_to_ls

    labels_path, _ = labelled
    out = tmp_path / "tasks.json"
    convert_coco_to_ls(str(labels_path), str(out), image_root_url="/data/local-files/?d=images/")
    tasks = json.loads(out.read_text())
    labels = json.loads(labels_path.read_text())
    assert len(tasks) == 3
    for task, image in zip(sorted(tasks, key=lambda t: t["data"]["image"]), labels["images"]):
        assert task["data"]["image"].endswith(image["file_name"])
        (ann,) = [a for a in labels["annotations"] if a["image_id"] == image["id"]]
        points = [r for r in task["annotations"][0]["result"] if r["type"] == "keypointlabels"]
        assert len(points) == 17
        for point, (x, y, v) in zip(points, np.reshape(ann["keypoints"], (-1, 3))):
            assert point["value"].get("hidden", False) == (v < 2)
            if v:
                assert point["value"]["x"] == pytest.approx(100 * x / image["width"])
                assert point["value"]["y"] == pytest.approx(100 * y / image["height"])


def test_label_studio_tasks_name_every_joint_and_export_back_as_coco(labelled, tmp_path):
    from movenet_train.autolabel import label_studio

    labels_path, _ = labelled
    labels = json.loads(labels_path.read_text())
    config = label_studio.label_config(COCO_17)
    assert config.count("<Label ") == 17 and 'value="left_knee" model_index="13"' in config
    tasks = label_studio.tasks(labels, "/data/local-files/?d=images/", as_annotations=True)
    (first,) = tasks[0]["annotations"]
    assert [r["value"]["keypointlabels"] for r in first["result"]][:2] == [["nose"], ["left_eye"]]
    assert len(first["result"]) == labels["annotations"][0]["num_keypoints"]
    pytest.importorskip("label_studio_sdk", reason="label-studio-sdk is in the optional labeling extra: "
                        "pip install -e '.[labeling]'")
    from label_studio_sdk.converter import Converter

    # what Label Studio's JSON export holds for these tasks, through its own COCO exporter
    export = [{"id": i + 1, **task} for i, task in enumerate(tasks)]
    (tmp_path / "export.json").write_text(json.dumps(export))
    converter = Converter(config=config, project_dir=str(tmp_path), download_resources=False)
    converter.convert_to_coco(str(tmp_path / "export.json"), str(tmp_path / "coco"), is_dir=False)
    back = json.loads((tmp_path / "coco" / "result.json").read_text())
    (category,) = [c for c in back["categories"] if c.get("keypoints")]
    assert category["keypoints"] == list(COCO_17.names)
    for ann, original in zip(back["annotations"], labels["annotations"]):
        # Label Studio rounds to whole pixels; one person per image
        np.testing.assert_allclose(ann["keypoints"], np.round(original["keypoints"]), atol=1)
        assert [v for v in ann["keypoints"][2::3]] == original["keypoints"][2::3]

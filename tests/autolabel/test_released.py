"""autolabel with Google's released files, end to end (slow): the issue's command on the squats clip (every
eighth frame) and its rerun, and people=multi labels of a few COCO-sample images scored against their hand labels.
"""

import json
import shutil

import pytest

from movenet_train.autolabel import coco_writer
from tests.helpers import COCO_SAMPLE, SHARED, TFJS, require_shared
from tests.in_process import run_main

SQUATS = SHARED / "data" / "video_sample" / "pose_squats.mp4"


@pytest.mark.slow
def test_the_squats_clip_gets_one_person_per_frame_and_a_rerun_loads_no_model(tmp_path, monkeypatch):
    require_shared(TFJS["thunder"], SQUATS)
    from movenet_train.jobs import autolabel

    command = [f"checkpoint={TFJS['thunder']}", f"input={SQUATS}", f"output={tmp_path / 'out'}", "frame_step=8"]
    result = run_main(autolabel.main, *command)
    assert result.returncode == 0, result.stderr[-3000:]
    labels = json.loads((tmp_path / "out" / coco_writer.LABELS_FILE).read_text())
    assert [i["file_name"] for i in labels["images"]] == [f"pose_squats_{i:06d}.jpg" for i in range(0, 65, 8)]
    assert all(image["width"] == 720 and image["height"] == 1280 for image in labels["images"])
    assert sorted(a["image_id"] for a in labels["annotations"]) == [i["id"] for i in labels["images"]]
    assert min(a["num_keypoints"] for a in labels["annotations"]) >= 12  # a whole woman, front on
    assert len(list((tmp_path / "out" / "images").glob("*.jpg"))) == 9
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.is_file()}

    import movenet_train.runtime

    def no_model(*args, **kwargs):
        raise AssertionError("a rerun with nothing left must not load a model")

    monkeypatch.setattr(movenet_train.runtime, "load_predictor", no_model)
    again = run_main(autolabel.main, *command)
    assert again.returncode == 0, again.stderr[-3000:]
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.is_file()} == before


@pytest.mark.slow
def test_people_multi_labels_score_against_the_hand_labels(tmp_path, coco_sample, single_person_images):
    require_shared(TFJS["thunder"], TFJS["multipose_lightning"])
    from movenet_train.evaluation import coco_metrics
    from movenet_train.jobs import autolabel
    from movenet_train.keypoints import COCO_17

    names = sorted(single_person_images)[:4]
    (tmp_path / "images").mkdir()
    for name in names:  # a scratch copy of four sample images (the labels of a folder cover all of it)
        shutil.copy(COCO_SAMPLE / "images" / name, tmp_path / "images" / name)
    result = run_main(autolabel.main, f"checkpoint={TFJS['thunder']}", f"input={tmp_path / 'images'}",
                      f"output={tmp_path / 'out'}", "people=multi", f"detector={TFJS['multipose_lightning']}")
    assert result.returncode == 0, result.stderr[-3000:]
    labels = json.loads((tmp_path / "out" / coco_writer.LABELS_FILE).read_text())
    ids = {i["file_name"]: i["id"] for i in coco_sample["images"]}
    names_of = {i["id"]: i["file_name"] for i in labels["images"]}
    results = [{**r, "image_id": ids[names_of[r["image_id"]]]} for r in coco_writer.results(labels)]
    ap = coco_metrics.keypoint_ap(coco_sample, results, [ids[n] for n in names], COCO_17)
    # Thunder's single_person AP on the sample's 16 one-person images is 0.629: labels worth correcting, not noise
    assert ap.stats["AP"] > 0.4, ap.stats

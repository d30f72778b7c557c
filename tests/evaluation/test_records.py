"""TFRecords from prepare_coco.py carry their own ground truth; eval on them matches eval on the JSON."""

import pytest

from movenet_train.data.convert import convert_coco
from movenet_train.evaluation import evaluate
from movenet_train.keypoints import COCO_17
from movenet_train.runtime import load_predictor
from tests.helpers import COCO_SAMPLE, TFJS, require_shared


@pytest.mark.slow
def test_records_give_the_reference_ap(tmp_path, coco_sample):
    require_shared(TFJS["lightning"])
    convert_coco(COCO_SAMPLE / "person_keypoints_sample.json", COCO_SAMPLE / "images", tmp_path / "records",
                 split="val", num_workers=0, shuffle=False, progress=False, schema=COCO_17)
    predictor = load_predictor(TFJS["lightning"])
    metrics = evaluate(predictor, records=str(tmp_path / "records" / "val-*.tfrecord"), progress=False)
    assert (metrics["num_images"], metrics["num_people"]) == (16, 16)
    # Same images and people as the JSON route, so the reference figure (reference_models/README.md) holds.
    assert metrics["AP"] == pytest.approx(0.433, abs=0.01)
    limited = evaluate(predictor, records=str(tmp_path / "records" / "val-*.tfrecord"), max_images=5,
                       progress=False)
    assert limited["num_images"] == 5

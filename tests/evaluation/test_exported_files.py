"""One code path: an imported checkpoint, its exported SavedModel and its float32 TFLite score the same AP."""

import pytest

from movenet_train.checkpoints import restore_model, save_model_checkpoint
from movenet_train.evaluation import evaluate
from movenet_train.export import export_model
from movenet_train.pretrained import import_released
from movenet_train.runtime import load_predictor
from tests.helpers import COCO_SAMPLE, TFJS, require_shared


@pytest.mark.slow
def test_checkpoint_saved_model_and_tflite_give_the_same_ap(tmp_path, coco_sample):
    require_shared(TFJS["lightning"])
    model, spec = import_released(TFJS["lightning"])
    checkpoint = save_model_checkpoint(model, spec, tmp_path / "imported")
    exported = export_model(*restore_model(checkpoint), tmp_path / "exported", formats=["saved_model", "tflite_fp32"])
    files = [tmp_path / "exported" / exported["files"][fmt]["path"] for fmt in ("saved_model", "tflite_fp32")]

    ap = {}
    for path in (checkpoint, *map(str, files)):
        predictor = load_predictor(path, spec)
        metrics = evaluate(predictor, COCO_SAMPLE / "person_keypoints_sample.json", COCO_SAMPLE / "images",
                           checkpoint=path, progress=False)
        ap[predictor.kind] = metrics["AP"]
        assert metrics["num_images"] == 16 and metrics["checkpoint_sha256"]
    assert set(ap) == {"keras", "saved_model", "tflite"}
    assert ap["keras"] == pytest.approx(0.433, abs=0.01)  # the released Lightning's reference figure
    assert ap["saved_model"] == pytest.approx(ap["keras"], abs=0.005)
    assert ap["tflite"] == pytest.approx(ap["keras"], abs=0.005)

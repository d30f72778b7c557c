"""The objective audit: its estimators on hand-made maps, and the released Lightning on the COCO sample."""

import json
import math

import numpy as np
import pytest

from movenet_train.diagnostics.peak_widths import fitted_sigma
from movenet_train.diagnostics.residuals import offset_rings, ring_statistics
from movenet_train.keypoints import COCO_17
from tests.helpers import COCO_SAMPLE, REPO, TFJS, require_shared


def test_fitted_sigma_recovers_a_sampled_gaussian():
    ys, xs = np.mgrid[:9, :9]
    for sigma in (0.6, 1.0, 1.7):
        heatmap = np.exp(-((ys - 4) ** 2 + (xs - 4) ** 2) / (2 * sigma**2))
        assert fitted_sigma(heatmap, 4, 4) == pytest.approx(sigma, rel=1e-6)
    assert fitted_sigma(np.zeros((3, 3)), 1, 1) is None


def test_rings_and_gain_on_a_hand_made_offset_field():
    # One keypoint at (2.5, 2.5) on a 6x6 grid: offset targets kp - cell; the prediction carries half of it.
    ys, xs = np.mgrid[:6, :6].astype(np.float32)
    target = np.stack([2.5 - ys, 2.5 - xs], -1)[None]  # [1, 6, 6, 2]
    mask = np.ones_like(target)
    rings = offset_rings({"keypoint_offset": target})
    assert rings[0, 2, 2, 0] == 0 and rings[0, 2, 3, 0] == 1 and rings[0, 4, 4, 0] == 3 and rings[0, 5, 2, 0] == 3
    stats = ring_statistics(0.5 * target, target, mask, rings, 3)
    assert stats["1"]["gain"] == pytest.approx(0.5) and stats["2"]["gain"] == pytest.approx(0.5)
    # Ring 1: the 4 side cells |v| = (0.5, 1.5) and 4 diagonal ones (1.5, 1.5) or (0.5, 0.5)...: mean |residual|
    # is half the mean |target| there.
    chosen = rings[0, ..., 0] == 1
    assert stats["1"]["mean_abs_residual"] == pytest.approx(0.5 * np.abs(target[0][chosen]).mean())
    assert stats["1"]["count"] == int(chosen.sum())


@pytest.mark.slow
def test_released_lightning_audit(tmp_path):
    require_shared(TFJS["lightning"], COCO_SAMPLE / "person_keypoints_sample.json")
    from hydra import compose, initialize_config_dir

    from movenet_train.data.convert import convert_coco
    from movenet_train.jobs.audit import run

    convert_coco(str(COCO_SAMPLE / "person_keypoints_sample.json"), str(COCO_SAMPLE / "images"), str(tmp_path / "r"),
                 split="train", num_shards=1, num_workers=0, progress=False, schema=COCO_17)
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        cfg = compose("audit", overrides=[f"checkpoint={TFJS['lightning']}", f"records={tmp_path}/r/train-*.tfrecord",
                                          f"output={tmp_path}/audit", "signed_step=1e-6"])
    report = run(cfg)
    assert json.loads((tmp_path / "audit" / "audit.json").read_text())["checkpoint"] == str(TFJS["lightning"])
    bn = report["batch_norm"]
    # The records' ground truth gives the released figure of ../shared/reference_models/README.md (0.433).
    assert bn["ap_before"] == pytest.approx(0.433, abs=5e-4)
    assert bn["ap_keep_function"] == pytest.approx(0.433, abs=5e-4)
    assert bn["keep_function_max_decoded_change"] < 1e-4
    assert bn["train_vs_inference_mode_after_keep_function"]["keypoint_heatmap"] < \
        bn["train_vs_inference_mode_before"]["keypoint_heatmap"] / 5
    for framing in ("crop", "letterbox"):
        r = report["framings"][framing]
        # The decoder reads the peak cell's offset: there the released head carries most of the target vector.
        assert 0.7 < r["residuals"]["keypoint_offset"]["0"]["gain"] < 1.2
        assert r["centre"]["keypoint_mean_nearer_share"] > 0.8  # MoveNet's centre is the keypoints' mean
        shares = [t["share"] for k, t in r["loss_terms"].items() if k != "total"]
        assert math.isclose(sum(shares), 1.0, rel_tol=1e-6)
        assert r["peak_widths"]["keypoint"]["all"]["count"] > 100
        assert set(r["signed_step_ap"]["own"]) >= {"before", "total", "center", "keypoint_heatmap"}

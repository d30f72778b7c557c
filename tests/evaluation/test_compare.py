"""Before/after report: both models' figures side by side, per slice, written whole."""

import json
import os

from movenet_train.evaluation import compare


def _metrics(ap, slices):
    return {"AP": ap, "AP50": ap + 0.1, "AP75": ap - 0.1, "AR": ap + 0.05, "num_images": 12, "num_people": 12,
            "checkpoint": "/x", "data": "annotations=/y", "protocol": "single_person",
            "slices": {name: {"AP": v, "num_images": n, "num_people": n, "AP50": 0.0} for name, (v, n) in slices.items()}}


def test_report_lists_both_models_per_slice_and_writes_json_and_png(tmp_path):
    report = compare.build_report({
        "released": _metrics(0.3, {"upright": (0.6, 4), "inverted": (0.05, 8)}),
        "fine-tuned": _metrics(0.4, {"upright": (0.55, 4), "inverted": (0.3, 8)}),
    })
    assert report["groups"] == ["overall", "upright", "inverted"]  # horizontal: no image in either
    assert compare.ap_of(report["entries"]["fine-tuned"], "inverted") == 0.3
    assert compare.ap_of(report["entries"]["released"], "horizontal") is None
    assert compare.count_of(report["entries"]["released"], "inverted") == 8
    path = compare.write_report(str(tmp_path), report, "title")
    assert json.loads(open(path).read()) == report
    with open(tmp_path / "compare.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path)) == ["compare.json", "compare.png"]  # no temporary files left

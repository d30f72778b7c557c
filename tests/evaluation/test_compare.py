"""Before/after report: both models' figures side by side, per slice, written whole."""

import json
import os

import pytest

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


def test_the_plot_shows_the_paired_difference_with_its_interval_and_people_and_the_whole_title():
    """What the figure holds, read from its artists: bars at each AP with the people count written on them, the
    difference as a point with error bars from the interval's ends, the figures written beside it, and every text
    (the title above all, longer than the axes are wide) inside the canvas once laid out."""
    report = compare.build_report({
        "checkpoint released.json": _metrics(0.3, {"upright": (0.6, 4), "inverted": (0.05, 8)}),
        "compare fine-tuned": _metrics(0.4, {"upright": (0.55, 4), "inverted": (0.3, 8)}),
    })
    report["entries"]["checkpoint released.json"]["num_people"] = 15  # people, not images (12)
    report["paired"] = {"difference": 0.102, "low": 0.041, "high": 0.170, "confidence": 0.95, "resamples": 2000,
                        "seed": 0, "num_images": 12, "num_people": 15}
    title = ("every_person: outputs/train/lightning-coco-finetune-distill-weight-1/model vs "
             "../shared/reference_models/tfjs_human_models/movenet-lightning.json (the released weights, 2021)")
    fig = compare.figure(report, title)
    bars_ax, = [ax for ax in fig.axes if ax.get_title() == "AP per model"]
    diff_ax, = [ax for ax in fig.axes if ax.get_title() == "paired difference"]

    heights = sorted(round(p.get_height(), 6) for p in bars_ax.patches)
    assert heights == sorted([0.3, 0.6, 0.05, 0.4, 0.55, 0.3])
    bar_labels = [t.get_text() for t in bars_ax.texts]
    assert "0.30\n15 people" in bar_labels and "0.30\n8 people" in bar_labels and "0.40\n12 people" in bar_labels

    (errorbar,) = diff_ax.containers
    point, _, (segments,) = errorbar
    assert point.get_xdata().tolist() == [0.102]
    ((low, _), (high, _)), = segments.get_segments()
    assert (low, high) == pytest.approx((0.041, 0.170))
    assert min(diff_ax.get_xlim()) < 0 < 0.170 < max(diff_ax.get_xlim())  # zero and the whole interval in view
    assert [line.get_xdata()[0] for line in diff_ax.lines if line.get_linestyle() == "--"] == [0.0]
    (written,) = [t.get_text() for t in diff_ax.texts]
    assert written == "+0.102 [+0.041, +0.170]\n15 people, 12 images"
    assert "compare fine-tuned - checkpoint released.json" in " ".join(
        t.get_text().replace("\n", " ") for t in diff_ax.get_yticklabels())

    assert " ".join(fig.get_suptitle().split()) == title
    fig.draw_without_rendering()  # runs the layout, so that every text has its place on the canvas
    inside = fig.bbox.padded(1)  # display units; a pixel of rounding
    title_box = fig._suptitle.get_window_extent()
    assert inside.x0 <= title_box.x0 and title_box.x1 <= inside.x1 and title_box.y1 <= inside.y1, (title_box, inside)
    drawn = fig.get_tightbbox().transformed(fig.dpi_scale_trans)  # everything drawn: texts, ticks, legends
    assert (inside.x0 <= drawn.x0 and drawn.x1 <= inside.x1 and inside.y0 <= drawn.y0 and drawn.y1 <= inside.y1), (
        drawn, inside)
    # and the two panels, labels included, side by side without overlapping
    assert bars_ax.get_tightbbox().x1 <= diff_ax.get_tightbbox().x0, (bars_ax.get_tightbbox(), diff_ax.get_tightbbox())


def test_an_experiments_changes_each_get_a_row():
    report = compare.build_report({"initial held_out": _metrics(0.3, {}), "fine_tuned held_out": _metrics(0.35, {}),
                                   "initial rotated": _metrics(0.1, {}), "fine_tuned rotated": _metrics(0.3, {})})
    report["changes"] = {
        "held_out": {"difference": 0.05, "low": -0.01, "high": 0.11, "confidence": 0.95, "num_images": 12,
                     "num_people": 30},
        "rotated": {"difference": 0.2, "low": 0.12, "high": 0.29, "confidence": 0.95, "num_images": 36,
                    "num_people": 90}}
    diff_ax, = [ax for ax in compare.figure(report, "t").axes if ax.get_title() == "paired difference"]
    rows = {t.get_text().split("\n")[1]: t.xy[0] for t in diff_ax.texts}
    assert rows == {"30 people, 12 images": 0.05, "90 people, 36 images": 0.2}
    intervals = sorted(tuple(c[2][0].get_segments()[0][:, 0]) for c in diff_ax.containers)
    assert intervals == [pytest.approx((-0.01, 0.11)), pytest.approx((0.12, 0.29))]

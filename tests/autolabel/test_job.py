"""``python -m movenet_train.autolabel``: bad input ends with one ``error:`` line naming the file or key, before a
model loads and with nothing written."""

import pytest

from movenet_train.jobs import autolabel
from tests.helpers import COCO_SAMPLE, TFJS, require_shared
from tests.in_process import run_main


def error_line(result):
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    return line


def test_a_missing_input_is_named(tmp_path):
    line = error_line(run_main(autolabel.main, f"checkpoint={tmp_path / 'model.json'}",
                               f"input={tmp_path / 'no_such_clip.mp4'}", f"output={tmp_path / 'out'}"))
    assert "no_such_clip.mp4" in line
    assert not (tmp_path / "out").exists()


def test_an_unknown_transform_names_the_key(tmp_path):
    line = error_line(run_main(autolabel.main, f"checkpoint={tmp_path / 'model.json'}", f"input={tmp_path}",
                               f"output={tmp_path / 'out'}", "transforms=[flip,rotate]"))
    assert "transforms" in line and "rotate" in line


@pytest.mark.parametrize("people", ["single", "multi"])
def test_a_model_of_another_keypoint_schema_is_named_before_it_loads(tmp_path, people):
    require_shared(TFJS["thunder"], COCO_SAMPLE / "images")
    line = error_line(run_main(autolabel.main, f"checkpoint={TFJS['thunder']}", f"input={COCO_SAMPLE / 'images'}",
                               f"output={tmp_path / 'out'}", "keypoints=body13", f"people={people}",
                               f"detector={TFJS['multipose_lightning']}"))
    assert str(TFJS["thunder"]) in line and "body13" in line
    assert not (tmp_path / "out").exists()

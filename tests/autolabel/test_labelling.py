"""autolabel end to end on hand-made images with stand-in models: the exact COCO file, the mirror, people=multi,
clips, resuming, and bad input."""

import json
import logging

import numpy as np
import pytest
from PIL import Image

from movenet_train.autolabel import coco_writer
from movenet_train.autolabel.labelling import autolabel
from movenet_train.autolabel.options import Options
from movenet_train.autolabel.resume import REPORT_FILE
from movenet_train.errors import UserError
from tests.autolabel.standins import KnownPeople, KnownPose, two_tone

# Normalised (y, x, score) over the model input; on a whole-image square every value maps to a whole pixel.
POSE = [[0.5, 0.5, 0.9], [0.375, 0.75, 0.8], [0.375, 0.25, 0.2], [0.625, 0.625, 0.6], [0.625, 0.375, 0.7]]


def options(**overrides):
    """The test's options, whatever the shipped defaults: the thresholds the hand-computed files assume."""
    values = {"transforms": [], "min_keypoint_score": 0.3, "min_person_score": 0.25, "min_pose_score": 0.25,
              "contact_sheet": {"enabled": False}, **overrides}
    return Options.defaults(**values)


def folder(tmp_path, sizes):
    """Images ``a.png``, ``b.png``, ... of the given (height, width) in ``tmp_path/images``."""
    root = tmp_path / "images"
    root.mkdir()
    for name, (height, width) in zip("abcdef", sizes):
        Image.fromarray(two_tone(height, width)).save(root / f"{name}.png")
    return root


def labels_of(output):
    return json.loads((output / coco_writer.LABELS_FILE).read_text())


def test_a_known_pose_gives_exactly_this_coco_file(tmp_path):
    images = folder(tmp_path, [(40, 80), (64, 64)])
    output = tmp_path / "out"
    report = autolabel(KnownPose(POSE), str(images), str(output), options())
    labels = labels_of(output)
    assert labels["images"] == [{"id": 1, "file_name": "a.png", "width": 80, "height": 40},
                                {"id": 2, "file_name": "b.png", "width": 64, "height": 64}]
    assert labels["categories"] == [{"id": 1, "name": "person", "supercategory": "person",
                                     "keypoints": ["head", "left_hand", "right_hand", "left_foot", "right_foot"],
                                     "skeleton": [[1, 2], [1, 3], [1, 4], [1, 5]]}]
    # a.png (80x40) is letterboxed as the square top -20, left 0, side 80: y = -20 + 80 y, x = 80 x. The right
    # hand (0.2) is below min_keypoint_score 0.3. Box: the kept keypoints' extent x 30..60, y 10..30 grown by a
    # tenth on each side. Score: mean of the keypoint scores above 0.2 = (0.9 + 0.8 + 0.6 + 0.7) / 4.
    # b.png (64x64) is its own square: y = 64 y, x = 64 x; x 24..48, y 24..40.
    assert labels["annotations"] == [
        {"id": 1, "image_id": 1, "keypoints": [40.0, 20.0, 2, 60.0, 10.0, 2, 0, 0, 0, 50.0, 30.0, 2, 30.0, 30.0, 2],
         "num_keypoints": 4, "bbox": [27.0, 8.0, 36.0, 24.0], "area": 864.0, "iscrowd": 0, "segmentation": [],
         "category_id": 1, "score": 0.75},
        {"id": 2, "image_id": 2, "keypoints": [32.0, 32.0, 2, 48.0, 24.0, 2, 0, 0, 0, 40.0, 40.0, 2, 24.0, 40.0, 2],
         "num_keypoints": 4, "bbox": [21.6, 22.4, 28.8, 19.2], "area": 552.96, "iscrowd": 0, "segmentation": [],
         "category_id": 1, "score": 0.75}]
    assert (report["images"], report["people"], report["keypoints_kept"], report["skipped"]) == (2, 2, 8, 0)
    assert json.loads((output / REPORT_FILE).read_text())["people"] == 2


def test_the_mirror_pass_of_an_ideal_model_agrees_with_the_plain_one(tmp_path):
    # what an ideal model sees in the mirror image: each joint at x -> 1 - x, named as its flip partner
    mirrored = [POSE[0]] + [[y, 1 - x, s] for y, x, s in (POSE[2], POSE[1], POSE[4], POSE[3])]
    images = folder(tmp_path, [(64, 64)])
    model = KnownPose(POSE, mirrored_pose=mirrored)
    autolabel(model, str(images), str(tmp_path / "plain"), options())
    autolabel(model, str(images), str(tmp_path / "flip"), options(transforms=["flip"]))
    assert model.inputs == 3  # one view, then two
    plain, flip = labels_of(tmp_path / "plain"), labels_of(tmp_path / "flip")
    assert flip["annotations"] == plain["annotations"]


def test_a_model_blind_to_the_mirror_gets_its_left_right_votes_split(tmp_path):
    # a stand-in that ignores the mirror: its mirrored "right hand" comes back as a vote for the left hand at
    # x -> 1 - x, 2 px below the plain pass's (within the OKS-0.5 radius, 3.3 px here: they average); its mirrored
    # right foot votes for the left foot 8 px away (outside: the plain pass keeps the point, at half the score)
    images = folder(tmp_path, [(64, 64)])
    pose = [[0.5, 0.5, 0.9], [0.375, 0.75, 0.8], [0.40625, 0.25, 0.8], [0.625, 0.625, 0.6], [0.75, 0.375, 0.6]]
    autolabel(KnownPose(pose), str(images), str(tmp_path / "flip"), options(transforms=["flip"],
                                                                            min_keypoint_score=0.1))
    (ann,) = labels_of(tmp_path / "flip")["annotations"]
    keypoints = np.reshape(ann["keypoints"], (5, 3))
    np.testing.assert_allclose(keypoints[0], [32, 32, 2])
    np.testing.assert_allclose(keypoints[1], [48, 25, 2])
    np.testing.assert_allclose(keypoints[3], [40, 40, 2])
    journal = (tmp_path / "flip" / coco_writer.JOURNAL_FILE).read_text().splitlines()
    (pose_written,) = json.loads(journal[1])["poses"]
    np.testing.assert_allclose(np.asarray(pose_written)[:, 2], [0.9, 0.8, 0.8, 0.3, 0.3], atol=1e-6)


def test_people_multi_labels_each_detected_person_on_its_square(tmp_path):
    images = folder(tmp_path, [(64, 128)])
    people = [(np.zeros((5, 3)), (0.25, 0.25, 0.75, 0.5), 0.9),   # box y 16..48, x 32..64: kept
              (np.zeros((5, 3)), (0.0, 0.5, 0.5, 1.0), 0.2)]       # below min_person_score 0.25
    detector = KnownPeople(people)
    model = KnownPose(POSE)
    autolabel(model, str(images), str(tmp_path / "out"), options(people="multi"), detector=detector)
    assert detector.shapes == [(128, 256, 3)]  # long side 256, as multi_person eval
    (ann,) = labels_of(tmp_path / "out")["annotations"]
    # the every_person square of the box: side 1.25 x 32 = 40 centred on (32, 48): top 12, left 28
    expected = [[28 + 40 * x, 12 + 40 * y] for y, x, _ in POSE]
    keypoints = np.reshape(ann["keypoints"], (5, 3))
    np.testing.assert_allclose(keypoints[[0, 1, 3, 4], :2], np.take(expected, [0, 1, 3, 4], axis=0))
    assert ann["score"] == pytest.approx(0.9 * 0.75, abs=1e-4)  # detector score x pose score


def test_two_finds_of_one_person_are_one_label(tmp_path):
    images = folder(tmp_path, [(64, 128)])
    box = (0.25, 0.25, 0.75, 0.5)
    detector = KnownPeople([(np.zeros((5, 3)), box, 0.9), (np.zeros((5, 3)), box, 0.8)])
    autolabel(KnownPose(POSE), str(images), str(tmp_path / "out"), options(people="multi"), detector=detector)
    (ann,) = labels_of(tmp_path / "out")["annotations"]
    assert ann["score"] == pytest.approx(0.9 * 0.75, abs=1e-4)


def test_a_multi_pose_labeller_writes_its_own_poses(tmp_path):
    images = folder(tmp_path, [(64, 128)])
    keypoints = [[0.5, 0.25, 0.9], [0.25, 0.5, 0.8], [0.25, 0.25, 0.1], [0.75, 0.5, 0.6], [0.75, 0.25, 0.7]]
    model = KnownPeople([(keypoints, (0.2, 0.2, 0.8, 0.6), 0.6)])
    autolabel(model, str(images), str(tmp_path / "out"), options(people="multi"))
    (ann,) = labels_of(tmp_path / "out")["annotations"]
    # the MultiPose input is the image at 2x (128 x 256, no padding): y = 64 y, x = 128 x
    assert ann["keypoints"] == [32.0, 32.0, 2, 64.0, 16.0, 2, 0, 0, 0, 64.0, 48.0, 2, 32.0, 48.0, 2]
    with pytest.raises(UserError, match="people=multi"):
        autolabel(model, str(images), str(tmp_path / "single"), options())


def test_a_gif_is_labelled_every_frame_step_th_frame_with_frames_written(tmp_path):
    gif = tmp_path / "clip.gif"
    frames = [Image.fromarray(two_tone(64, 64) + i) for i in range(5)]  # Pillow merges identical GIF frames
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100)
    output = tmp_path / "out"
    report = autolabel(KnownPose(POSE), str(gif), str(output), options(frame_step=2))
    labels = labels_of(output)
    assert [i["file_name"] for i in labels["images"]] == ["clip_000000.jpg", "clip_000002.jpg", "clip_000004.jpg"]
    assert sorted(p.name for p in (output / "images").iterdir()) == [i["file_name"] for i in labels["images"]]
    assert report["image_root"] == str(output / "images") and report["people"] == 3


def test_a_rerun_labels_nothing_and_changes_nothing(tmp_path):
    images = folder(tmp_path, [(40, 80), (64, 64), (64, 64)])
    output = tmp_path / "out"
    autolabel(KnownPose(POSE), str(images), str(output), options(contact_sheet={"enabled": True}))
    before = {p.name: p.read_bytes() for p in output.iterdir()}
    model = KnownPose(POSE)
    autolabel(model, str(images), str(output), options(contact_sheet={"enabled": True}))
    assert model.inputs == 0
    assert {p.name: p.read_bytes() for p in output.iterdir()} == before


def test_a_stopped_run_resumes_where_its_journal_ends(tmp_path):
    images = folder(tmp_path, [(40, 80), (64, 64), (64, 64)])
    whole = tmp_path / "whole"
    autolabel(KnownPose(POSE), str(images), str(whole), options())
    stopped = tmp_path / "stopped"
    stopped.mkdir()
    lines = (whole / coco_writer.JOURNAL_FILE).read_text().splitlines(keepends=True)
    # the settings line, a.png's line, and half of b.png's: where a killed run stops
    (stopped / coco_writer.JOURNAL_FILE).write_text(lines[0] + lines[1] + lines[2][:25])
    model = KnownPose(POSE)
    autolabel(model, str(images), str(stopped), options())
    assert model.inputs == 2  # b.png and c.png
    assert labels_of(stopped)["annotations"] == labels_of(whole)["annotations"]


def test_an_unreadable_image_is_named_skipped_and_counted(tmp_path, caplog):
    images = folder(tmp_path, [(64, 64), (64, 64)])
    (images / "broken.jpg").write_bytes(b"not a jpeg")
    with caplog.at_level(logging.WARNING):
        report = autolabel(KnownPose(POSE), str(images), str(tmp_path / "out"), options())
    assert report["skipped"] == 1 and report["images"] == 2
    assert report["skipped_images"][0]["file_name"] == "broken.jpg"
    assert "broken.jpg" in caplog.text
    assert [i["file_name"] for i in labels_of(tmp_path / "out")["images"]] == ["a.png", "b.png"]


def test_other_settings_in_the_same_output_are_an_error_until_overwrite(tmp_path):
    images = folder(tmp_path, [(64, 64)])
    output = tmp_path / "out"
    autolabel(KnownPose(POSE), str(images), str(output), options())
    before = (output / coco_writer.LABELS_FILE).read_bytes()
    with pytest.raises(UserError, match=r"transforms: \[\] -> \['flip'\]"):
        autolabel(KnownPose(POSE), str(images), str(output), options(transforms=["flip"]))
    assert (output / coco_writer.LABELS_FILE).read_bytes() == before
    autolabel(KnownPose(POSE), str(images), str(output), options(transforms=["flip"]), overwrite=True)
    assert json.loads((output / REPORT_FILE).read_text())["settings"]["transforms"] == ["flip"]


def test_the_input_folder_is_no_output(tmp_path):
    images = folder(tmp_path, [(64, 64)])
    with pytest.raises(UserError, match="input's own folder"):
        autolabel(KnownPose(POSE), str(images), str(images), options())
    assert sorted(p.name for p in images.iterdir()) == ["a.png"]


def test_a_missing_input_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing_here"):
        autolabel(KnownPose(POSE), str(tmp_path / "nothing_here"), str(tmp_path / "out"), options())


def test_a_person_with_one_kept_keypoint_gets_a_box_of_some_size():
    from movenet_train.autolabel.coco_writer import annotation

    pose = [[20.0, 30.0, 0.9], [0.0, 0.0, 0.1], [0.0, 0.0, 0.1], [0.0, 0.0, 0.1], [0.0, 0.0, 0.1]]
    ann = annotation(pose, 0.9, 0.3, 64, 64)
    assert ann["bbox"] == [29.0, 19.0, 2.0, 2.0] and ann["area"] == 4.0 and ann["num_keypoints"] == 1

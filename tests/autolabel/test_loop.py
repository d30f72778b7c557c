"""The user's loop as docs/autolabel.md writes it (slow): autolabel a clip, convert the labels, distil a teacher into
the released Lightning on them without a validation set, export the run. The test runs the docs' own block, each
command through its job's ``main()`` in this process, with its paths moved into the test's folder and its sizes cut
(a few frames, two training steps, one export format): the commands and their keys are the docs'.

Measured on the 2-core VM at load 2-3: 59 s in pytest; in a warm process 46 s, of which export 25 s (most of it
``tf.saved_model.save`` walking the Keras model before the TFLite conversion), training 18 s (two models built, the
pipeline and the step with Thunder traced), autolabel 3 s, prepare_coco 0.2 s. No cut of this test's settings brings
it under 40 s: the released Lightning as teacher, no augmentation or a SavedModel-only export each saved under 2 s.
"""

import json
import re
import shlex

import pytest

from tests.helpers import REFERENCE_MODELS, REPO, SHARED, TFJS, require_shared
from tests.in_process import run_main

DOC = REPO / "docs" / "autolabel.md"
SQUATS = SHARED / "data" / "video_sample" / "pose_squats.mp4"
# The docs' ``python ...`` doors -> (the job module under movenet_train/jobs, the program name in sys.argv).
DOORS = {("-m", "movenet_train.autolabel"): ("autolabel", "movenet-autolabel"),
         ("data/prepare_coco.py",): ("prepare_coco", "data/prepare_coco.py"),
         ("train.py",): ("train", "train.py"),
         ("export/export.py",): ("export", "export/export.py")}
ASSIGNMENT = re.compile(r"^[A-Z_]+=\S+$")


def loop_block():
    """The fenced bash block of docs/autolabel.md that runs the whole loop."""
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), re.S)
    (block,) = [b for b in blocks if "train/schedule@train=distill" in b and "export/export.py" in b]
    return block


def loop_commands(block, variables):
    """[(job, program, arguments)] of ``block``: its shell variables expanded (``variables`` replace the values it
    assigns), its line continuations joined, its quotes removed as bash removes them."""
    values = {}

    def expand(text):
        return re.sub(r"\$(\w+)", lambda m: values[m.group(1)], text)

    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(expand(line), comments=True)
        if len(words) == 1 and ASSIGNMENT.match(words[0]):
            name, value = words[0].split("=", 1)
            values[name] = str(variables.get(name, value))
        elif words:
            assert words[0] == "python", line
            door = next(d for d in DOORS if tuple(words[1:1 + len(d)]) == d)
            commands.append((*DOORS[door], words[1 + len(door):]))
    return commands


def test_the_block_is_four_commands_of_the_loop():
    """What the slow test runs, read without running it: the docs' teacher is Thunder, validation is off the clip."""
    commands = loop_commands(loop_block(), {})
    assert [job for job, _, _ in commands] == ["autolabel", "prepare_coco", "train", "export"]
    train = commands[2][2]
    assert "train.teacher=../shared/reference_models/tfjs_human_models/movenet-thunder.json" in train
    assert "data.val_records=null" in train and "data.train_records=outputs/squats_loop/records/train-*.tfrecord" in train


# The test's cuts, after the docs' arguments (keys the block does not set): 5 of the clip's 65 frames; two steps of
# batch 2 without the BatchNorm re-estimations (each builds and traces a training pipeline of its own: the distill
# schedule's BatchNorm is frozen, and they keep its function); the data root away from the checkout's data/coco; the
# float TFLite file only, no latency runs. Thunder labels and teaches, as in the docs.
CUTS = {
    "autolabel": ["frame_step=16"],
    "prepare_coco": ["num_workers=0"],
    "train": ["train.steps=2", "train.batch_size=2", "train.steps_per_loop=1", "train.checkpoint_every=2",
              "train.precise_batch_norm_batches=0", "model.recalibrate_batch_norm=false", "train.progress_bar=false"],
    "export": ["formats=[tflite_fp32]", "latency.runs=0"],
}


@pytest.mark.slow
def test_the_docs_loop_labels_converts_distils_and_exports_a_clip(tmp_path):
    require_shared(TFJS["thunder"], TFJS["lightning"], SQUATS)
    import importlib

    out = tmp_path / "loop"
    # The docs' ../shared paths hold from the checkout; the test reads ../shared wherever it is (MOVENET_SHARED_DIR).
    commands = loop_commands(loop_block(), {"OUT": out, "MODELS": REFERENCE_MODELS / "tfjs_human_models",
                                            "CLIP": SQUATS})
    results = {}
    for job, program, arguments in commands:
        extra = CUTS[job] + ([f"data.root={tmp_path / 'no_coco'}"] if job == "train" else [])
        main = importlib.import_module(f"movenet_train.jobs.{job}").main
        results[job] = run_main(main, *arguments, *extra, program=program)
        assert results[job].returncode == 0, f"{job}: {results[job].stderr[-3000:]}"

    labels = json.loads((out / "labels" / "person_keypoints.json").read_text())
    assert len(labels["images"]) == 5 and len(labels["annotations"]) == 5
    assert list((out / "records").glob("train-*.tfrecord"))
    assert (out / "run" / "model" / "movenet.json").exists()
    last = results["train"].stdout.strip().splitlines()[-1]
    assert last.startswith("no AP: no validation set was given (data.val_records=null, "), last
    report = json.loads((out / "export" / "export_report.json").read_text())
    parity = report["files"]["tflite_fp32"]["parity"]  # the exported file run on the clip's frames
    assert parity["num_poses"] > 0 and parity["keypoint_max"] < 0.01, parity

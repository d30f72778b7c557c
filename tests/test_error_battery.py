"""Every command on broken input (issue #22): exit status 1, one ``error:`` line naming the culprit (a file or a
config key), no traceback, and nothing already written lost or left half-written.

The fast set holds one cheap case of each kind. One of them runs the command as a user does, in a subprocess (the
real ``error:`` line on stderr and exit status 1); the others call the command's ``main()`` in the test process
(``tests/in_process.py``: the same launcher, Hydra composition and error policy, without a process and a
TensorFlow import per case). The ``slow`` cases run in subprocesses. Training cases point every path (data, run
folder) into the test's temporary folder: nothing under the checkout is read or written.
"""

import hashlib
import importlib
import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO, TFJS, require_shared
from tests.in_process import run_main

COMMANDS = {
    "train": ["train.py"],
    "eval": ["eval/evaluate.py"],
    "export": ["export/export.py"],
    "predict": ["-m", "movenet_train.predict"],
    "import": ["-m", "movenet_train.pretrained"],
    "prepare": ["data/prepare_coco.py"],
    "synthetic": ["data/make_synthetic.py"],
    "rotate": ["data/rotate_coco.py"],
    "show_samples": ["data/show_samples.py"],
    "fixed_point": ["experiments/fixed_point.py"],
    "rotation_finetune": ["experiments/rotation_finetune.py"],
}
# The job module (movenet_train/jobs/) each command starts (tests/test_jobs.py checks the scripts' doors).
JOBS = {"train": "train", "eval": "evaluate", "export": "export", "predict": "predict", "import": "import_weights",
        "prepare": "prepare_coco", "synthetic": "make_synthetic", "rotate": "rotate_coco",
        "show_samples": "show_samples", "fixed_point": "fixed_point", "rotation_finetune": "rotation_finetune"}
# A training run that would take one step of two images, if it got that far.
TINY_TRAINING = ["exp=lightning", "train.steps=1", "train.batch_size=2", "train.steps_per_loop=1",
                 "train.validate_every=1000", "train.val_batches=1", "train.val_summary_images=0",
                 "train.precise_batch_norm_batches=0", "train.progress_bar=false", "eval.max_images=2"]


def run_command(command, *overrides, debug=None):
    """``command`` with ``overrides`` as a user runs it; ``debug``: the value of HYDRA_FULL_ERROR (unset: None)."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    if debug is not None:
        env["HYDRA_FULL_ERROR"] = debug
    return subprocess.run([sys.executable, *COMMANDS[command], *map(str, overrides)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def run_in_process(command, *overrides, debug=None):
    """``command`` with ``overrides`` through its job's ``main()`` in this process; returns what ``run_command``
    returns (exit status, stdout, stderr)."""
    main = importlib.import_module(f"movenet_train.jobs.{JOBS[command]}").main
    return run_main(main, *overrides, debug=debug, program=COMMANDS[command][-1])


def assert_user_error(result, *culprits):
    """Exit status 1, no traceback, exactly one ``error:`` line on stderr, naming every culprit; returns it."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr[-3000:]
    for culprit in culprits:
        assert str(culprit) in errors[0], errors[0]
    return errors[0]


def snapshot(folder, skip=()):
    """Every file under ``folder`` (hidden temporaries included) -> its SHA-256; top-level names in ``skip`` left
    out (Hydra's own ``.hydra`` and log in a run folder)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.relative_to(folder).parts[0] not in skip}


def earlier_output(folder, *names):
    """An output folder written by an earlier run: ``names`` with some content."""
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"written before: {name}\n")
    return folder


@pytest.fixture
def tiny(tiny_dataset):
    return tiny_dataset


def shard(tiny):
    (path,) = (tiny / "records").glob("train-*.tfrecord")
    return path


def damaged_records(tiny, folder, change):
    """``folder/train-00000-of-00001.tfrecord``: the tiny shard's bytes changed by ``change``."""
    folder.mkdir()
    path = folder / "train-00000-of-00001.tfrecord"
    path.write_bytes(change(shard(tiny).read_bytes()))
    return path


def bad_annotations(tiny, folder):
    """The tiny set's JSON with annotation 1's first keypoint at x = -5e9 (the issue's example)."""
    data = json.loads((tiny / "source" / "annotations.json").read_text())
    first = data["annotations"][0]
    first["keypoints"][0:3] = [-5e9, 10, 2]
    path = folder / "bad_keypoints.json"
    path.write_text(json.dumps(data))
    return path, first["id"]


def training_paths(tiny, tmp_path, train_records):
    """The run folder and the overrides of a tiny training run on ``train_records``, validated on the tiny set."""
    run = tmp_path / "run"
    return run, [*TINY_TRAINING, "data=coco", f"data.root={tmp_path / 'no_data'}", f"hydra.run.dir={run}",
                 f"data.train_records={train_records}", f"data.val_records={shard(tiny)}",
                 f"data.val_annotations={tiny / 'source' / 'annotations.json'}",
                 f"data.val_images={tiny / 'source' / 'images'}"]


# --- fast: one case of each kind -------------------------------------------------------------------------------

def test_train_bad_config_value_names_the_key_and_keeps_the_run_folder(tiny, tmp_path):
    """The one subprocess of the fast set: the command as a user runs it, its real stderr and exit status. The
    check fails before TensorFlow is imported (training/preflight.py), so the process is cheap."""
    run, overrides = training_paths(tiny, tmp_path, shard(tiny))
    earlier_output(run, "checkpoints/checkpoint", "checkpoints/ckpt-5.index", "model/movenet.json")
    before = snapshot(run, skip=(".hydra", "train.log", "jobs.log"))
    result = run_command("train", *overrides, "train.optimizer.learning_rate=-1")
    line = assert_user_error(result, "train.optimizer.learning_rate")
    assert line == "error: train.optimizer.learning_rate must be > 0, got -1"
    assert result.stderr.splitlines()[-1] == line  # the last thing the process wrote
    assert snapshot(run, skip=(".hydra", "train.log", "jobs.log")) == before


def test_train_missing_checkpoint_fails_before_any_work(tiny, tmp_path):
    run, overrides = training_paths(tiny, tmp_path, shard(tiny))
    missing = tmp_path / "missing.json"
    result = run_in_process("train", *overrides, f"checkpoint={missing}")
    assert_user_error(result, "checkpoint", missing, "does not exist")
    assert sorted(p.name for p in run.iterdir()) == [".hydra"]  # Hydra's record only: no checkpoint, no data


def test_a_misspelt_schedule_lists_the_schedules_before_anything_is_built(tiny, tmp_path):
    """``train/schedule@train`` is ``optional`` in configs/train.yaml (data=coco has no schedule of its own), and
    Hydra skips a missing optional option, the user's typo included: the run would go on with the from-scratch
    default on fine-tuning weights."""
    run, overrides = training_paths(tiny, tmp_path, shard(tiny))
    result = run_in_process("train", *overrides, "train/schedule@train=finetuen")
    line = assert_user_error(result, "train/schedule@train=finetuen", "distill, finetune, qat, synthetic")
    assert result.stderr.splitlines()[-1] == line
    assert not run.exists()  # not even Hydra's record: the check comes before the job starts
    # The data's own optional schedule still composes, present (synthetic) or absent (coco).
    from hydra import compose, initialize_config_dir

    from movenet_train.config import CONFIG_DIR
    from movenet_train.jobs import missing_group_option

    with initialize_config_dir(version_base="1.3", config_dir=CONFIG_DIR, job_name="train"):
        assert missing_group_option(["data=coco", "train/schedule@train=finetune", "exp=thunder"]) is None
        assert compose("train", overrides=["data=synthetic"]).train.steps == 1200  # configs/train/schedule/synthetic
        assert compose("train", overrides=["data=coco"]).train.steps == 300000  # configs/train/default.yaml


def test_a_distillation_without_its_teacher_names_the_key_before_anything_is_built(tmp_path):
    """configs/train/schedule/distill.yaml requires train.teacher. Its ``???`` once ran silently with the initial
    weights as the teacher: OmegaConf keeps the finetune schedule's ``teacher: initial`` when ``???`` is merged
    over it. The preflight names the key and what to pass, before any model, teacher or data is built."""
    require_shared(TFJS["lightning"])
    run = tmp_path / "run"
    common = [*TINY_TRAINING, "data=synthetic", f"data.root={tmp_path / 'no_data'}", f"checkpoint={TFJS['lightning']}",
              "train/schedule@train=distill"]
    result = run_in_process("train", *common, f"hydra.run.dir={run}")
    line = assert_user_error(result, "train.teacher is required", "distill", "train.teacher=<the teacher's model file>")
    assert result.stderr.splitlines()[-1] == line
    assert sorted(p.name for p in run.iterdir()) == [".hydra"]  # Hydra's record only: no data, no checkpoint
    # Named, the teacher passes the same checks; the finetune schedule keeps its own teacher, the initial weights.
    from hydra import compose, initialize_config_dir

    from movenet_train.config import CONFIG_DIR
    from movenet_train.training.preflight import check_training

    with initialize_config_dir(version_base="1.3", config_dir=CONFIG_DIR, job_name="train"):
        named = compose("train", overrides=[*common, f"train.teacher={TFJS['lightning']}", f"output_dir={run}"])
        finetune = compose("train", overrides=["data=coco", "train/schedule@train=finetune"])
    assert check_training(named)[0].teacher == str(TFJS["lightning"])
    assert finetune.train.teacher == "initial"


def test_prepare_strict_names_the_annotation_and_keeps_the_earlier_records(tiny, tmp_path):
    annotations, annotation_id = bad_annotations(tiny, tmp_path)
    output = tmp_path / "records"
    earlier_output(output, "train-00000-of-00001.tfrecord", "train-manifest.json")
    before = snapshot(tmp_path)
    result = run_in_process("prepare", f"annotations={annotations}", f"images={tiny / 'source' / 'images'}",
                            f"output={output}", "overwrite=true", "num_workers=0", "strict=true")
    assert_user_error(result, annotations, f"annotation {annotation_id}", "strict=true")
    assert snapshot(tmp_path) == before  # no shard replaced, no temporary folder left


def test_predict_unreadable_video_names_it_and_keeps_the_earlier_output(tmp_path):
    video = tmp_path / "broken.mp4"
    video.write_bytes(b"not a video" * 100)
    output = earlier_output(tmp_path / "out", "keypoints.json", "broken.mp4")
    before = snapshot(tmp_path)
    result = run_in_process("predict", f"checkpoint={tmp_path / 'missing.json'}", f"input={video}",
                            f"output={output}", "overwrite=true")
    assert_user_error(result, video)
    assert snapshot(tmp_path) == before


def test_import_garbage_tflite_names_it_and_keeps_the_earlier_checkpoint(tmp_path):
    source = tmp_path / "garbage.tflite"
    source.write_bytes(os.urandom(3000))
    output = earlier_output(tmp_path / "checkpoint", "movenet.json", "weights.index")
    before = snapshot(tmp_path)
    result = run_in_process("import", f"source={source}", f"output={output}", "overwrite=true")
    assert_user_error(result, source, "not a readable TFLite file")
    assert snapshot(tmp_path) == before


def test_a_tfrecord_that_is_not_one_names_the_shard_and_the_key(tiny, tmp_path):
    records = damaged_records(tiny, tmp_path / "records", lambda data: b"garbage, not records" * 10)
    output = tmp_path / "samples.png"
    result = run_in_process("show_samples", "data=coco", f"data.root={tmp_path}", f"data.train_records={records}",
                            f"output={output}")
    assert_user_error(result, "data.train_records", records, "not a TFRecord file", "data.skip_corrupt=true")
    assert not output.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["records"]


def test_a_missing_required_key_is_named(tmp_path):
    result = run_in_process("synthetic", "num_images=2")
    assert_user_error(result, "output")
    assert result.stderr.splitlines()[-1] == "error: output=<...> is required (see configs/make_synthetic.yaml)"


def test_debug_and_hydra_full_error_show_the_traceback(tmp_path):
    output = tmp_path / "synthetic"
    plain = run_in_process("synthetic", f"output={output}", "num_images=0")
    assert_user_error(plain, "num_images must be >= 1, got 0")
    for result in (run_in_process("synthetic", f"output={output}", "num_images=0", "debug=true"),
                   run_in_process("synthetic", f"output={output}", "num_images=0", debug="1")):
        assert result.returncode == 1 and "Traceback" in result.stderr and "num_images must be >= 1" in result.stderr
    assert not output.exists()


# --- slow: the other commands and kinds -------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("kind", ["truncated", "payload"])
def test_train_on_a_damaged_shard_names_it(kind, tiny, tmp_path):
    """Cut short: found by the header walk before training. A flipped payload byte (headers whole): found when
    TensorFlow's DataLossError ends training, by reading the shards in full."""
    def cut(data):
        return data[:len(data) // 2]

    def flip_payload(data):
        changed = bytearray(data)
        changed[12 + 100] ^= 0xFF  # inside the first record's image bytes
        return bytes(changed)

    records = damaged_records(tiny, tmp_path / "records", cut if kind == "truncated" else flip_payload)
    run, overrides = training_paths(tiny, tmp_path, records)
    result = run_command("train", *overrides)
    what = "truncated" if kind == "truncated" else "a record fails its checksum"
    assert_user_error(result, "data.train_records: damaged TFRecord shard", records, what)
    assert not (run / "checkpoints").exists() and not (run / "model").exists()


@pytest.mark.slow
def test_eval_on_a_truncated_shard_names_it(tiny, tmp_path):
    require_shared(TFJS["lightning"])
    records = damaged_records(tiny, tmp_path / "records", lambda data: data[:-10])
    result = run_command("eval", f"checkpoint={TFJS['lightning']}", f"records={records}",
                         f"hydra.run.dir={tmp_path / 'run'}", "progress=false")
    assert_user_error(result, records, "truncated")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["eval", "export"])
def test_a_garbage_model_file_is_named(command, tiny, tmp_path):
    model = tmp_path / "garbage.tflite"
    model.write_bytes(os.urandom(3000))
    output = earlier_output(tmp_path / "out", "kept.txt")
    overrides = {
        "eval": [f"annotations={tiny / 'source' / 'annotations.json'}", f"images={tiny / 'source' / 'images'}",
                 f"hydra.run.dir={output}"],
        "export": [f"output={output}", "overwrite=true"],
    }[command]
    before = snapshot(output, skip=(".hydra", "evaluate.log", "jobs.log"))
    assert_user_error(run_command(command, f"checkpoint={model}", *overrides), model)
    assert snapshot(output, skip=(".hydra", "evaluate.log", "jobs.log")) == before


@pytest.mark.slow
def test_predict_garbage_image_is_named(tmp_path):
    require_shared(TFJS["lightning"])
    image = tmp_path / "garbage.jpg"
    image.write_text("not an image")
    output = tmp_path / "out"
    assert_user_error(run_command("predict", f"checkpoint={TFJS['lightning']}", f"input={image}", f"output={output}"),
                      image)
    assert not output.exists()


@pytest.mark.slow
def test_import_garbage_model_json_is_named(tmp_path):
    source = tmp_path / "model.json"
    source.write_text("{not json")
    assert_user_error(run_command("import", f"source={source}", f"output={tmp_path / 'out'}"), source)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_prepare_without_strict_counts_skips_and_names_the_annotation(tiny, tmp_path):
    annotations, annotation_id = bad_annotations(tiny, tmp_path)
    output = tmp_path / "records"
    result = run_command("prepare", f"annotations={annotations}", f"images={tiny / 'source' / 'images'}",
                         f"output={output}", "num_workers=0")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"annotation {annotation_id}" in result.stderr + result.stdout
    manifest = json.loads((output / "train-manifest.json").read_text())
    assert manifest["counts"]["keypoints_outside_image_unlabelled"] == 1
    assert [p["annotation"] for p in manifest["problems"]] == [annotation_id]


@pytest.mark.slow
def test_rotate_names_a_missing_annotation_file(tiny, tmp_path):
    missing = tmp_path / "missing.json"
    result = run_command("rotate", f"annotations={missing}", f"images={tiny / 'source' / 'images'}",
                         f"output={tmp_path / 'out'}")
    assert_user_error(result, missing)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.parametrize("command", ["fixed_point", "rotation_finetune"])
def test_experiments_name_a_missing_input(command, tmp_path):
    missing = tmp_path / "missing.json"
    result = run_command(command, f"annotations={missing}", f"output={tmp_path / 'out'}")
    assert_user_error(result, missing)

"""Fine-tuning from the imported released Lightning weights keeps their accuracy (low learning rate)."""

import pytest
from hydra import compose, initialize_config_dir

from movenet_train.evaluation import evaluate
from movenet_train.keypoints import COCO_17
from movenet_train.runtime import load_predictor
from tests.helpers import COCO_SAMPLE, REPO, TFJS, require_shared

SAMPLE_JSON = COCO_SAMPLE / "person_keypoints_sample.json"


@pytest.mark.slow
def test_finetuning_released_lightning_keeps_its_ap(tmp_path):
    require_shared(TFJS["lightning"], SAMPLE_JSON)
    from movenet_train.data.convert import convert_coco
    from movenet_train.training import train

    records = tmp_path / "records"
    convert_coco(str(SAMPLE_JSON), str(COCO_SAMPLE / "images"), str(records), split="train", num_shards=1,
                 num_workers=0, progress=False, schema=COCO_17)
    start = evaluate(load_predictor(TFJS["lightning"]), str(SAMPLE_JSON), str(COCO_SAMPLE / "images"),
                     protocol="single_person", progress=False)["AP"]
    assert abs(start - 0.433) < 0.01  # the released model's figure on this protocol

    overrides = [
        "exp=lightning", "data=coco", f"data.train_records={records}/train-*.tfrecord",
        f"data.val_records={records}/train-*.tfrecord", f"data.val_annotations={SAMPLE_JSON}",
        f"data.val_images={COCO_SAMPLE / 'images'}", f"checkpoint={TFJS['lightning']}", f"output_dir={tmp_path / 'run'}",
        "train.steps=10", "train.batch_size=8", "train.steps_per_loop=5", "train.checkpoint_every=10",
        "train.validate_every=10", "train.val_batches=1", "eval.max_images=null", "train.progress_bar=false",
        "train.optimizer.learning_rate=1e-5", "train.optimizer.warmup_steps=0", "train.ema_decay=null",
    ]
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        cfg = compose("train", overrides=overrides)
    metrics = train(cfg)
    assert abs(metrics["coco/AP"] - start) <= 0.05, (start, metrics["coco/AP"])
    # The run's inference model gives the same figure through the eval code.
    after = evaluate(load_predictor(tmp_path / "run"), str(SAMPLE_JSON), str(COCO_SAMPLE / "images"),
                     protocol="single_person", progress=False)["AP"]
    assert abs(after - metrics["coco/AP"]) < 1e-6

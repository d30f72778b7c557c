"""train.freeze: frozen layers keep their weights and BatchNorm statistics through training; the rest train."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from hydra import compose, initialize_config_dir

from movenet_train.checkpoints import restore_model, save_model_checkpoint
from movenet_train.errors import UserError
from movenet_train.keypoints import COCO_17
from movenet_train.modeling import MoveNetSpec, build_model
from movenet_train.training.freeze import freeze_layers, layer_groups
from tests.helpers import COCO_SAMPLE, REPO, require_shared

SAMPLE_JSON = COCO_SAMPLE / "person_keypoints_sample.json"


def test_groups_cover_every_weighted_layer_once_and_freeze_sets_trainable():
    spec = MoveNetSpec("lightning", 1.0, 192)
    model = build_model(spec)
    groups = layer_groups(model, spec)
    names = [layer.name for group in groups.values() for layer in group]
    assert sorted(names) == sorted(layer.name for layer in model.layers if layer.weights)
    assert {"Conv1", "bn_Conv1", "block_16_project_BN", "Conv_1_bn"} <= {layer.name for layer in groups["backbone"]}
    assert {layer.name for layer in groups["fpn"]} == {"fpn_top", "fpn_lateral_16", "fpn_separable_16", "fpn_bn_16",
                                                       "fpn_lateral_8", "fpn_separable_8", "fpn_bn_8",
                                                       "fpn_lateral_4", "fpn_separable_4", "fpn_bn_4"}
    assert len(groups["heads"]) == 8  # four heads: separable conv + output conv

    all_weights = len(model.trainable_weights)
    frozen = freeze_layers(model, spec, "backbone_fpn")
    assert set(frozen) == {layer.name for layer in groups["backbone"] + groups["fpn"]}
    assert {v.name.split("/")[0] for v in model.trainable_weights} == {layer.name for layer in groups["heads"]}
    assert 0 < len(model.trainable_weights) < all_weights
    with pytest.raises(UserError, match="train.freeze='heads'"):
        freeze_layers(model, spec, "heads")

    fresh = build_model(spec)
    frozen = freeze_layers(fresh, spec, "none", batch_norm=True)
    norms = {layer.name for layer in fresh.layers if isinstance(layer, tf_keras.layers.BatchNormalization)}
    assert set(frozen) == norms and "fpn_bn_4" in norms and "bn_Conv1" in norms
    assert all(layer.trainable for layer in fresh.layers if layer.name not in norms)


def test_frozen_batch_norm_runs_in_inference_mode():
    spec = MoveNetSpec("lightning", 1.0, 192)
    model = build_model(spec)
    freeze_layers(model, spec, "backbone_fpn")
    features = tf_keras.Model(model.inputs, model.get_layer("fpn_relu_4").output)
    images = tf.random.stateless_uniform([2, 64, 64, 3], seed=[3, 4], maxval=255.0)
    np.testing.assert_allclose(features(images, training=True).numpy(), features(images, training=False).numpy(),
                               atol=1e-5)


@pytest.mark.slow
def test_training_with_a_frozen_backbone_changes_only_the_fpn_and_heads(tmp_path):
    require_shared(SAMPLE_JSON)
    from movenet_train.data.convert import convert_coco

    records = tmp_path / "records"
    convert_coco(str(SAMPLE_JSON), str(COCO_SAMPLE / "images"), str(records), split="val", num_shards=1,
                 num_workers=0, progress=False, schema=COCO_17)
    spec = MoveNetSpec("lightning", 1.0, 192)
    initial = build_model(spec)
    save_model_checkpoint(initial, spec, tmp_path / "init")
    overrides = [
        "exp=lightning", "data=coco", f"data.train_records={records}/val-*.tfrecord",
        f"data.val_records={records}/val-*.tfrecord", "data.val_annotations=null",
        f"checkpoint={tmp_path / 'init'}", f"output_dir={tmp_path / 'run'}", "train.freeze=backbone",
        "train.steps=3", "train.batch_size=4", "train.steps_per_loop=3", "train.checkpoint_every=3",
        "train.validate_every=3", "train.val_batches=1", "train.progress_bar=false", "train.ema_decay=null",
        "train.optimizer.learning_rate=1e-2", "train.optimizer.warmup_steps=0", "train.precise_batch_norm_batches=2",
        "model.recalibrate_batch_norm=false",
    ]
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "configs")):
        cfg = compose("train", overrides=overrides)
    from movenet_train.training import train

    train(cfg)
    trained, _ = restore_model(str(tmp_path / "run"))  # the run's model/: weights after precise BatchNorm
    groups = layer_groups(initial, spec)
    for layer in groups["backbone"]:
        for before, after in zip(layer.get_weights(), trained.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(after, before, err_msg=layer.name)  # incl. BatchNorm moving statistics
    for group in ("fpn", "heads"):
        for layer in groups[group]:
            kernel_before = layer.get_weights()[0]
            assert not np.array_equal(trained.get_layer(layer.name).get_weights()[0], kernel_before), layer.name

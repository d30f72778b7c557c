"""Records of the COCO sample, converted once per session (the conversion is what several tests check)."""

import pytest
from hydra import compose, initialize

from movenet_train.keypoints import COCO_17
from tests.helpers import COCO_SAMPLE, require_shared

SAMPLE_JSON = COCO_SAMPLE / "person_keypoints_sample.json"


@pytest.fixture(scope="session")
def sample_records(tmp_path_factory):
    """(records folder, manifest) of ``../shared/data/coco_sample`` converted by ``convert_coco`` with 2 workers."""
    require_shared(SAMPLE_JSON, COCO_SAMPLE / "images")
    from movenet_train.data.convert import convert_coco

    output = tmp_path_factory.mktemp("coco_sample_records")
    manifest = convert_coco(str(SAMPLE_JSON), str(COCO_SAMPLE / "images"), str(output), split="val", num_shards=2,
                            num_workers=2, progress=False, schema=COCO_17)
    return output, manifest


def compose_config(*overrides):
    with initialize(version_base="1.3", config_path="../../configs"):
        return compose("train", overrides=list(overrides))

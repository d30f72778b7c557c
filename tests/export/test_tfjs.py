"""TF.js export run in JavaScript: the converted Lightning on @tensorflow/tfjs in Node (pure JS CPU backend).

Needs Node and npm (the test installs @tensorflow/tfjs into a cache folder, ``MOVENET_NPM_CACHE`` or
``~/.cache/movenet-train/npm``) and the tensorflowjs converter (``pip install --no-deps tensorflowjs==4.22.0``,
see ``movenet_train/export/tfjs_export.py``); it skips, saying which, where one is absent.
"""

import importlib.util
import json
import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest

from movenet_train.export import export_model
from movenet_train.preprocessing import load_rgb, model_input
from movenet_train.pretrained import import_released
from movenet_train.runtime import load_predictor
from tests.helpers import COCO_SAMPLE, TFJS, require_shared

TFJS_VERSION = "4.22.0"
RUNNER = pathlib.Path(__file__).with_name("run_tfjs.js")
IMAGES = ["000000000785.jpg", "000000000790.jpg", "000000034417.jpg"]


@pytest.fixture(scope="module")
def node_modules():
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip(f"Node.js and npm are needed to run the TF.js export (node: {node}, npm: {npm})")
    cache = pathlib.Path(os.environ.get("MOVENET_NPM_CACHE", pathlib.Path.home() / ".cache" / "movenet-train" / "npm"))
    package = cache / "node_modules" / "@tensorflow" / "tfjs" / "package.json"
    if not package.exists() or json.loads(package.read_text())["version"] != TFJS_VERSION:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(cache), f"@tensorflow/tfjs@{TFJS_VERSION}"],
                       check=True, capture_output=True, timeout=600)
    return cache / "node_modules"


@pytest.mark.slow
def test_tfjs_export_runs_in_node_like_the_saved_model(node_modules, tmp_path):
    if importlib.util.find_spec("tensorflowjs") is None:
        pytest.skip("the tensorflowjs converter is not installed: pip install --no-deps tensorflowjs==4.22.0")
    require_shared(TFJS["lightning"], *(COCO_SAMPLE / "images" / name for name in IMAGES))
    model, spec = import_released(TFJS["lightning"])
    output = tmp_path / "lightning"
    report = export_model(model, spec, str(output), formats=["saved_model", "tfjs"])
    assert report["files"]["tfjs"]["signature"]["inputs"]["input"]["dtype"] == "DT_INT32"
    images = np.stack([model_input(load_rgb(COCO_SAMPLE / "images" / name), 192, 192) for name in IMAGES])
    reference = load_predictor(str(output / "saved_model"))(images)

    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps({"images": [{"data": image.astype(int).ravel().tolist(), "shape": [1, 192, 192, 3]}
                                             for image in images]}))
    run = subprocess.run(["node", str(RUNNER), str(output / "tfjs"), str(inputs)], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "NODE_PATH": str(node_modules)})
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert (result["backend"], result["version"]) == ("cpu", TFJS_VERSION)
    outputs = np.array(result["outputs"], np.float32).reshape(reference.shape)
    assert reference.shape == (3, 1, 17, 3)
    np.testing.assert_allclose(outputs, reference, rtol=0, atol=1e-3)

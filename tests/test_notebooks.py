"""The notebooks run top to bottom (nbclient), so they cannot rot."""

import nbformat
import pytest
from nbclient import NotebookClient

from tests.helpers import REPO, SHARED, TFJS, require_shared

NOTEBOOKS = REPO / "notebooks"


def execute(name, **env):
    """Runs every cell in a fresh kernel from notebooks/; a failing cell raises with its traceback."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)  # the kernel inherits the environment
        client.execute()
    return notebook


def stream_text(notebook):
    return "".join(o.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs)


@pytest.mark.slow
def test_quickstart(tmp_path):
    require_shared(TFJS["lightning"], SHARED / "data" / "video_sample" / "pose_1.mp4")
    text = stream_text(execute("quickstart.ipynb", MOVENET_SHARED_DIR=str(SHARED),
                               MOVENET_NOTEBOOK_OUTPUT=str(tmp_path)))
    assert "120 frames of 576x576, a pose in 120 of them" in text
    assert "['keypoints.json', 'pose_1.mp4']" in text
    assert (tmp_path / "pose_1" / "keypoints.json").exists()


@pytest.mark.slow
def test_training_walkthrough(tmp_path):
    require_shared(TFJS["lightning"])
    text = stream_text(execute("training.ipynb", MOVENET_SHARED_DIR=str(SHARED), MOVENET_NOTEBOOK_STEPS="10",
                               MOVENET_NOTEBOOK_OUTPUT=str(tmp_path)))
    assert "coco/AP" in text
    assert (tmp_path / "run" / "model").is_dir()

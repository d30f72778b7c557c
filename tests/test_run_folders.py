"""With ``output=DIR``, a command writes into DIR and nowhere else: no ``outputs/<command>/<time>/`` run folder, no
``.hydra/`` folder or log file in the working directory (eval and the audit keep their run folder in DIR)."""

import os
import subprocess
import sys

import pytest

from movenet_train.jobs import run_folder_follows_output
from tests.helpers import COCO_SAMPLE, REPO, TFJS, require_shared


def test_output_becomes_the_run_folder_of_the_run_folder_commands():
    assert run_folder_follows_output("eval", ["x", "checkpoint=m", "output=/o"]) == [
        "x", "checkpoint=m", "output=/o", "hydra.run.dir=/o"]
    assert run_folder_follows_output("audit", ["x", "++output=o"])[-1] == "hydra.run.dir=o"
    # an explicit hydra.run.dir stays; no output= keeps the timestamped run folder
    assert run_folder_follows_output("eval", ["x", "output=o", "hydra.run.dir=p"]) == ["x", "output=o", "hydra.run.dir=p"]
    assert run_folder_follows_output("eval", ["x", "checkpoint=m"]) == ["x", "checkpoint=m"]
    # commands that write where output= says in place, or name their run folder otherwise, are left alone
    assert run_folder_follows_output("export", ["x", "output=o"]) == ["x", "output=o"]
    assert run_folder_follows_output("train", ["x", "output=o"]) == ["x", "output=o"]


def _everything_under(root):
    found = set()
    for folder, dirs, files in os.walk(root):
        found.update(os.path.relpath(os.path.join(folder, name), root) for name in dirs + files)
    return found


def _run_in_scratch(tmp_path, script, *overrides):
    """Runs ``script`` with ``overrides`` and ``output=out`` from an empty working directory; the paths written
    there outside ``out``."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    result = subprocess.run([sys.executable, str(REPO / script), *overrides, "output=out"], cwd=cwd,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stray = {path for path in _everything_under(cwd) if path != "out" and not path.startswith("out" + os.sep)}
    assert stray == set()
    return cwd / "out"


@pytest.mark.slow
def test_eval_with_output_writes_only_there(tmp_path):
    require_shared(TFJS["lightning"], COCO_SAMPLE / "person_keypoints_sample.json")
    out = _run_in_scratch(tmp_path, "eval/evaluate.py", f"checkpoint={TFJS['lightning']}",
                          f"annotations={COCO_SAMPLE / 'person_keypoints_sample.json'}",
                          f"images={COCO_SAMPLE / 'images'}", "max_images=2", "progress=false")
    assert (out / "metrics.json").is_file()
    assert (out / ".hydra" / "config.yaml").is_file()  # the run folder's record of its config


@pytest.mark.slow
def test_export_with_output_writes_only_there(tmp_path):
    require_shared(TFJS["lightning"])
    out = _run_in_scratch(tmp_path, "export/export.py", f"checkpoint={TFJS['lightning']}", "formats=[saved_model]")
    assert (out / "export_report.json").is_file()

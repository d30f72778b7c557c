"""A wheel built from the checkout is a working package: it holds every module of ``movenet_train`` and, as
``movenet_train/configs``, every YAML file of ``configs/`` (``keypoints.py`` reads one at import, every command
composes them); installed into a folder of its own, it runs from its own configs."""

import importlib.metadata
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.helpers import REPO, skip_unless_required

# What the build reads (pyproject.toml): copied to a scratch folder so that the build leaves no build/ or
# *.egg-info behind in the checkout, nor packs a stale build/lib of it.
BUILD_INPUTS = ("pyproject.toml", "README.md", "movenet_train", "configs")
SPDX_SETUPTOOLS = (77,)  # the first setuptools that reads `license = "Apache-2.0"` (pyproject.toml)


def _setuptools_version():
    try:
        return tuple(int(part) for part in importlib.metadata.version("setuptools").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return (0,)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)]
    if _setuptools_version() >= SPDX_SETUPTOOLS:
        command.insert(4, "--no-build-isolation")  # offline: the environment's setuptools builds it
    # else pip fetches the build requirements (setuptools>=77) into an isolated environment
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if result.returncode and "--no-build-isolation" not in command and "No matching distribution" in result.stderr:
        skip_unless_required(f"setuptools {'.'.join(map(str, _setuptools_version()))} here, and pip could not "
                             "fetch setuptools>=77 for an isolated build (offline?): pip install 'setuptools>=77'")
    assert result.returncode == 0, result.stdout + result.stderr
    (path,) = out.glob("movenet_train-*.whl")
    return path


@pytest.fixture(scope="module")
def names(wheel):
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_holds_every_config_inside_the_package(names):
    assert "movenet_train/configs/keypoints/coco17.yaml" in names
    assert "movenet_train/configs/eval.yaml" in names
    configs = {f"movenet_train/configs/{p.relative_to(REPO / 'configs').as_posix()}"
               for p in (REPO / "configs").rglob("*.yaml")}
    assert configs - names == set()
    assert not any(name.startswith("configs/") for name in names)  # no top-level `configs` in site-packages


def test_the_wheel_holds_every_module(names):
    # pyproject.toml lists the subpackages: a new one missing there is missing here
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "movenet_train").rglob("*.py")}
    assert modules - names == set(), "add the package to [tool.setuptools] packages in pyproject.toml"


def test_the_license_is_an_spdx_expression(wheel, names):
    (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
    with zipfile.ZipFile(wheel) as archive:
        fields = archive.read(metadata).decode().split("\n\n")[0].splitlines()
    assert "License-Expression: Apache-2.0" in fields


def test_the_checkout_reads_its_own_configs():
    from movenet_train.config import CONFIG_DIR

    assert pathlib.Path(CONFIG_DIR) == REPO / "configs"


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """The wheel installed (without its dependencies: this environment's serve) into a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--quiet",
                             "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def _run_installed(installed, code, cwd):
    """``python -c code`` in ``cwd`` with the installed package first on the path (before the checkout's
    editable install, which Python's meta path consults after it)."""
    env = {**os.environ, "PYTHONPATH": str(installed), "HYDRA_FULL_ERROR": "0"}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow  # an install and a second Python with Hydra: about 3 s
def test_the_installed_package_reads_its_own_configs(installed, tmp_path):
    """From a folder outside the checkout: the package imported is the installed one, ``CONFIG_DIR`` is the copy
    inside it, and a command composes its config there (the installed branch of ``config._config_dir``), its
    error for a misspelt schedule included."""
    code = "\n".join([
        "import sys, movenet_train, movenet_train.config as config, movenet_train.keypoints as kp",
        "print(movenet_train.__file__)",
        "print(config.CONFIG_DIR)",
        "print(kp.COCO_17.num_keypoints)",
        "from movenet_train.jobs.train import main",
        "sys.argv = ['movenet-train', 'data=coco', 'train/schedule@train=finetune', '--cfg', 'job']",
        "main()",
        "sys.argv = ['movenet-train', 'data=coco', 'train/schedule@train=finetuen']",
        "main()",
    ])
    result = _run_installed(installed, code, tmp_path)
    package, config_dir, num_keypoints = result.stdout.splitlines()[:3]
    assert pathlib.Path(package) == installed / "movenet_train" / "__init__.py"
    assert pathlib.Path(config_dir) == installed / "movenet_train" / "configs"
    assert num_keypoints == "17"
    assert "learning_rate: 3.0e-05" in result.stdout  # configs/train/schedule/finetune.yaml, from the installed copy
    assert result.returncode == 1 and result.stderr.splitlines()[-1].startswith(
        "error: train/schedule@train=finetuen: Could not find 'train/schedule/finetuen'"), result.stderr


def test_a_missing_build_backend_fails_where_everything_is_required(monkeypatch):
    """The skip above (no setuptools>=77 to be had) is a failure under MOVENET_REQUIRE_SHARED=1, as a missing
    ../shared is (CI must not pass by skipping)."""
    def outcome():
        try:
            skip_unless_required("no backend")
        except BaseException as raised:  # pytest's skip and fail outcomes are not Exceptions
            return raised
        return None

    monkeypatch.setenv("MOVENET_REQUIRE_SHARED", "1")
    strict = outcome()
    assert isinstance(strict, pytest.fail.Exception) and "MOVENET_REQUIRE_SHARED=1 requires it" in str(strict)
    monkeypatch.delenv("MOVENET_REQUIRE_SHARED")
    assert isinstance(outcome(), pytest.skip.Exception)

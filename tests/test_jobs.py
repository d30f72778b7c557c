"""Every entry starts through ``movenet_train.jobs``: the console commands, the checkout's scripts and the
``python -m`` modules; each job names a config that exists; nothing edits ``sys.path``."""

import ast
import importlib
import pkgutil
import subprocess
import sys
import tomllib

import pytest

from movenet_train import jobs
from movenet_train.config import CONFIG_DIR
from movenet_train.errors import UserError
from tests.helpers import REPO
from tests.in_process import run_main

JOB_NAMES = sorted(m.name for m in pkgutil.iter_modules(jobs.__path__))
# The checkout's scripts and the package's ``python -m`` modules.
SCRIPTS = sorted([REPO / "train.py", *REPO.glob("eval/*.py"), *REPO.glob("export/*.py"), *REPO.glob("data/*.py"),
                  *REPO.glob("experiments/*.py"), REPO / "movenet_train" / "predict.py",
                  REPO / "movenet_train" / "audit.py", *REPO.glob("movenet_train/**/__main__.py")])


@pytest.mark.parametrize("name", JOB_NAMES)
def test_job_has_a_config_run_and_main(name):
    module = importlib.import_module(f"movenet_train.jobs.{name}")
    assert callable(module.run) and callable(module.main)
    assert (REPO / "configs" / f"{module.CONFIG}.yaml").is_file(), module.CONFIG
    assert CONFIG_DIR == str(REPO / "configs")


def test_console_commands_are_job_mains():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    targets = {target.split(":")[0] for target in scripts.values()}
    assert all(target.endswith(":main") for target in scripts.values()), scripts
    assert targets == {f"movenet_train.jobs.{name}" for name in JOB_NAMES} - {"movenet_train.jobs.fixed_point",
                                                                            "movenet_train.jobs.distill",
                                                                            "movenet_train.jobs.rotation_finetune",
                                                                            "movenet_train.jobs.model_sizes",
                                                                            "movenet_train.jobs.autolabel_quality"}


def _main_call(path):
    """The ``X.main()`` call of a script's ``__main__`` block and the module ``X`` was imported from."""
    tree = ast.parse(path.read_text())
    imports = {alias.asname or alias.name: f"{node.module}.{alias.name}" for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) for alias in node.names}
    calls = [node.func.value.id for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and node.func.attr == "main" and isinstance(node.func.value, ast.Name)]
    return [imports.get(name) for name in calls]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(REPO)))
def test_script_starts_through_a_job(path):
    (module,) = _main_call(path)
    assert module is not None and module.startswith("movenet_train.jobs."), module
    assert module.split(".")[-1] in JOB_NAMES


def test_no_sys_path_edits():
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=REPO, capture_output=True, text=True, check=True)
    offenders = []
    for path in (REPO / name for name in tracked.stdout.split()):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == "path" and isinstance(node.value, ast.Name) \
                    and node.value.id == "sys":
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


# --- the error policy ------------------------------------------------------------------------------------------

def test_debug_flag_is_taken_off_the_command_line():
    argv = ["train.py", "debug=true", "train.steps=1"]
    assert jobs.take_debug_flag(argv) is True and argv == ["train.py", "train.steps=1"]
    argv = ["train.py", "train.steps=1"]
    assert jobs.take_debug_flag(argv) is False and argv == ["train.py", "train.steps=1"]
    assert jobs.take_debug_flag(["x", "debug=1", "debug=false"]) is False  # the last one counts


def test_expected_failures_get_one_line_and_bugs_none(tmp_path):
    from omegaconf import OmegaConf
    from omegaconf.errors import MissingMandatoryValue

    from movenet_train.config import ConfigError

    try:
        open(tmp_path / "missing.json")
    except FileNotFoundError as err:
        assert jobs.user_error_message(err) == f"{tmp_path / 'missing.json'}: No such file or directory"
    assert jobs.user_error_message(ConfigError("train.steps must be >= 1, got 0")) == "train.steps must be >= 1, got 0"
    try:
        OmegaConf.create({"output": "???"}).output
    except MissingMandatoryValue as err:
        assert jobs.user_error_message(err, config_name="make_synthetic") == \
            "output=<...> is required (see configs/make_synthetic.yaml)"
    assert jobs.user_error_message(RuntimeError("a bug")) is None
    assert jobs.user_error_message(KeyError("a bug")) is None
    assert jobs.user_error_message(RuntimeError("diverged"), errors=(RuntimeError,)) == "diverged"
    # The project's own errors are UserErrors (still ValueErrors for callers); a plain ValueError is a bug.
    assert jobs.user_error_message(UserError("bad input")) == "bad input"
    assert jobs.user_error_message(ValueError("inside NumPy")) is None
    assert issubclass(ConfigError, UserError) and issubclass(UserError, ValueError)


def test_the_project_errors_are_user_errors():
    from movenet_train.data.shards import CorruptShardError
    from movenet_train.keypoints import KeypointSchemaError
    from movenet_train.model_files import IncompatibleModelError
    from movenet_train.pretrained.folded import ReleasedGraphError

    for error in (CorruptShardError, KeypointSchemaError, IncompatibleModelError, ReleasedGraphError):
        assert issubclass(error, UserError), error


def _raising(error):
    def run(cfg):
        raise error

    return run


def test_a_value_error_from_a_library_keeps_its_traceback_and_a_user_error_is_one_line(tmp_path):
    """A ValueError raised inside run() (TensorFlow, Keras, NumPy, a bug) is not bad input: it propagates with
    its traceback; a UserError ends the command with one ``error:`` line."""
    output = f"output={tmp_path / 'out'}"
    bug = run_main(lambda: jobs.launch("make_synthetic", _raising(ValueError("Shapes (2, 3) and (3,) are incompatible"))),
                   output)
    assert bug.returncode == 1
    assert "Traceback" in bug.stderr and "ValueError: Shapes (2, 3) and (3,) are incompatible" in bug.stderr
    assert not [line for line in bug.stderr.splitlines() if line.startswith("error:")], bug.stderr
    expected = run_main(lambda: jobs.launch("make_synthetic", _raising(UserError("num_images: expected 1 or more"))),
                        output)
    assert expected.returncode == 1 and "Traceback" not in expected.stderr
    assert expected.stderr.splitlines() == ["error: num_images: expected 1 or more"]


def test_job_modules_import_no_tensorflow():
    """Each job imports TensorFlow-heavy modules inside ``run()``: composing the config and the checks before any
    work (a typo, a missing file) cost no TensorFlow import."""
    code = ("import importlib, sys\n"
            f"for name in {JOB_NAMES!r}:\n"
            "    importlib.import_module('movenet_train.jobs.' + name)\n"
            "print(sorted(m for m in ('tensorflow', 'tf_keras', 'keras', 'cv2') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout


def test_a_misspelt_key_is_one_error_line_before_the_job_runs(monkeypatch):
    """``train.batchsize=3`` (the key is batch_size): Hydra's several-line report becomes one ``error:`` line, and
    the job's run() is never called."""
    from movenet_train.jobs import launch

    monkeypatch.setattr(sys, "argv", ["train.py", "+exp=lightning", "data=synthetic", "train.batchsize=3"])

    def run(cfg):
        raise AssertionError("run() must not be reached")

    with pytest.raises(SystemExit) as exit_info:
        launch("train", run)
    message = str(exit_info.value.code)
    assert message.startswith("error: ") and "train.batchsize" in message and "\n" not in message

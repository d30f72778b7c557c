"""The command-line entry points: each composes one config of ``configs/`` with the command line and calls one
library function. ``pyproject.toml`` installs them as console commands (``movenet-train``, ...); the scripts
of the checkout (``train.py``, ``eval/evaluate.py``, ``data/*.py``, ...) call the same functions.
"""

import importlib
import os
import sys

EXPERIMENT_GROUP = "exp"
# The configs/ folder of the checkout the package is installed from (pip install -e .).
CONFIG_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "configs"))


def accept_both_experiment_forms(argv=None):
    """Lets ``+exp=thunder`` and ``exp=thunder`` both work.

    The configs list ``exp: null`` in their defaults so that ``exp=thunder`` overrides it; Hydra then rejects
    ``+exp=thunder`` ("Multiple values for exp"), so the ``+`` form is rewritten to the override form.
    """
    argv = sys.argv if argv is None else argv
    prefix = f"+{EXPERIMENT_GROUP}="
    argv[1:] = [arg[1:] if arg.startswith(prefix) else arg for arg in argv[1:]]
    return argv


def _command(config_name, job, user_errors=("FileNotFoundError", "FileExistsError", "ValueError")):
    """A command that runs ``job`` ("module:function") on the composed ``configs/<config_name>.yaml``; the
    listed exception types (bad input) end it with one ``error: ...`` line instead of a traceback."""

    def command():
        import hydra

        if not os.path.isdir(CONFIG_DIR):
            sys.exit(f"error: the configs folder {CONFIG_DIR} is missing; install the package from a checkout "
                     "(pip install -e .)")
        accept_both_experiment_forms()

        @hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name=config_name)
        def main(cfg):
            module, name = job.split(":")
            function = getattr(importlib.import_module(module), name)
            errors = tuple(_exception(e) for e in user_errors)
            try:
                return function(cfg)
            except errors as err:
                sys.exit(f"error: {err}")

        return main()

    command.__doc__ = f"configs/{config_name}.yaml -> {job}"
    return command


def _exception(name):
    """An exception class by name: a builtin (``ValueError``) or ``module:Class``."""
    import builtins

    if ":" in name:
        module, attr = name.split(":")
        return getattr(importlib.import_module(module), attr)
    return getattr(builtins, name)


train = _command("train", "movenet_train.training:train", ("movenet_train.training:TrainingDiverged",))
evaluate = _command("eval", "movenet_train.evaluation:run", ("FileNotFoundError", "ValueError"))
export = _command("export", "movenet_train.export:run")
predict = _command("predict", "movenet_train.tracking.annotate:predict", ())
import_weights = _command("import_weights", "movenet_train.pretrained.job:import_to_checkpoint", ())
prepare_coco = _command("prepare_coco", "movenet_train.data.convert:prepare_coco_job", ())
make_synthetic = _command("make_synthetic", "movenet_train.data.synthetic:make_synthetic_job", ())
rotate_coco = _command("rotate_coco", "movenet_train.data.rotate:rotate_coco_job")
audit = _command("audit", "movenet_train.evaluation.audit:run")
fixed_point_experiment = _command("fixed_point", "movenet_train.experiments.fixed_point:main")
show_samples = _command("show_samples", "movenet_train.data.samples:show_samples_job", ())

"""Every command of the project, one module each: ``CONFIG`` (its ``configs/<CONFIG>.yaml``), ``run(cfg)`` and
``main()``, the entry that composes the config with the command line and calls ``run``.

The console commands (``movenet-train``, ... in pyproject.toml), the checkout's scripts (``train.py``,
``eval/evaluate.py``, ``data/*.py``, ``experiments/*.py``) and the ``python -m`` modules all call a ``main()``
of this package, so a command starts the same way whichever door it comes in by.
"""

import os
import sys

from movenet_train.atomic import DiskFull
from movenet_train.config import CONFIG_DIR
from movenet_train.errors import UserError

EXPERIMENT_GROUP = "exp"
# Bad input, not a bug: the command ends with one ``error: ...`` line instead of a traceback. UserError is the
# project's own (errors.py; ConfigError, IncompatibleModelError, KeypointSchemaError, ReleasedGraphError,
# CorruptShardError derive from it): raise it where the bad input is found, naming the file or key and what to do.
# A plain ValueError (from TensorFlow, Keras, NumPy, or a bug of ours) is not listed: it keeps its traceback.
# DiskFull: a write that ran out of space, nothing partial left (atomic.py).
USER_ERRORS = (FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError, PermissionError, UserError,
               DiskFull)
# On the command line (``debug=true``) or in the environment (``HYDRA_FULL_ERROR=1``): an expected failure is
# raised with its traceback too.
DEBUG_KEY = "debug"
FULL_ERROR_VARIABLE = "HYDRA_FULL_ERROR"
# A command whose ``output`` is this by default writes into its run folder; ``output=DIR`` makes DIR the run folder.
OUTPUT_KEY = "output"
RUN_DIR_KEY = "hydra.run.dir"
RUN_FOLDER_OUTPUT = "${hydra:runtime.output_dir}"


def accept_both_experiment_forms(argv):
    """Lets ``+exp=thunder`` and ``exp=thunder`` both work.

    The configs list ``exp: null`` in their defaults so that ``exp=thunder`` overrides it; Hydra then rejects
    ``+exp=thunder`` ("Multiple values for exp"), so the ``+`` form is rewritten to the override form.
    """
    prefix = f"+{EXPERIMENT_GROUP}="
    argv[1:] = [arg[1:] if arg.startswith(prefix) else arg for arg in argv[1:]]
    return argv


def take_debug_flag(argv):
    """Removes ``debug=<bool>`` from ``argv`` (a switch of the launcher, not a key of any config); returns it."""
    values = {"true": True, "1": True, "false": False, "0": False}
    prefix = f"{DEBUG_KEY}="
    flags = [arg for arg in argv[1:] if arg.startswith(prefix)]
    for flag in flags:
        if flag[len(prefix):].lower() not in values:
            sys.exit(f"error: {DEBUG_KEY} must be true or false, got {flag[len(prefix):]!r}")
    argv[1:] = [arg for arg in argv[1:] if not arg.startswith(prefix)]
    return bool(flags) and values[flags[-1][len(prefix):].lower()]


def user_error_message(err, errors=(), config_name=None):
    """The one-line ``error:`` message of an expected failure, or None for a bug (which keeps its traceback)."""
    from omegaconf.errors import MissingMandatoryValue

    if isinstance(err, MissingMandatoryValue):  # a ``???`` key the command line did not give
        return f"{err.full_key}=<...> is required" + (f" (see configs/{config_name}.yaml)" if config_name else "")
    if "tensorflow" in sys.modules:  # TensorFlow's DataLossError names no file: find the damaged record shard
        from movenet_train.data.shards import damaged_shard_error

        named = damaged_shard_error(err)
        if named is not None:
            return str(named)
    if not isinstance(err, (*USER_ERRORS, *errors)):
        return None
    if isinstance(err, OSError) and err.filename and err.strerror:
        return f"{err.filename}: {err.strerror}"  # not Python's "[Errno 2] No such file or directory: '...'"
    return str(err)


def _key(arg):
    """The key of a ``key=value`` override, without its ``+``/``++``."""
    return arg.split("=", 1)[0].lstrip("+")


def run_folder_follows_output(config_name, argv):
    """Makes ``output=DIR`` the run folder of a command whose ``output`` defaults to its run folder (eval, audit:
    ``output: ${hydra:runtime.output_dir}``): adds ``hydra.run.dir=DIR`` unless the command line sets
    ``hydra.run.dir``, so that Hydra's ``.hydra/`` folder and log go into DIR and nothing is written under
    ``outputs/``. Other commands' ``argv`` is left as it is."""
    from omegaconf import OmegaConf

    given = [arg.split("=", 1)[1] for arg in argv[1:] if "=" in arg and _key(arg) == OUTPUT_KEY]
    path = os.path.join(CONFIG_DIR, f"{config_name}.yaml")
    if not given or any(_key(arg) == RUN_DIR_KEY for arg in argv[1:]) or not os.path.isfile(path):
        return argv
    default = OmegaConf.to_container(OmegaConf.load(path), resolve=False).get(OUTPUT_KEY)  # as written
    if isinstance(default, str) and default.replace(" ", "") == RUN_FOLDER_OUTPUT:
        argv.append(f"{RUN_DIR_KEY}={given[-1]}")
    return argv


def check_overrides(config_name, overrides):
    """Composes the config once with the command line's overrides, so that a misspelt key or a wrong group value
    ends the command with one ``error:`` line (Hydra's own report spans several) before anything else runs.
    Hydra's own flags (``--cfg``, ``hydra.*``, ``-m``) are left to Hydra."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    if any(arg.startswith("-") for arg in overrides):
        return
    keys = [arg for arg in overrides if not arg.lstrip("+~").startswith("hydra.")]
    try:
        with initialize_config_dir(version_base="1.3", config_dir=CONFIG_DIR, job_name=config_name):
            missing = missing_group_option(keys)
            if missing:
                sys.exit(f"error: {missing}")
            compose(config_name, overrides=keys)
    except (HydraException, OmegaConfBaseException) as err:
        message = " ".join(str(err).split())
        if "hydra:" in message or "${hydra" in message:  # interpolations only a run resolves
            return
        sys.exit(f"error: {message}")


def missing_group_option(overrides):
    """The message for the first override that names a config group option that does not exist
    (``train/schedule@train=finetuen``), listing the group's options; None when every named option exists. Call
    inside an initialised Hydra.

    Hydra reports a missing option itself, except for a group listed as ``optional`` in the defaults
    (``optional train/schedule@train: ${data}``, so that a dataset without its own schedule composes): there
    it skips the option the user named as silently as the dataset's absent one, and the run goes on with the
    defaults. A value the user wrote is checked here whatever the defaults list says."""
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    loader = GlobalHydra.instance().config_loader()
    for override in OverridesParser.create().parse_overrides(overrides):
        group, value = override.key_or_group, override.value()
        if (override.is_delete() or not isinstance(value, str) or group.startswith("hydra/")
                or not loader.repository.group_exists(group)):
            continue
        options = loader.get_group_options(group)
        if value not in options:
            return (f"{override.input_line}: Could not find '{group}/{value}' (configs/{group}/{value}.yaml); "
                    f"the options of {group} are {', '.join(options)}")
    return None


def launch(config_name, run, errors=()):
    """Composes ``configs/<config_name>.yaml`` with ``sys.argv`` and returns ``run(cfg)``; expected failures
    (``user_error_message``: ``USER_ERRORS``, ``errors``, a missing required key, a damaged record shard) end the
    command with one ``error:`` line and exit status 1, unless ``debug=true`` or ``HYDRA_FULL_ERROR=1`` asks for the
    traceback. Other exceptions keep theirs."""
    import hydra

    if not os.path.isdir(CONFIG_DIR):
        sys.exit(f"error: the configs folder {CONFIG_DIR} is missing; reinstall the package (pip install . or "
                 "pip install -e . from a checkout)")
    accept_both_experiment_forms(sys.argv)
    run_folder_follows_output(config_name, sys.argv)
    debug = take_debug_flag(sys.argv)
    if debug:
        os.environ[FULL_ERROR_VARIABLE] = "1"  # Hydra then prints the whole traceback
    else:
        check_overrides(config_name, sys.argv[1:])

    @hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name=config_name)
    def main(cfg):
        try:
            return run(cfg)
        except Exception as err:
            message = user_error_message(err, errors, config_name)
            if message is None or os.environ.get(FULL_ERROR_VARIABLE) == "1":
                raise
            sys.exit(f"error: {message}")

    return main()

"""Every command of the project, one module each: ``CONFIG`` (its ``configs/<CONFIG>.yaml``), ``run(cfg)`` and
``main()``, the entry that composes the config with the command line and calls ``run``.

The console commands (``movenet-train``, ... in pyproject.toml), the checkout's scripts (``train.py``,
``eval/evaluate.py``, ``data/*.py``, ``experiments/*.py``) and the ``python -m`` modules all call a ``main()``
of this package, so a command starts the same way whichever door it comes in by.
"""

import os
import sys

from movenet_train.config import CONFIG_DIR

EXPERIMENT_GROUP = "exp"
# Bad input, not a bug: the command ends with one ``error: ...`` line instead of a traceback.
USER_ERRORS = (FileNotFoundError, FileExistsError, ValueError)


def accept_both_experiment_forms(argv):
    """Lets ``+exp=thunder`` and ``exp=thunder`` both work.

    The configs list ``exp: null`` in their defaults so that ``exp=thunder`` overrides it; Hydra then rejects
    ``+exp=thunder`` ("Multiple values for exp"), so the ``+`` form is rewritten to the override form.
    """
    prefix = f"+{EXPERIMENT_GROUP}="
    argv[1:] = [arg[1:] if arg.startswith(prefix) else arg for arg in argv[1:]]
    return argv


def launch(config_name, run, errors=()):
    """Composes ``configs/<config_name>.yaml`` with ``sys.argv`` and returns ``run(cfg)``; ``USER_ERRORS`` and
    ``errors`` end the command with one ``error:`` line."""
    import hydra

    if not os.path.isdir(CONFIG_DIR):
        sys.exit(f"error: the configs folder {CONFIG_DIR} is missing; install the package from a checkout "
                 "(pip install -e .)")
    accept_both_experiment_forms(sys.argv)

    @hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name=config_name)
    def main(cfg):
        try:
            return run(cfg)
        except (*USER_ERRORS, *errors) as err:
            sys.exit(f"error: {err}")

    return main()

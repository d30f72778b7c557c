"""Shared start-up of the Hydra entry points."""

import sys

EXPERIMENT_GROUP = "exp"


def accept_both_experiment_forms(argv=None):
    """Lets ``+exp=thunder`` and ``exp=thunder`` both work.

    The configs list ``exp: null`` in their defaults so that ``exp=thunder`` overrides it; Hydra then rejects
    ``+exp=thunder`` ("Multiple values for exp"), so the ``+`` form is rewritten to the override form.
    """
    argv = sys.argv if argv is None else argv
    prefix = f"+{EXPERIMENT_GROUP}="
    argv[1:] = [arg[1:] if arg.startswith(prefix) else arg for arg in argv[1:]]
    return argv

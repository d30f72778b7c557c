"""Runs a command's ``main()`` in the test process, as the interpreter would run it: the command line in
``sys.argv``, stdout and stderr captured, ``SystemExit`` and uncaught exceptions turned into an exit status and
what Python prints. No new process, so no TensorFlow import per case (tests/test_error_battery.py)."""

import contextlib
import dataclasses
import io
import os
import sys
import traceback

# In the test process Hydra must not configure logging: its handlers would keep the captured streams of one
# case and write into them, closed, in later tests.
QUIET_HYDRA = ("hydra/job_logging=none", "hydra/hydra_logging=none")


@dataclasses.dataclass
class Result:
    """What ``subprocess.run(..., capture_output=True, text=True)`` returns, for the same command."""

    returncode: int
    stdout: str
    stderr: str


def run_main(main, *overrides, debug=None, program="command"):
    """``main()`` with ``overrides`` on its command line; ``debug``: the value of HYDRA_FULL_ERROR (unset: None).
    ``sys.argv`` and the environment are as they were afterwards."""
    argv, environ = sys.argv, os.environ.get("HYDRA_FULL_ERROR")
    sys.argv = [program, *map(str, overrides), *QUIET_HYDRA]
    os.environ.pop("HYDRA_FULL_ERROR", None)
    if debug is not None:
        os.environ["HYDRA_FULL_ERROR"] = debug
    stdout, stderr = io.StringIO(), io.StringIO()
    returncode = 0
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                main()
            except SystemExit as stop:  # as the interpreter ends: a message goes to stderr with status 1
                if isinstance(stop.code, str):
                    print(stop.code, file=sys.stderr)
                    returncode = 1
                else:
                    returncode = stop.code or 0
            except Exception:  # an uncaught exception: its traceback, status 1
                traceback.print_exc()
                returncode = 1
    finally:
        sys.argv = argv
        os.environ.pop("HYDRA_FULL_ERROR", None)
        if environ is not None:
            os.environ["HYDRA_FULL_ERROR"] = environ
    return Result(returncode, stdout.getvalue(), stderr.getvalue())

"""Stop signals: the handlers the training command installs, and where they stop training (the end-to-end SIGTERM
run is ``test_train_interrupted.py::test_resume_after_sigterm``)."""

import signal

import pytest
import tensorflow as tf

from movenet_train.training.preemption import (STOP_SIGNALS, Preempted, StopPoint, StopSignals, StopTraining,
                                               worker_count)


@pytest.fixture(autouse=True)
def foreground_handlers():
    """Every test starts with SIGTERM and SIGINT as Python sets them up in a process started in the foreground
    (default action, ``KeyboardInterrupt``), whatever this one started with: a shell without job control starts
    background commands (``python -m pytest &`` in a script) with SIGINT ignored, and Python then installs no
    ``KeyboardInterrupt`` handler. The handlers the test found are back afterwards."""
    found = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    for sig, handler in found.items():
        if handler is not None:  # None: installed outside Python, cannot be put back from Python
            signal.signal(sig, handler)


@pytest.fixture
def sigint_ignored(foreground_handlers):
    """SIGINT ignored, as in a command started in the background by a shell without job control."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_first_signal_sets_the_flag_and_previous_handlers_come_back():
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    with StopSignals() as signals:
        assert signals.received is None
        signal.raise_signal(signal.SIGTERM)  # would end the process without the handler
        assert signals.received == "SIGTERM"
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_a_second_signal_acts_as_before():
    with StopSignals() as signals:
        signal.raise_signal(signal.SIGTERM)
        assert signals.received == "SIGTERM"
        with pytest.raises(KeyboardInterrupt):  # Python's own SIGINT handler: Ctrl-C after SIGTERM stops at once
            signal.raise_signal(signal.SIGINT)
        assert signals.received == "SIGTERM"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_signal_stays_ignored(sigint_ignored):
    """A run started in the background by a script: Ctrl-C in that terminal neither stops it nor is remembered as a
    stop signal; SIGTERM still stops it with a checkpoint."""
    with StopSignals() as signals:
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        signal.raise_signal(signal.SIGINT)
        assert signals.received is None
        signal.raise_signal(signal.SIGTERM)
        assert signals.received == "SIGTERM"
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN


def test_one_process_stops_before_the_next_step():
    strategy = tf.distribute.get_strategy()
    assert worker_count(strategy) == 1
    with StopSignals() as signals:
        stop = StopPoint(signals, strategy)
        stop.before_step()
        stop({})
        signal.raise_signal(signal.SIGTERM)
        with pytest.raises(StopTraining):
            stop.before_step()
        with pytest.raises(StopTraining):
            stop({})  # the end-of-loop check too


def test_preempted_message_says_how_to_resume():
    message = str(Preempted(7, "/runs/r/checkpoints/ckpt-7", "SIGTERM"))
    assert message == ("preempted at step 7 (SIGTERM): checkpoint written to /runs/r/checkpoints/ckpt-7; run the same "
                       "command again to resume")

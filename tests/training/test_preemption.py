"""Stop signals: the handlers the training command installs, and where they stop training (the end-to-end SIGTERM
run is ``test_train.py::test_resume_after_sigterm``)."""

import signal

import pytest
import tensorflow as tf

from movenet_train.training.preemption import Preempted, StopPoint, StopSignals, StopTraining, worker_count


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

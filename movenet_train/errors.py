"""The project's exception type for bad input.

``UserError``: a bad path, a file that is unreadable or of the wrong format, a bad config value, bad data; raised
where the input is found to be bad, with a message that names the file or the key and what to do. Every command
ends on one with a single ``error: <message>`` line and exit status 1 (``jobs.user_error_message``). The
project's own errors derive from it (``ConfigError``, ``IncompatibleModelError``, ``KeypointSchemaError``,
``CorruptShardError``, ``ReleasedGraphError``).

It is a ``ValueError``, so code and tests that catch ``ValueError`` keep catching it; but a plain ``ValueError``
(from TensorFlow, Keras, NumPy, or a programming error here) is a bug and keeps its traceback.
"""


class UserError(ValueError):
    """Bad input, not a bug: the message names the file or config key and what to do."""

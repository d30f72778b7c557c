"""Outputs written whole or not at all: a temporary sibling renamed into place when the work succeeds; a full disk
is reported as ``DiskFull``, naming the output."""

import contextlib
import errno
import os
import shutil
import tempfile
import uuid

NO_SPACE = os.strerror(errno.ENOSPC)  # "No space left on device": TensorFlow's file errors carry it as text


class DiskFull(OSError):
    """A write that ran out of space; the message names what could not be written and that nothing partial was left
    of it."""

    def __init__(self, message):
        super().__init__(message)
        self.errno = errno.ENOSPC


def is_disk_full(err):
    """``err`` (an ``OSError`` or a TensorFlow error, which has no errno) says the disk is full and is not a
    ``DiskFull`` already (which names the innermost output)."""
    return not isinstance(err, DiskFull) and (getattr(err, "errno", None) == errno.ENOSPC or NO_SPACE in str(err))


def disk_full(path, kept="its previous contents, if any, are intact"):
    """The ``DiskFull`` error of a failed write of ``path``."""
    return DiskFull(f"disk full: could not write {path} ({NO_SPACE}); nothing partial was left and {kept}; free "
                    "some space and run the command again")


def check_output(output, overwrite):
    if os.path.exists(output) and not overwrite:
        raise FileExistsError(f"output folder {output} exists; pass overwrite=true to replace it")


def temporary_sibling(path):
    """A fresh unused name beside ``path``, with its extension (OpenCV and Pillow pick the format from it), for a
    writer that creates the file itself; ``os.replace`` it onto ``path`` when done."""
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # A fresh name rather than mkstemp, whose 0600 file would keep its mode after the rename.
    return os.path.join(directory, f".tmp-{uuid.uuid4().hex}{os.path.splitext(name)[1]}")


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary file path in the same folder; renamed to ``path`` only if the block succeeds."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; outputs are for sharing
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as err:
        if os.path.exists(tmp):
            os.remove(tmp)
        if is_disk_full(err):
            raise disk_full(path) from err
        raise


@contextlib.contextmanager
def staging_folder(output, overwrite=False):
    """A temporary sibling of ``output``, renamed to ``output`` when the block succeeds and deleted when it fails."""
    output = os.path.abspath(output)
    check_output(output, overwrite)
    parent = os.path.dirname(output)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(output)}.tmp-", dir=parent)
    os.chmod(staging, 0o755)  # mkdtemp makes it private; the output is for others to read
    try:
        yield staging
        if os.path.exists(output):
            shutil.rmtree(output) if os.path.isdir(output) else os.remove(output)
        os.rename(staging, output)
    except Exception as err:
        if is_disk_full(err):
            raise disk_full(output) from err
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def scratch_folder(parent, prefix=".tmp-"):
    """A temporary folder inside ``parent`` (same file system, so its files can be ``os.replace``d into
    ``parent``), deleted with whatever is left in it when the block ends, successfully or not."""
    os.makedirs(parent, exist_ok=True)
    folder = tempfile.mkdtemp(prefix=prefix, dir=parent)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)

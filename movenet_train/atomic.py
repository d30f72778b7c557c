"""Outputs written whole or not at all: a temporary sibling renamed into place when the work succeeds."""

import contextlib
import os
import shutil
import tempfile
import uuid


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
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
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

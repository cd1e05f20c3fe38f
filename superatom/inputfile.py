"""Open input files safely: only regular files, and never more than a size limit.

Devices (``/dev/zero``), FIFOs and folders given where a file is expected would hang a read
or fill memory; each is a one-line :class:`~superatom.errors.InputError` instead.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
>>> _ = path.write_text("hello")
>>> read_input_text(path, "campaign file")
'hello'
>>> read_input_text("/dev/zero", "campaign file")
Traceback (most recent call last):
...
superatom.errors.InputError: campaign file /dev/zero is not a regular file (a device, ...
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from superatom.errors import InputError

MAX_INPUT_BYTES = 64 * 1024**2  # structure, campaign and config files are far smaller


def check_input_file(path: str | Path, what: str, max_bytes: int = MAX_INPUT_BYTES) -> Path:
    """``path`` if it is an existing regular file of at most ``max_bytes``; else InputError.

    The test is on ``stat`` (no open), so a FIFO is refused without blocking.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{what} {path} not found") from None
    except OSError as err:
        raise InputError(f"cannot read {what} {path}: {err.strerror or err}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{what} {path} is a directory: give a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{what} {path} is not a regular file (a device, FIFO or socket): "
                         "give a file")
    if info.st_size > max_bytes:
        raise InputError(f"{what} {path} is {info.st_size / 1e6:.0f} MB, more than the "
                         f"{max_bytes / 1e6:.0f} MB an input may have: check the file")
    return path


def read_input_bytes(path: str | Path, what: str, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a checked input file, never more than ``max_bytes`` even if it grows."""
    path = check_input_file(path, what, max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)  # a file swapped for a FIFO: no hang
    try:
        descriptor = os.open(path, flags)
    except OSError as err:
        raise InputError(f"cannot read {what} {path}: {err.strerror or err}") from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise InputError(f"{what} {path} is not a regular file: give a file")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputError(f"{what} {path} is larger than the {max_bytes / 1e6:.0f} MB an "
                         "input may have: check the file")
    return data


def read_input_text(path: str | Path, what: str, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """The text (UTF-8) of a checked input file."""
    try:
        return read_input_bytes(path, what, max_bytes).decode()
    except UnicodeDecodeError:
        raise InputError(f"cannot read {what} {path}: not a UTF-8 text file") from None

"""Names of systems, campaigns and projects: checked where they enter, made safe for scripts.

A name becomes a store label, part of a file or folder name and a batch-scheduler job name,
so it must be printable, short and free of path separators.

Examples
--------
>>> check_name("PW12O40 dimer (a)")
'PW12O40 dimer (a)'
>>> check_name("x\\n#SBATCH --mem=1")
Traceback (most recent call last):
...
superatom.errors.InputError: name 'x\\n#SBATCH --mem=1' contains a control character: ...
>>> batch_safe("x\\nrm -rf ~ #")
'x_rm_-rf____'
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from superatom.errors import InputError

MAX_NAME_LENGTH = 120
_UNSAFE_IN_SCRIPT = re.compile(r"[^A-Za-z0-9._+=,\-]")


def check_name(name: str, what: str = "name", limit: int = MAX_NAME_LENGTH) -> str:
    """Return ``name`` stripped of outer blanks, or raise a one-line :class:`InputError`.

    A valid name is 1 to ``limit`` (120) printable characters without ``/``, ``\\\\`` or
    control characters, and is not ``.`` or ``..``.
    """
    if not isinstance(name, str):
        raise InputError(f"{what} must be text, not {type(name).__name__}")
    value = name.strip()
    if not value:
        raise InputError(f"{what} must not be empty")
    if not value.isprintable():
        raise InputError(f"{what} {name!r} contains a control character: use printable text")
    if len(value) > limit:
        raise InputError(f"{what} is {len(value)} characters long: keep it under {limit + 1}")
    if "/" in value or "\\" in value or value in {".", ".."}:
        raise InputError(f"{what} {value!r} looks like a path: use a plain name without '/', "
                         "'\\' or '..'")
    return value


def batch_safe(text: str, limit: int = 64) -> str:
    """``text`` reduced to characters that are inert on a batch-script line (others -> ``_``)."""
    return _UNSAFE_IN_SCRIPT.sub("_", str(text))[:limit] or "job"


def file_safe(name: str) -> str:
    """A checked name turned into one file-name component (blanks -> ``_``)."""
    return re.sub(r"\s+", "_", check_name(name))


def _check_label(value: str) -> str:
    return check_name(value)


Name = Annotated[str, AfterValidator(_check_label)]
"""A pydantic field type for names checked with :func:`check_name`."""

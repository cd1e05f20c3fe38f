"""PySCF's bundled BLAS on CPUs newer than it: choose its kernel from the CPU's own flags.

PySCF's PyPI wheels carry their own OpenBLAS (0.3.3, 2018), used by every integral
contraction, DF exchange build and ``pyscf.lib.dot``. It picks its kernel from the CPU model
and falls back to SSE3 ("Prescott") on models it does not know: a 2-core Intel Xeon virtual
machine ran ``lib.dot`` at 13 GFLOPS against numpy's 73 (numpy's OpenBLAS is current). With
its AVX2 kernel ("Haswell", the newest that build has) the same product runs at ~35 GFLOPS and
an exchange build of a 204-AO La cut takes 1.9 s instead of 4.3 s (``benchmarks/README.md``).

:func:`prepare_pyscf_blas` loads PySCF's helper library, and with it that OpenBLAS, with
``OPENBLAS_CORETYPE`` set for that moment only, before PySCF is imported: numpy's and scipy's
own BLAS (loaded first) and child processes keep their own detection. It is opt-in: it acts
only with ``SUPERATOM_PYSCF_BLAS=avx2``, and even then does nothing when the user set
``OPENBLAS_CORETYPE``, when PySCF is loaded already, when PySCF's BLAS is not a bundled
OpenBLAS older than 0.3.10, or when the CPU has no AVX2/FMA. Importing this module (the engine
package does it first) calls it once: ``KERNEL_FORCED`` is what it chose.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import os
import re
import sys
from pathlib import Path

KERNEL_ENV = "OPENBLAS_CORETYPE"
#: ``SUPERATOM_PYSCF_BLAS=avx2`` turns the kernel choice on (opt-in for now).
OPT_IN_ENV = "SUPERATOM_PYSCF_BLAS"
#: Bundled OpenBLAS builds before this version know no CPU newer than about 2018.
FIXED_IN = (0, 3, 10)


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> set[str]:
    """Instruction-set flags of the first CPU (empty where ``/proc/cpuinfo`` is absent).

    Examples
    --------
    >>> isinstance(cpu_flags(), set)
    True
    """
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return set()
    found = re.search(r"^flags\s*:(.*)$", text, re.MULTILINE)
    return set(found.group(1).split()) if found else set()


def preferred_kernel(flags: set[str]) -> str | None:
    """The best kernel of PySCF's OpenBLAS 0.3.3 these flags allow (None: keep its choice).

    Examples
    --------
    >>> preferred_kernel({"sse3", "avx", "avx2", "fma"}), preferred_kernel({"sse3"})
    ('Haswell', None)
    """
    return "Haswell" if {"avx2", "fma"} <= flags else None


def bundled_openblas() -> tuple[Path, tuple[int, ...]] | None:
    """PySCF's bundled OpenBLAS file and its version, without importing PySCF."""
    spec = importlib.util.find_spec("pyscf")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "lib"
    for path in sorted(folder.glob("libopenblas*.so*")):
        version = re.search(r"(\d+)\.(\d+)\.(\d+)\.so", path.name)
        if version:
            return path, tuple(int(x) for x in version.groups())
    return None


def prepare_pyscf_blas() -> str | None:
    """Load PySCF's bundled OpenBLAS with the CPU's kernel; returns the kernel forced, if any.

    Examples
    --------
    >>> prepare_pyscf_blas() in (None, "Haswell")
    True
    """
    if (os.environ.get(KERNEL_ENV) or os.environ.get(OPT_IN_ENV) != "avx2"
            or "pyscf.lib" in sys.modules):
        return None
    bundled = bundled_openblas()
    kernel = preferred_kernel(cpu_flags())
    if bundled is None or bundled[1] >= FIXED_IN or kernel is None:
        return None
    helper = bundled[0].parent / "libnp_helper.so"
    if not helper.exists():
        return None
    import numpy  # noqa: F401  their own BLAS first, by their own detection
    import scipy.linalg  # noqa: F401

    os.environ[KERNEL_ENV] = kernel
    try:
        ctypes.CDLL(str(helper))  # pulls in PySCF's OpenBLAS, which reads the kernel now
    except OSError:
        return None
    finally:
        del os.environ[KERNEL_ENV]
    return kernel


@functools.cache
def pyscf_blas_kernel() -> str | None:
    """The kernel PySCF's bundled OpenBLAS runs ('Haswell', 'Prescott', ...), if it has one
    (fixed once the library is loaded, so asked once per process).

    Examples
    --------
    >>> pyscf_blas_kernel() is None or isinstance(pyscf_blas_kernel(), str)
    True
    """
    bundled = bundled_openblas()
    if bundled is None:
        return None
    import pyscf.lib  # noqa: F401  loads its dependencies, so the library opens

    try:
        library = ctypes.CDLL(str(bundled[0]))
        library.openblas_get_corename.restype = ctypes.c_char_p
        return library.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return None


KERNEL_FORCED = prepare_pyscf_blas()

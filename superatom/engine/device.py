"""Which device runs a calculation, its name, and the code versions behind a result."""

from __future__ import annotations

import os
import platform
from functools import lru_cache

from superatom.errors import InputError
from superatom.schemas.documents import analysis_versions


@lru_cache(maxsize=1)
def gpu_available() -> bool:
    """True when gpu4pyscf imports and CuPy sees at least one CUDA device.

    Both an ``ImportError`` (no CUDA libraries) and a CUDA runtime error (no device)
    mean no GPU.

    Examples
    --------
    >>> isinstance(gpu_available(), bool)
    True
    """
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return False
        import gpu4pyscf  # noqa: F401
    except Exception:
        return False
    return True


def resolve_device(requested: str) -> str:
    """Map ``auto|cpu|gpu`` to the device that will run; ``gpu`` without one is an error."""
    if requested == "cpu":
        return "cpu"
    if requested == "gpu":
        if not gpu_available():
            raise InputError(
                "device=gpu asked for but no CUDA GPU with gpu4pyscf is available: "
                "install 'superatom[gpu]' on a GPU node or use device=cpu"
            )
        return "gpu"
    return "gpu" if gpu_available() else "cpu"


def device_name(device: str) -> str:
    """Human-readable name of the CPU or GPU that ran the job."""
    if device == "gpu":
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"]
        return name.decode() if isinstance(name, bytes) else str(name)
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model} ({os.cpu_count()} cores)"


def gpu_memory_bytes() -> float:
    """Total memory of the current CUDA device in bytes (read from the card, GPU only)."""
    import cupy

    return float(cupy.cuda.Device().mem_info[1])


def gpu_peak_bytes() -> float:
    """Bytes CuPy's default memory pool holds now (its high-water mark between releases)."""
    import cupy

    return float(cupy.get_default_memory_pool().total_bytes())


def release_gpu_memory() -> None:
    """Give CuPy's cached device and pinned blocks back, so the next job in this process
    starts from an empty pool. Does nothing without CuPy."""
    try:
        import cupy
    except ImportError:
        return
    cupy.get_default_memory_pool().free_all_blocks()
    cupy.get_default_pinned_memory_pool().free_all_blocks()


def code_versions() -> dict[str, str]:
    """Versions of the codes that shape a result: those of :func:`analysis_versions` plus
    PySCF, pymatgen and, with a GPU, GPU4PySCF and CuPy."""
    import pymatgen.core
    import pyscf

    versions = {
        **analysis_versions(),
        "pyscf": pyscf.__version__,
        "pymatgen": getattr(pymatgen.core, "__version__", "unknown"),
    }
    from superatom.engine.blas import pyscf_blas_kernel

    kernel = pyscf_blas_kernel()
    if kernel:
        versions["pyscf_blas_kernel"] = kernel
    if gpu_available():
        import cupy
        import gpu4pyscf

        versions["gpu4pyscf"] = gpu4pyscf.__version__
        versions["cupy"] = cupy.__version__
    return versions

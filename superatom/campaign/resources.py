"""Per-job resources chosen from system size: device, cores, memory, wall time, DF or direct.

The cost model uses measured figures: a dense DF tensor takes about
``8 * 3.1 * nao**3`` bytes (Keggin def2-SVP: 962 AOs, 22 GB), and a PBE0 SCF of 452 AOs took
about 480 s on 2 CPU cores, scaling roughly as ``nao**3``. On the GPU, GPU4PySCF keeps only
screened pairs (about half the dense tensor) and C-PCM two dense (surface points)**2 matrices
(:mod:`superatom.engine.gpu_memory`), measured against the card's memory.

Examples
--------
>>> plan = plan_resources(nao=452, n_atoms=25)
>>> plan.device, plan.density_fit
('cpu', True)
>>> plan_resources(nao=4000, n_atoms=200).device
'gpu'
"""

from __future__ import annotations

from pydantic import BaseModel

from superatom.engine.gpu_memory import DF_BYTES_PER_NAO3, gpu_memory_estimate

GPU_NAO = 600  # above this many AOs a GPU pays off
NOMINAL_GPU_MEMORY_GB = 80.0  # assumed card when planning on a machine without a GPU
CPU_SECONDS_452 = 480.0  # PBE0/def2-SVP [Mo6O19]2- on 2 cores
GPU_SPEEDUP = 20.0


class JobResources(BaseModel):
    """What one frontier job should ask a machine or a queue for."""

    device: str
    cpus: int
    gpus: int
    memory_gb: float
    walltime_min: int
    density_fit: bool
    df_tensor_gb: float
    estimated_cpu_s: float


def plan_resources(nao: int, n_atoms: int, available_memory_gb: float = 24.0,
                   device: str = "auto", gpu_memory_gb: float | None = None) -> JobResources:
    """Resources for an SCF with ``nao`` AOs (see module docstring for the model).

    ``device`` is the job's setting: ``auto`` asks for a GPU above ``GPU_NAO`` AOs (the job
    still picks its device on the worker). ``gpu_memory_gb`` is the card's memory; by default
    the card of this machine if it has one, else ``NOMINAL_GPU_MEMORY_GB``.

    Examples
    --------
    >>> plan_resources(nao=4000, n_atoms=200, device="cpu").device
    'cpu'
    >>> plan_resources(nao=1600, n_atoms=100, gpu_memory_gb=80).density_fit  # 51 of 102 GB
    True
    >>> plan_resources(nao=1600, n_atoms=100, gpu_memory_gb=40).density_fit
    False
    """
    df_gb = DF_BYTES_PER_NAO3 * nao**3 / 1e9
    on_gpu = device == "gpu" or (device == "auto" and nao > GPU_NAO)
    device = "gpu" if on_gpu else "cpu"
    if on_gpu:
        card_gb = card_memory_gb() if gpu_memory_gb is None else gpu_memory_gb
        density_fit = gpu_memory_estimate(nao, density_fit=True) / 1e9 < 0.9 * card_gb
    else:
        density_fit = df_gb < 0.7 * available_memory_gb
    cpu_s = CPU_SECONDS_452 * (nao / 452) ** 3
    run_s = cpu_s / GPU_SPEEDUP if device == "gpu" else cpu_s
    memory = max(4.0, min(df_gb * 1.5 + 2.0, 500.0)) if density_fit else 8.0 + nao**2 * 8e-8
    return JobResources(
        device=device,
        cpus=8 if device == "gpu" else min(32, max(2, nao // 100)),
        gpus=1 if device == "gpu" else 0,
        memory_gb=round(memory, 1),
        walltime_min=int(max(30, 3 * run_s / 60)),
        density_fit=density_fit,
        df_tensor_gb=round(df_gb, 2),
        estimated_cpu_s=round(cpu_s, 1),
    )


def card_memory_gb() -> float:
    """Memory of this machine's GPU in GB, or the nominal card when it has none."""
    from superatom import engine

    if engine.gpu_available():
        return engine.gpu_memory_bytes() / 1e9
    return NOMINAL_GPU_MEMORY_GB

"""Per-job resources chosen from system size: device, cores, memory, wall time, DF or direct.

The cost model uses measured figures: a dense DF tensor takes about
``8 * 3.1 * nao**3`` bytes (Keggin def2-SVP: 962 AOs, 22 GB), and a PBE0 SCF of 452 AOs took
about 480 s on 2 CPU cores, scaling roughly as ``nao**3``.

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

GPU_NAO = 600  # above this many AOs a GPU pays off
DF_BYTES_PER_NAO3 = 8 * 3.1
GPU_MEMORY_GB = 70.0
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


def plan_resources(nao: int, n_atoms: int, available_memory_gb: float = 24.0) -> JobResources:
    """Resources for an SCF with ``nao`` AOs (see module docstring for the model)."""
    df_gb = DF_BYTES_PER_NAO3 * nao**3 / 1e9
    device = "gpu" if nao > GPU_NAO else "cpu"
    budget = GPU_MEMORY_GB if device == "gpu" else 0.7 * available_memory_gb
    density_fit = df_gb < budget
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

"""Per-job resources chosen from system size: device, cores, memory, wall time, DF or direct.

The cost model uses measured figures: a dense DF tensor takes about
``8 * 3.1 * nao**3`` bytes (Keggin def2-SVP: 962 AOs, 22 GB), and a PBE0 SCF of 452 AOs took
about 480 s on 2 CPU cores, scaling roughly as ``nao**3``, and as ``nao**4`` above that size,
where DF exchange is nearly all of a cycle (the 1044-AO [La(H2O)4PW11O39]4-: 5-8 min per cycle
on 2 cores, DF tensor on disk; hours for a whole SCF). On the GPU, GPU4PySCF keeps only
screened pairs (about half the dense tensor) and C-PCM two dense (surface points)**2 matrices
(:mod:`superatom.engine.gpu_memory`), measured against the card's memory. On the CPU, C-PCM's
surface-charge integrals are cached (``nao(nao+1)/2 x points x 8`` bytes, about
``CPU_PCM_POINTS_PER_ATOM`` points per atom) before the DF tensor: recomputing them costs ten
times more per byte than streaming the DF tensor back from a file
(:func:`superatom.engine.memory.memory_plan`), so a system whose DF tensor does not fit keeps DF
with the tensor on disk (``df_storage='disk'``) instead of going to direct SCF, whose every
cycle recomputes all four-index integrals. PCM columns beyond the cache are computed once into
a scratch file (``pcm_disk_gb``), read back in every pass. A Keggin on a 24 GB machine: 22 GB
DF tensor on disk, 24 GB of PCM integrals, 13 in memory and 11 on disk.

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
from superatom.engine.memory import BUDGET_SHARE, memory_plan

GPU_NAO = 600  # above this many AOs a GPU pays off
NOMINAL_GPU_MEMORY_GB = 80.0  # assumed card when planning on a machine without a GPU
CPU_SECONDS_452 = 480.0  # PBE0/def2-SVP [Mo6O19]2- on 2 cores
GPU_SPEEDUP = 20.0
#: C-PCM surface points kept per atom after the switching function (measured: [MoO4]2- 190,
#: [W6O19]2- 114, [La(H2O)4PW11O39]4- 106).
CPU_PCM_POINTS_PER_ATOM = 120


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
    df_storage: str = "memory"
    pcm_cache_gb: float = 0.0
    pcm_disk_gb: float = 0.0


def pcm_cached(settings) -> bool:
    """Whether an SCF with ``settings`` caches C-PCM surface integrals on the CPU (the exact
    potential; the density-fitted one takes everything from the DF tensor).

    Examples
    --------
    >>> from superatom.calc_settings import load_preset
    >>> pcm_cached(load_preset("screening")), pcm_cached(load_preset("gas"))
    (True, False)
    """
    return settings.solvent == "pcm" and settings.pcm_potential == "exact"


def plan_resources(nao: int, n_atoms: int, available_memory_gb: float = 24.0,
                   device: str = "auto", gpu_memory_gb: float | None = None,
                   solvent: bool = True) -> JobResources:
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
    >>> keggin = plan_resources(nao=962, n_atoms=53, device="cpu")  # 24 GB, C-PCM
    >>> keggin.density_fit, keggin.df_storage, keggin.pcm_cache_gb, keggin.pcm_disk_gb
    (True, 'disk', 23.6, 11.0)
    """
    df_gb = DF_BYTES_PER_NAO3 * nao**3 / 1e9
    on_gpu = device == "gpu" or (device == "auto" and nao > GPU_NAO)
    device = "gpu" if on_gpu else "cpu"
    if on_gpu:
        card_gb = card_memory_gb() if gpu_memory_gb is None else gpu_memory_gb
        density_fit = gpu_memory_estimate(nao, density_fit=True) / 1e9 < 0.9 * card_gb
    pcm_gb = (nao * (nao + 1) / 2 * CPU_PCM_POINTS_PER_ATOM * n_atoms * 8 / 1e9
              if solvent and not on_gpu else 0.0)
    df_storage = "memory"
    pcm_disk_gb = 0.0
    if on_gpu:
        memory = max(4.0, min(df_gb * 1.5 + 2.0, 500.0)) if density_fit else 8.0 + nao**2 * 8e-8
    else:
        density_fit = True  # the tensor in memory, or in a file when it does not fit
        split = memory_plan(BUDGET_SHARE * available_memory_gb * 1000, pcm_gb * 1000,
                            df_gb * 1000)
        in_memory = split["df_in_memory"]
        df_storage = "memory" if in_memory else "disk"
        pcm_disk_gb = max(pcm_gb - split["pcm_cache_mb"] / 1000, 0.0)
        wanted = (df_gb if in_memory else 0.0) + pcm_gb + 2.0
        memory = max(4.0, min(wanted / BUDGET_SHARE, available_memory_gb, 500.0))
    # above ~450 AOs DF exchange (naux * nao**2 * nocc, i.e. nao**4) is nearly all of a cycle
    cpu_s = CPU_SECONDS_452 * (nao / 452) ** (3 if nao <= 452 else 4)
    run_s = cpu_s / GPU_SPEEDUP if device == "gpu" else cpu_s
    return JobResources(
        device=device,
        cpus=8 if device == "gpu" else min(32, max(2, nao // 100)),
        gpus=1 if device == "gpu" else 0,
        memory_gb=round(memory, 1),
        walltime_min=int(max(30, 3 * run_s / 60)),
        density_fit=density_fit,
        df_tensor_gb=round(df_gb, 2),
        estimated_cpu_s=round(cpu_s, 1),
        df_storage=df_storage if density_fit else "none",
        pcm_cache_gb=round(pcm_gb, 1),
        pcm_disk_gb=round(pcm_disk_gb, 1),
    )


def card_memory_gb() -> float:
    """Memory of this machine's GPU in GB, or the nominal card when it has none."""
    from superatom import engine

    if engine.gpu_available():
        return engine.gpu_memory_bytes() / 1e9
    return NOMINAL_GPU_MEMORY_GB

"""The memory budget of a CPU SCF, and how it is shared by the PCM cache and the DF tensor.

``max_memory_mb`` unset means: a share of the memory this job may use, read where the job
runs: the smallest of the machine's RAM, the cgroup limit (containers, SLURM with
cgroups) and the SLURM allocation (``SLURM_MEM_PER_NODE`` or ``SLURM_MEM_PER_CPU`` x CPUs).

Inside the budget the cached PCM integrals come first: recomputing them costs about ten times
more per byte than streaming a DF tensor back from disk (2 cores: ~60 MB/s of ``int3c2e``
against ~670 MB/s of reading), so the DF tensor takes what the PCM cache leaves.

Examples
--------
>>> plan = memory_plan(budget_mb=18_000, pcm_mb=540, df_mb=2_700)
>>> plan["pcm_cache_mb"], plan["df_in_memory"]
(540.0, True)
>>> memory_plan(budget_mb=18_000, pcm_mb=19_000, df_mb=22_000)["df_in_memory"]
False
"""

from __future__ import annotations

import os

#: Share of the job's memory that the SCF's arrays may take (the rest: Python, grids, buffers).
BUDGET_SHARE = 0.75
#: Share of the budget the PCM cache may take at most (the rest: J/K and XC work arrays).
PCM_CACHE_SHARE = 0.7
_FALLBACK_MB = 4000


def _read_int(path: str) -> int | None:
    try:
        with open(path) as handle:
            text = handle.read(64).strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def job_memory_mb() -> float:
    """Memory (MB) this process may use: RAM, cgroup limit and SLURM allocation, the smallest.

    Examples
    --------
    >>> job_memory_mb() > 100
    True
    """
    limits: list[float] = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e6)
    except (ValueError, OSError):
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        value = _read_int(path)
        if value is not None and value < 1 << 60:
            limits.append(value / 1e6)
    per_node = os.environ.get("SLURM_MEM_PER_NODE", "")
    per_cpu = os.environ.get("SLURM_MEM_PER_CPU", "")
    cpus = os.environ.get("SLURM_CPUS_ON_NODE", "")
    if per_node.isdigit() and int(per_node) > 0:
        limits.append(float(per_node))  # SLURM gives MB
    elif per_cpu.isdigit() and cpus.isdigit():
        limits.append(float(per_cpu) * int(cpus))
    return min(limits) if limits else float(_FALLBACK_MB)


def memory_budget_mb(requested_mb: int | None) -> int:
    """The SCF's budget: ``requested_mb`` if given, else 75 % of :func:`job_memory_mb`.

    Examples
    --------
    >>> memory_budget_mb(4000)
    4000
    >>> memory_budget_mb(None) >= 100
    True
    """
    if requested_mb is not None:
        return int(requested_mb)
    return max(100, int(BUDGET_SHARE * job_memory_mb()))


def memory_plan(budget_mb: float, pcm_mb: float, df_mb: float) -> dict[str, float | bool]:
    """Split ``budget_mb`` between the PCM integral cache and the DF tensor (all MB).

    Returns ``pcm_cache_mb`` (what the cache may take; all of ``pcm_mb`` when it fits in
    :data:`PCM_CACHE_SHARE` of the budget), ``df_in_memory`` (the DF tensor fits beside it
    with a quarter of the budget left for work arrays) and ``df_max_memory_mb`` (the budget
    handed to PySCF's DF object, which then keeps its tensor in memory or writes it to a file).
    """
    cache = min(float(pcm_mb), PCM_CACHE_SHARE * budget_mb)
    left = budget_mb - cache
    df_in_memory = df_mb <= 0 or df_mb <= 0.75 * left
    return {"budget_mb": float(budget_mb), "pcm_cache_mb": cache,
            "pcm_fully_cached": cache >= pcm_mb, "df_mb": float(df_mb),
            "df_in_memory": bool(df_in_memory), "df_max_memory_mb": max(left, 100.0)}

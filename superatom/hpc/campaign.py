"""Send a campaign's flow to a jobflow-remote project with per-job resources from system size.

Frontier jobs ask for what :func:`superatom.campaign.resources.plan_resources` estimates from
their AO count (small systems: CPU cores; large ones: a GPU); analysis jobs ask for one core.

Examples
--------
>>> slurm_resources(plan_resources(nao=100, n_atoms=5))["cpus_per_task"]
2
"""

from __future__ import annotations

from typing import Any

from superatom.campaign.resources import JobResources, plan_resources


def format_time(minutes: int) -> str:
    """Minutes as ``HH:MM:SS``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def slurm_resources(res: JobResources) -> dict[str, Any]:
    """qtoolkit SLURM template variables for one job."""
    out: dict[str, Any] = {"cpus_per_task": res.cpus, "mem": f"{int(res.memory_gb * 1024)}M",
                           "time": format_time(res.walltime_min)}
    if res.gpus:
        out["gres"] = f"gpu:{res.gpus}"
    return out


def pbs_resources(res: JobResources) -> dict[str, Any]:
    """qtoolkit PBS template variables for one job."""
    select = f"1:ncpus={res.cpus}:mem={int(res.memory_gb)}gb"
    if res.gpus:
        select += f":ngpus={res.gpus}"
    return {"select": select, "walltime": format_time(res.walltime_min)}


def job_resources(job, scheduler: str = "slurm") -> dict[str, Any] | None:
    """Resources of one job of a campaign flow, or None for light jobs (analysis, xTB)."""
    from pymatgen.core import Molecule

    maker = getattr(job, "maker", None)
    molecule = job.function_args[0] if job.function_args else None
    if maker is None or not hasattr(maker, "settings") or not isinstance(molecule, Molecule):
        return None
    from superatom import engine

    nao = len(engine.ao_layout(molecule, maker.settings))
    res = plan_resources(nao=nao, n_atoms=len(molecule), device=maker.settings.device)
    return pbs_resources(res) if scheduler == "pbs" else slurm_resources(res)


def submit_campaign(campaign, project, worker: str | None = None, reuse: bool = True):
    """Build the campaign flow and submit it; returns (db_ids, plan, flow)."""
    from superatom.campaign.flow import build_campaign_flow
    from superatom.hpc.submit import resolve_project, submit_flow

    resolved = resolve_project(project)
    store = resolved.get_jobstore() if campaign.prescreen is not None else None
    flow, plan = build_campaign_flow(campaign, reuse=reuse, store=store)
    worker_name = worker or next(iter(resolved.workers))
    scheduler = resolved.workers[worker_name].scheduler_type
    ids = submit_flow(flow, resolved, worker=worker_name,
                      resources_for_job=lambda job: job_resources(job, scheduler))
    return ids, plan, flow

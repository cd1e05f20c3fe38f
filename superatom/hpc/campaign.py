"""Send a campaign's flow to a jobflow-remote project with per-job resources from system size.

Frontier jobs ask for what the campaign plan (:mod:`superatom.campaign.plan`) sized from
their AO count (small systems: CPU cores; large ones: a GPU); analysis and xTB jobs get the
worker's defaults.

Examples
--------
>>> from superatom.campaign.resources import plan_resources
>>> slurm_resources(plan_resources(nao=100, n_atoms=5))["cpus_per_task"]
2
"""

from __future__ import annotations

from typing import Any

from superatom.campaign.resources import JobResources


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


def submit_campaign(campaign, project, worker: str | None = None, reuse: bool = True,
                    store=None):
    """Plan the campaign, run its xTB pre-screen phase if it has one, build the flow and
    submit it with the planned resources per job; returns (db_ids, rows, flow).

    The pre-screen (GFN2-xTB single points, seconds per system) runs here, into ``store``
    (default: the project's job store), before any DFT job is queued.
    """
    from superatom.campaign.flow import build_campaign_flow, run_prescreen
    from superatom.campaign.plan import plan_campaign
    from superatom.hpc.submit import resolve_project, submit_flow

    resolved = resolve_project(project)
    plan = plan_campaign(campaign)
    if campaign.prescreen is not None:
        run_prescreen(plan, store or resolved.get_jobstore(), reuse)
    flow, rows = build_campaign_flow(plan, reuse=reuse)
    worker_name = worker or next(iter(resolved.workers))
    scheduler = resolved.workers[worker_name].scheduler_type
    ids = submit_flow(flow, resolved, worker=worker_name,
                      resources_for_job=queue_resources(plan, scheduler))
    return ids, rows, flow


def queue_resources(plan, scheduler: str = "slurm"):
    """``job -> scheduler resources`` from the plan's sizing (None: the worker's defaults).

    Only DFT frontier jobs were sized by the plan; analysis and xTB jobs get None.
    """
    to_queue = pbs_resources if scheduler == "pbs" else slurm_resources

    def resources_for_job(job) -> dict[str, Any] | None:
        planned = plan.job_resources.get(job.uuid)
        return None if planned is None else to_queue(planned)

    return resources_for_job

"""Turn a :class:`~superatom.campaign.plan.CampaignPlan` into one jobflow ``Flow``.

Nothing runs here. The Makers are the same at both tiers: a per-structure Maker
(:class:`FrontierOrbitalMaker` with the system's own settings, or :class:`XtbFrontierMaker`)
and, for ``prerelax``, a GFN2-xTB relaxation Maker, composed into the interaction and chain
flow Makers. A chain over campaign systems fits the outputs of those systems' own jobs.

The optional xTB pre-screen is an explicit phase, :func:`run_prescreen`, that
``superatom screen`` (and ``superatom hpc submit``) run before building the flow: the local
runner runs a fixed graph (no ``Response(replace=...)``), and a phase of its own lets the plan
table show the xTB gaps and which systems go on to DFT before any DFT job starts.

Examples
--------
>>> from superatom.campaign.spec import Campaign
>>> flow, rows = build_campaign_flow(Campaign(name="empty", preset="fast"))
>>> len(flow.jobs), rows
(0, [])
"""

from __future__ import annotations

from typing import Any

from jobflow import Flow, Job

from superatom.campaign.plan import CampaignPlan, SystemPlan, plan_campaign, plan_rows
from superatom.campaign.resources import JobResources
from superatom.campaign.spec import Campaign
from superatom.engine.xtb_scope import xtb_applicable
from superatom.errors import InputError
from superatom.workflows.chain import ChainScalingFlowMaker, chain_scaling_analysis
from superatom.workflows.frontier import FrontierOrbitalMaker
from superatom.workflows.interaction import InteractionFlowMaker
from superatom.workflows.xtb import XtbFrontierMaker


def frontier_maker(entry: SystemPlan, name: str, metadata: dict[str, Any], reuse: bool,
                   preset: str | None = None):
    """The per-structure Maker of ``entry``'s tier, with its resolved settings."""
    if entry.tier == "xtb":
        return XtbFrontierMaker(name=name, reuse=reuse, metadata=metadata)
    return FrontierOrbitalMaker(name=name, settings=entry.settings, preset=preset, reuse=reuse,
                                metadata=metadata)


def relax_maker(entry: SystemPlan, name: str, metadata: dict[str, Any], reuse: bool):
    """GFN2-xTB relaxation Maker if ``entry`` is pre-relaxed, else None."""
    if not entry.prerelax:
        return None
    return XtbFrontierMaker(name=name, relax=True, reuse=reuse,
                            metadata={**metadata, "name": f"{entry.name} (xTB relax)"})


def system_jobs(plan: CampaignPlan, entry: SystemPlan, reuse: bool) -> list[Job]:
    """Jobs of one system: optional xTB relaxation, then its frontier job."""
    if entry.screened_out:
        return []
    meta = entry.metadata(plan.name)
    preset = plan.campaign.preset
    if entry.tier == "xtb":  # one job: the relaxation is part of the xTB frontier job
        return [XtbFrontierMaker(name=f"xtb {entry.name}", relax=entry.prerelax, reuse=reuse,
                                 metadata=meta).make(entry.molecule)]
    jobs: list[Job] = []
    geometry: Any = entry.molecule
    relax = relax_maker(entry, f"xtb relax {entry.name}", meta, reuse)
    if relax is not None:
        jobs.append(relax.make(entry.molecule))
        geometry = jobs[-1].output.molecule
    maker = frontier_maker(entry, f"dft {entry.name}", meta, reuse, preset)
    jobs.append(maker.make(geometry))
    return jobs


def interaction_flow(plan: CampaignPlan, inter, reuse: bool) -> Flow:
    """The interaction flow of ``inter`` with its assembly system's settings and prerelax."""
    entry = plan.systems[inter.system]  # planned at the interaction's tier
    meta = entry.metadata(plan.name)
    meta.pop("n_units", None)
    return InteractionFlowMaker(
        name=f"interaction {inter.name}",
        frontier_maker=frontier_maker(entry, "frontier", {}, reuse, plan.campaign.preset),
        relax_maker=relax_maker(entry, "relax assembly", meta, reuse),
        angular=inter.angular, metadata={**meta, "name": inter.name},
    ).make(entry.molecule, inter.fragment_charges, inter.fragment_multiplicities)


def chain_flow(plan: CampaignPlan, chain, outputs: dict[str, Any], reuse: bool) -> Flow | None:
    """Chain fit over the campaign systems' own jobs, or a chain flow over built members.

    None when a member has no job (screened out by the pre-screen).
    """
    meta = {"name": chain.name, "campaign": plan.name, "system_class": chain.system_class}
    if not chain.built:
        if any(m not in outputs for m in chain.members):
            return None
        fit = chain_scaling_analysis([outputs[m] for m in chain.members], chain.n_units,
                                     name=chain.name, campaign=plan.name,
                                     system_class=chain.system_class)
        fit.name = "chain scaling fit"
        return Flow([fit], output=fit.output, name=f"chain {chain.name}")
    members = [plan.systems[m] for m in chain.members]
    maker = frontier_maker(members[-1], "frontier", {}, reuse, plan.campaign.preset)
    return ChainScalingFlowMaker(name=f"chain {chain.name}", frontier_maker=maker,
                                 metadata=meta).make([m.molecule for m in members],
                                                     chain.n_units)


def _record(resources: dict[str, JobResources], part: Job | Flow,
            entry: SystemPlan) -> None:
    """Give every frontier (DFT) job of ``part`` the resources of ``entry``."""
    for job in [part] if isinstance(part, Job) else part.jobs:
        if isinstance(getattr(job, "maker", None), FrontierOrbitalMaker):
            resources[job.uuid] = entry.resources


def build_campaign_flow(plan: CampaignPlan | Campaign, reuse: bool = True
                        ) -> tuple[Flow, list[dict]]:
    """One Flow for the whole campaign and a row per system/interaction/chain.

    A :class:`Campaign` is planned first (:func:`plan_campaign`). The job resources land in
    ``plan.job_resources`` (job uuid -> :class:`JobResources`) for the HPC submission.
    """
    if isinstance(plan, Campaign):
        plan = plan_campaign(plan)
    if plan.campaign.prescreen is not None and not plan.prescreened:
        raise InputError("the campaign has a 'prescreen': run its xTB pre-screen first "
                         "(superatom screen does; in Python: run_prescreen(plan, store))")
    parts: list[Job | Flow] = []
    outputs: dict[str, Any] = {}
    counts: dict[str, int] = {}
    resources: dict[str, JobResources] = {}
    for entry in plan.systems.values():
        if entry.role != "system":
            continue
        jobs = system_jobs(plan, entry, reuse)
        parts += jobs
        counts[f"system:{entry.name}"] = len(jobs)
        if jobs:
            outputs[entry.name] = jobs[-1].output
            _record(resources, jobs[-1], entry)
    for inter in plan.interactions:
        flow = interaction_flow(plan, inter, reuse)
        parts.append(flow)
        counts[f"interaction:{inter.name}"] = len(flow.jobs)
        outputs[inter.system] = next(j for j in flow.jobs if j.name == "frontier assembly").output
        _record(resources, flow, plan.systems[inter.system])
    for chain in plan.chains:
        flow = chain_flow(plan, chain, outputs, reuse)
        if flow is None:
            continue
        parts.append(flow)
        counts[f"chain:{chain.name}"] = len(flow.jobs)
        if chain.built:
            _record(resources, flow, plan.systems[chain.members[-1]])
    plan.job_resources = resources
    return Flow(parts, name=f"campaign {plan.name}"), plan_rows(plan, counts)


def run_prescreen(plan: CampaignPlan, store, reuse: bool = True) -> dict[str, float | None]:
    """The explicit pre-screen phase: GFN2-xTB levels of every standalone DFT-tier system.

    The xTB documents are stored (``role: prescreen``) like any other result; systems whose
    gap falls outside the campaign's window are marked ``screened_out`` in ``plan``. Returns
    the xTB gaps (eV) by system name.
    """
    from superatom.campaign.runner import run_flow

    screen = plan.campaign.prescreen
    jobs = {}
    for entry in plan.systems.values():
        # systems the xTB tier refuses go straight to DFT: never filtered on xTB levels
        if entry.role == "system" and entry.tier == "dft" and xtb_applicable(entry.molecule)[0]:
            meta = entry.metadata(plan.name, role="prescreen")
            meta["name"] = f"{entry.name} (xTB pre-screen)"
            jobs[entry.name] = XtbFrontierMaker(name=f"xtb screen {entry.name}", reuse=reuse,
                                                metadata=meta).make(entry.molecule)
    run_flow(Flow(list(jobs.values())), store)
    gaps = {}
    for name, job in jobs.items():
        found = store.query_one({"uuid": job.uuid}, properties=["output.gap_ev"])
        gaps[name] = (found or {}).get("output", {}).get("gap_ev")
        entry = plan.systems[name]
        entry.xtb_gap_ev = gaps[name]
        entry.screened_out = screen is not None and not screen.passes(gaps[name])
    plan.prescreened = True
    return gaps

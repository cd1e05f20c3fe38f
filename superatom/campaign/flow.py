"""Turn a :class:`Campaign` into one jobflow ``Flow`` plus a plan of what runs at which tier.

Examples
--------
>>> from superatom.campaign.spec import Campaign
>>> campaign = Campaign(name="empty", preset="fast")
>>> flow, plan = build_campaign_flow(campaign)
>>> len(flow.jobs), plan
(0, [])
"""

from __future__ import annotations

from typing import Any

from jobflow import Flow
from pymatgen.core import Molecule

from superatom.calc_settings import load_preset
from superatom.campaign.spec import Campaign, SystemSpec, build_system, choose_tier
from superatom.workflows.chain import ChainScalingFlowMaker, chain_scaling_analysis
from superatom.workflows.fragments import split_fragments
from superatom.workflows.frontier import FrontierOrbitalMaker
from superatom.workflows.interaction import InteractionFlowMaker, level_interaction_summary
from superatom.workflows.xtb import XtbFrontierMaker


def _settings(campaign: Campaign, extra: dict[str, Any] | None = None):
    return load_preset(campaign.preset, **{**campaign.settings, **(extra or {})})


def _overrides(campaign: Campaign, extra: dict[str, Any] | None = None,
               molecule: Molecule | None = None) -> dict[str, Any]:
    """Campaign + system settings, plus memory and DF-vs-direct chosen from the size of
    ``molecule`` (:func:`superatom.campaign.resources.plan_resources`) unless set explicitly.
    """
    explicit = {**campaign.settings, **(extra or {})}
    if molecule is None:
        return explicit
    from superatom import engine
    from superatom.campaign.resources import plan_resources

    settings = _settings(campaign, extra)
    plan = plan_resources(nao=len(engine.ao_layout(molecule, settings)), n_atoms=len(molecule),
                          device=settings.device)
    memory_gb = plan.memory_gb
    if campaign.memory_cap_gb is not None:
        memory_gb = min(memory_gb, campaign.memory_cap_gb)
    sized: dict[str, Any] = {"max_memory_mb": int(memory_gb * 1000 * 0.8)}
    if not plan.density_fit:
        sized["density_fit"] = False
    return {**sized, **explicit}


def _meta(campaign: Campaign, name: str, system_class: str | None, n_units: int | None,
          **more: Any) -> dict[str, Any]:
    meta = {"name": name, "campaign": campaign.name, "system_class": system_class, **more}
    if n_units is not None:
        meta["n_units"] = n_units
    return meta


def prescreen_systems(campaign: Campaign, molecules: dict[str, Molecule], store,
                      reuse: bool = True) -> dict[str, float | None]:
    """Run the xTB pre-screen of every DFT-tier system now; returns the xTB gaps (eV).

    The xTB documents are stored (``role: prescreen``) like any other result.
    """
    from jobflow import Flow

    from superatom.campaign.runner import run_flow

    jobs = {}
    for spec in campaign.systems:
        settings = _settings(campaign, spec.settings)
        if choose_tier(molecules[spec.name], spec.tier, campaign, settings) != "dft":
            continue
        meta = _meta(campaign, f"{spec.name} (xTB pre-screen)", spec.system_class,
                     spec.n_units, role="prescreen")
        jobs[spec.name] = XtbFrontierMaker(name=f"xtb screen {spec.name}", reuse=reuse,
                                           metadata=meta).make(molecules[spec.name])
    run_flow(Flow(list(jobs.values())), store)
    gaps = {}
    for name, job in jobs.items():
        found = store.query_one({"uuid": job.uuid}, properties=["output.gap_ev"])
        gaps[name] = (found or {}).get("output", {}).get("gap_ev")
    return gaps


def system_jobs(campaign: Campaign, spec: SystemSpec, molecule: Molecule, reuse: bool,
                screened_gap: float | None = None):
    """Jobs of one system (optional xTB relax, then DFT or xTB levels) and its plan row."""
    settings = _settings(campaign, spec.settings)
    tier = choose_tier(molecule, spec.tier, campaign, settings)
    screened_out = (campaign.prescreen is not None and tier == "dft"
                    and not campaign.prescreen.passes(screened_gap))
    if screened_out:
        row = {"kind": "system", "name": spec.name, "tier": "xtb (screened out)",
               "n_atoms": len(molecule), "formula": molecule.composition.formula.replace(" ", ""),
               "charge": int(molecule.charge), "multiplicity": molecule.spin_multiplicity,
               "prerelax": False, "jobs": 0, "xtb_gap_ev": screened_gap}
        return [], row
    prerelax = campaign.prerelax if spec.prerelax is None else spec.prerelax
    meta = _meta(campaign, spec.name, spec.system_class, spec.n_units)
    jobs = []
    if tier == "xtb":
        jobs.append(XtbFrontierMaker(name=f"xtb {spec.name}", relax=prerelax, reuse=reuse,
                                     metadata=meta).make(molecule))
    else:
        geometry: Any = molecule
        if prerelax:
            relax = XtbFrontierMaker(name=f"xtb relax {spec.name}", relax=True, reuse=reuse,
                                     metadata={**meta, "name": f"{spec.name} (xTB relax)"})
            relax_job = relax.make(molecule)
            jobs.append(relax_job)
            geometry = relax_job.output.molecule
        maker = FrontierOrbitalMaker(name=f"dft {spec.name}", preset=campaign.preset,
                                     settings_overrides=_overrides(campaign, spec.settings,
                                                                   molecule),
                                     reuse=reuse, metadata=meta)
        jobs.append(maker.make(geometry))
    row = {"kind": "system", "name": spec.name, "tier": tier, "n_atoms": len(molecule),
           "formula": molecule.composition.formula.replace(" ", ""),
           "charge": int(molecule.charge), "multiplicity": molecule.spin_multiplicity,
           "prerelax": prerelax, "jobs": len(jobs)}
    if screened_gap is not None:
        row["xtb_gap_ev"] = screened_gap
    return jobs, row


def interaction_flow(campaign: Campaign, spec, molecule: Molecule, system_class, reuse: bool):
    """Interaction flow at the DFT tier, or a level-only summary at the xTB tier."""
    settings = _settings(campaign)
    tier = choose_tier(molecule, spec.tier, campaign, settings)
    meta = _meta(campaign, spec.name, system_class, None)
    if tier == "dft":
        flow = InteractionFlowMaker(
            name=f"interaction {spec.name}", preset=campaign.preset,
            settings_overrides=_overrides(campaign, molecule=molecule), reuse=reuse,
            angular=spec.angular,
            metadata=meta,
        ).make(molecule, spec.fragment_charges, spec.fragment_multiplicities)
    else:
        pieces = split_fragments(molecule, spec.fragment_charges, spec.fragment_multiplicities)
        jobs = [
            XtbFrontierMaker(name=f"xtb {spec.name}:{label}", reuse=reuse,
                             metadata={**meta, "name": f"{spec.name}:{label}", "n_units": 1,
                                       "role": "monomer"}).make(piece)
            for label, piece in pieces.items()
        ]
        assembly = XtbFrontierMaker(name=f"xtb {spec.name}", reuse=reuse,
                                    metadata={**meta, "n_units": len(pieces),
                                              "role": "assembly"}).make(molecule)
        summary = level_interaction_summary([j.output for j in jobs], assembly.output,
                                            name=spec.name, campaign=campaign.name,
                                            system_class=system_class)
        flow = Flow([*jobs, assembly, summary], output=summary.output,
                    name=f"interaction {spec.name}")
    row = {"kind": "interaction", "name": spec.name, "tier": tier, "n_atoms": len(molecule),
           "formula": molecule.composition.formula.replace(" ", ""),
           "charge": int(molecule.charge), "multiplicity": molecule.spin_multiplicity,
           "prerelax": False, "jobs": len(flow.jobs)}
    return flow, row


def chain_flow(campaign: Campaign, spec, members: list[Molecule], counts: list[int],
               reuse: bool):
    """Chain-scaling flow at the tier the largest member allows."""
    settings = _settings(campaign)
    tier = choose_tier(max(members, key=len), spec.tier, campaign, settings)
    meta = _meta(campaign, spec.name, spec.system_class, None)
    if tier == "dft":
        flow = ChainScalingFlowMaker(name=f"chain {spec.name}", preset=campaign.preset,
                                     settings_overrides=_overrides(campaign,
                                                                   molecule=max(members, key=len)),
                                     reuse=reuse,
                                     metadata=meta).make(members, counts)
    else:
        jobs = [
            XtbFrontierMaker(name=f"xtb {spec.name} n={n}", reuse=reuse,
                             metadata={**meta, "name": f"{spec.name} n={n}", "n_units": n,
                                       "role": "chain member"}).make(member)
            for n, member in zip(counts, members, strict=True)
        ]
        fit = chain_scaling_analysis([j.output for j in jobs], counts, name=spec.name,
                                     campaign=campaign.name, system_class=spec.system_class)
        flow = Flow([*jobs, fit], output=fit.output, name=f"chain {spec.name}")
    row = {"kind": "chain", "name": spec.name, "tier": tier,
           "n_atoms": max(len(m) for m in members),
           "formula": " / ".join(m.composition.formula.replace(" ", "") for m in members),
           "charge": None, "multiplicity": None, "prerelax": False, "jobs": len(flow.jobs)}
    return flow, row


def build_campaign_flow(campaign: Campaign, reuse: bool = True,
                        store=None) -> tuple[Flow, list[dict]]:
    """One Flow for the whole campaign and a row per system/interaction/chain.

    With ``campaign.prescreen`` the xTB pre-screen runs now into ``store`` (required then)
    and only the systems that pass get DFT jobs.
    """
    from superatom.errors import InputError
    from superatom.structures.registry import build_structure

    molecules = {s.name: build_system(s, campaign.base_dir) for s in campaign.systems}
    specs = {s.name: s for s in campaign.systems}
    gaps: dict[str, float | None] = {}
    if campaign.prescreen is not None:
        if store is None:
            raise InputError("a campaign with 'prescreen' needs a store to run the xTB screen")
        gaps = prescreen_systems(campaign, molecules, store, reuse)
    parts: list[Any] = []
    plan: list[dict] = []
    interaction_systems = {i.system for i in campaign.interactions}
    for spec in campaign.systems:
        if spec.name in interaction_systems:
            continue  # the interaction flow computes this assembly
        jobs, row = system_jobs(campaign, spec, molecules[spec.name], reuse, gaps.get(spec.name))
        parts.extend(jobs)
        plan.append(row)
    for inter in campaign.interactions:
        flow, row = interaction_flow(campaign, inter, molecules[inter.system],
                                     specs[inter.system].system_class, reuse)
        parts.append(flow)
        plan.append(row)
    for chain in campaign.chains:
        if chain.members:
            members = [molecules[m] for m in chain.members]
            counts = [specs[m].n_units or k + 1 for k, m in enumerate(chain.members)]
        else:
            options = {k: v for k, v in chain.build.items() if k != "kind"}
            counts = list(chain.n)
            members = [build_structure(chain.build["kind"], n=n, **options) for n in counts]
        flow, row = chain_flow(campaign, chain, members, counts, reuse)
        parts.append(flow)
        plan.append(row)
    return Flow(parts, name=f"campaign {campaign.name}"), plan

"""Plan a campaign in one step: every system resolved once into a typed :class:`SystemPlan`.

Each system gets its molecule, its :class:`CalcSettings` (preset + campaign settings + its own
``settings:``, merged once, then memory and DF-vs-direct sized from its AO count unless set
explicitly), its tier, its resources and its ``prerelax`` flag. Interactions and chains refer
to these entries, so a system used in an interaction or a chain is computed with its own
settings and pre-relaxation. Job sizing happens here only (the AO count of a system is taken
once); the flow builder, ``superatom screen`` and the HPC submission read the plan.

Examples
--------
>>> from superatom.campaign.spec import Campaign
>>> plan = plan_campaign(Campaign(name="demo", preset="fast", worker_gpu=False, systems=[
...     {"name": "W6O19", "build": {"kind": "lindqvist", "metal": "W"}},
...     {"name": "W6O19 DFT", "build": {"kind": "lindqvist", "metal": "W"}, "tier": "dft",
...      "settings": {"xc": "PBE"}}]))
>>> [(e.tier, e.nao, e.settings.xc) for e in plan.systems.values()]
[('xtb', 458, 'PBE0'), ('dft', 458, 'PBE')]
>>> plan.systems["W6O19 DFT"].resources.device
'cpu'
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Molecule

from superatom.calc_settings import CalcSettings, as_settings, load_preset
from superatom.campaign.resources import JobResources, pcm_cached, plan_resources
from superatom.campaign.spec import Campaign, build_system
from superatom.errors import InputError


class _Plan(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)


class SystemPlan(_Plan):
    """One structure of the campaign, resolved: what runs, how, and where."""

    name: str
    role: Literal["system", "assembly", "chain member"] = Field(
        description="'assembly': computed inside its interaction flow; 'chain member': built "
        "for a chain (its own job); 'system': a job of its own")
    molecule: Molecule
    settings: CalcSettings
    tier: Literal["dft", "xtb"]
    nao: int | None = Field(description="AO count in the settings' basis (None at the xTB tier)")
    resources: JobResources | None = Field(description="what a DFT job of it asks for")
    prerelax: bool
    system_class: str | None = None
    n_units: int | None = None
    xtb_gap_ev: float | None = Field(None, description="GFN2-xTB gap of the pre-screen")
    screened_out: bool = False

    def metadata(self, campaign: str, **more: Any) -> dict[str, Any]:
        """Labels stored in the documents of this system's jobs."""
        meta = {"name": self.name, "campaign": campaign, "system_class": self.system_class,
                **more}
        if self.n_units is not None:
            meta["n_units"] = self.n_units
        return meta


class InteractionPlan(_Plan):
    """An interaction analysis of the assembly ``system`` (a :class:`SystemPlan` name)."""

    name: str
    system: str
    tier: Literal["dft", "xtb"]
    fragment_charges: dict[str, int] | None = None
    fragment_multiplicities: dict[str, int] | None = None
    angular: bool = False


class ChainPlan(_Plan):
    """A chain-scaling series over ``members`` (:class:`SystemPlan` names, n ascending)."""

    name: str
    members: list[str]
    n_units: list[int]
    tier: Literal["dft", "xtb"]
    system_class: str | None = None
    built: bool = Field(description="members built for this chain (not campaign systems)")


class CampaignPlan(_Plan):
    """The resolved campaign: systems, interactions and chains."""

    campaign: Campaign
    systems: dict[str, SystemPlan]
    interactions: list[InteractionPlan]
    chains: list[ChainPlan]
    prescreened: bool = False
    job_resources: dict[str, JobResources] = Field(
        default_factory=dict, description="job uuid -> resources, set when the flow is built")

    @property
    def name(self) -> str:
        return self.campaign.name


def resolve_tier(requested: str, nao: int | None, settings: CalcSettings,
                 campaign: Campaign, xtb_refusal: str = "") -> str:
    """``dft`` or ``xtb``: ``auto`` takes DFT when the AO count fits the device that will run
    the job (:func:`dft_nao_limit`), and always when the xTB tier refuses the system
    (``xtb_refusal``, the reason; an explicit ``xtb`` is then an InputError). Nothing is probed
    here: planning may run on a login node without the GPU the jobs will get."""
    if requested == "xtb" and xtb_refusal:
        raise InputError(xtb_refusal)
    if requested != "auto":
        return requested
    if xtb_refusal:
        return "dft"
    return "dft" if nao <= dft_nao_limit(campaign, settings.device) else "xtb"


def dft_nao_limit(campaign: Campaign, device: str) -> int:
    """Largest AO count planned at the DFT tier for jobs with ``device``.

    ``cpu``/``gpu`` take their own limit; ``auto`` follows ``campaign.worker_gpu`` and, when
    that is unknown (cluster submission), the GPU limit: such jobs ask the scheduler for a GPU
    (:func:`superatom.campaign.resources.plan_resources`) and choose their device on the worker.

    Examples
    --------
    >>> c = Campaign(name="c", dft_max_nao_cpu=300, dft_max_nao_gpu=6000)
    >>> dft_nao_limit(c, "auto"), dft_nao_limit(c, "cpu")
    (6000, 300)
    >>> dft_nao_limit(c.model_copy(update={"worker_gpu": False}), "auto")
    300
    """
    on_gpu = {"gpu": True, "cpu": False}.get(device, campaign.worker_gpu)
    return campaign.dft_max_nao_cpu if on_gpu is False else campaign.dft_max_nao_gpu


def sized_settings(settings: CalcSettings, explicit: set[str], resources: JobResources,
                   memory_cap_gb: float | None) -> CalcSettings:
    """``settings`` with memory and DF-vs-direct from ``resources`` unless set explicitly.

    Examples
    --------
    >>> res = plan_resources(nao=2064, n_atoms=100)
    >>> s = sized_settings(load_preset("screening"), set(), res, memory_cap_gb=16)
    >>> s.density_fit, s.max_memory_mb <= 16_000
    (False, True)
    """
    memory_gb = resources.memory_gb
    if memory_cap_gb is not None:
        memory_gb = min(memory_gb, memory_cap_gb)
    sized: dict[str, Any] = {"max_memory_mb": int(memory_gb * 1000 * 0.8)}
    if not resources.density_fit:
        sized["density_fit"] = False
    update = {k: v for k, v in sized.items() if k not in explicit}
    return as_settings(settings, **update) if update else settings  # validated, not copied


def plan_system(campaign: Campaign, name: str, molecule: Molecule, requested_tier: str,
                explicit: dict[str, Any], prerelax: bool | None, role: str,
                system_class: str | None = None, n_units: int | None = None) -> SystemPlan:
    """Resolve one structure: settings merged once, AOs counted once, tier and resources."""
    from superatom import engine
    from superatom.engine.xtb_scope import xtb_applicable

    explicit = {**campaign.settings, **explicit}
    settings = load_preset(campaign.preset, **explicit)
    applicable, refusal = xtb_applicable(molecule)
    nao = None
    if requested_tier != "xtb":
        nao = len(engine.ao_layout(molecule, settings))
    tier = resolve_tier(requested_tier, nao, settings, campaign, refusal)
    resources = None
    if tier == "dft":
        resources = plan_resources(nao=nao, n_atoms=len(molecule), device=settings.device,
                                   solvent=pcm_cached(settings))
        settings = sized_settings(settings, set(explicit), resources, campaign.memory_cap_gb)
    return SystemPlan(
        name=name, role=role, molecule=molecule, settings=settings, tier=tier, nao=nao,
        resources=resources,
        # no xTB geometry for what the xTB tier refuses
        prerelax=(campaign.prerelax if prerelax is None else prerelax) and applicable,
        system_class=system_class, n_units=n_units,
    )


def _chain_tier(chain_name: str, members: list[SystemPlan]) -> str:
    tiers = {m.tier for m in members}
    fingerprints = {m.settings.fingerprint() for m in members if m.tier == "dft"}
    if len(tiers) > 1 or len(fingerprints) > 1:
        raise InputError(
            f"chain '{chain_name}' mixes tiers or settings across its members: give its "
            "members the same tier and settings, or the fit compares different methods")
    return tiers.pop()


def plan_campaign(campaign: Campaign) -> CampaignPlan:
    """Resolve every system, interaction and chain of ``campaign`` once (runs nothing)."""
    from superatom.structures.registry import build_structure

    assemblies = {i.system for i in campaign.interactions}
    specs = {spec.name: spec for spec in campaign.systems}
    systems: dict[str, SystemPlan] = {}
    for spec in specs.values():
        systems[spec.name] = plan_system(
            campaign, spec.name, build_system(spec, campaign.base_dir), spec.tier,
            spec.settings, spec.prerelax, "assembly" if spec.name in assemblies else "system",
            spec.system_class, spec.n_units)
    interactions = []
    for inter in campaign.interactions:
        system = systems[inter.system]
        tier = system.tier if inter.tier == "auto" else inter.tier
        if tier != system.tier:
            system = systems[inter.system] = plan_system(
                campaign, system.name, system.molecule, tier, specs[system.name].settings,
                specs[system.name].prerelax, "assembly", system.system_class, system.n_units)
        interactions.append(InteractionPlan(
            name=inter.name, system=inter.system, tier=tier,
            fragment_charges=inter.fragment_charges,
            fragment_multiplicities=inter.fragment_multiplicities, angular=inter.angular))
    chains = []
    for chain in campaign.chains:
        if chain.members:
            members = [systems[m] for m in chain.members]
            counts = [m.n_units or k + 1 for k, m in enumerate(members)]
            names = list(chain.members)
        else:
            options = {k: v for k, v in chain.build.items() if k != "kind"}
            counts = list(chain.n)
            built = [build_structure(chain.build["kind"], n=n, **options) for n in counts]
            largest = plan_system(campaign, f"{chain.name} n={counts[-1]}",
                                  max(built, key=len), chain.tier, {}, False, "chain member")
            members = [largest.model_copy(update={
                "name": f"{chain.name} n={n}", "molecule": mol, "n_units": n,
                "system_class": chain.system_class}) for n, mol in zip(counts, built,
                                                                         strict=True)]
            names = [m.name for m in members]
            systems.update({m.name: m for m in members})
        chains.append(ChainPlan(name=chain.name, members=names, n_units=counts,
                                tier=_chain_tier(chain.name, members),
                                system_class=chain.system_class, built=not chain.members))
    return CampaignPlan(campaign=campaign, systems=systems, interactions=interactions,
                        chains=chains)


def plan_rows(plan: CampaignPlan, jobs: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """One table row per system, interaction and chain (what ``superatom screen`` shows)."""
    jobs = jobs or {}

    def system_row(kind: str, name: str, entry: SystemPlan, tier: str) -> dict[str, Any]:
        row = {"kind": kind, "name": name, "tier": tier, "n_atoms": len(entry.molecule),
               "formula": entry.molecule.composition.formula.replace(" ", ""),
               "charge": int(entry.molecule.charge),
               "multiplicity": entry.molecule.spin_multiplicity, "prerelax": entry.prerelax,
               "method": entry.settings.method_label() if tier == "dft" else "GFN2-xTB",
               "jobs": jobs.get(f"{kind}:{name}", 0)}
        if entry.xtb_gap_ev is not None:
            row["xtb_gap_ev"] = entry.xtb_gap_ev
        return row

    rows = []
    for entry in plan.systems.values():
        if entry.role == "system":
            tier = "xtb (screened out)" if entry.screened_out else entry.tier
            rows.append(system_row("system", entry.name, entry, tier))
    for inter in plan.interactions:
        rows.append(system_row("interaction", inter.name, plan.systems[inter.system],
                               inter.tier))
    for chain in plan.chains:
        members = [plan.systems[m] for m in chain.members]
        rows.append({"kind": "chain", "name": chain.name, "tier": chain.tier,
                     "n_atoms": max(len(m.molecule) for m in members),
                     "formula": " / ".join(m.molecule.composition.formula.replace(" ", "")
                                           for m in members),
                     "charge": None, "multiplicity": None,
                     "prerelax": any(m.prerelax for m in members),
                     "jobs": jobs.get(f"chain:{chain.name}", 0)})
    return rows

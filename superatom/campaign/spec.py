"""Screening campaigns: a validated YAML file -> one jobflow Flow -> results in the store.

A campaign lists systems (built by a structure builder or read from a file), interaction
analyses of assemblies and chain-scaling series. Each calculation runs at the DFT tier or at
the GFN2-xTB tier, chosen per system (``tier: auto`` picks DFT when the system is small enough
for the machine, see :func:`superatom.campaign.plan.resolve_tier`).

Examples
--------
>>> campaign = Campaign(name="demo", preset="fast", systems=[
...     {"name": "h2", "file": "h2.xyz", "tier": "dft"}])
>>> campaign.systems[0].tier
'dft'
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    model_validator,
)
from pymatgen.core import Molecule

from superatom.errors import InputError
from superatom.names import Name
from superatom.yamlfile import read_yaml_mapping

Tier = Literal["auto", "dft", "xtb"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SystemSpec(_Strict):
    """One structure: ``build: {kind: ..., options}``, ``file: path`` or ``standard: NAME``
    (a GFN2-xTB-relaxed geometry shipped with superatom, e.g. ``PW12O40``)."""

    name: Name
    build: dict[str, Any] | None = None
    file: str | None = None
    standard: str | None = None
    charge: StrictInt | None = None
    multiplicity: StrictInt | None = None
    system_class: str | None = None
    n_units: StrictInt | None = Field(None, ge=1)
    tier: Tier = "auto"
    prerelax: bool | None = None
    settings: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> SystemSpec:
        if sum(x is not None for x in (self.build, self.file, self.standard)) != 1:
            raise ValueError("give exactly one of 'build', 'file' or 'standard'")
        if self.build is not None and "kind" not in self.build:
            raise ValueError("'build' needs a 'kind', e.g. {kind: keggin}")
        return self


class InteractionSpec(_Strict):
    """Interaction analysis of an assembly system (it needs ``fragment`` labels)."""

    name: Name
    system: Name
    fragment_charges: dict[str, StrictInt] | None = None
    fragment_multiplicities: dict[str, StrictInt] | None = None
    tier: Tier = "auto"
    angular: bool = False


class ChainSpec(_Strict):
    """Chain-scaling series: ``members`` (system names, n = 1..N) or ``build`` + ``n``."""

    name: Name
    members: list[Name] | None = None
    build: dict[str, Any] | None = None
    n: list[Annotated[int, Field(strict=True, ge=1)]] | None = None
    system_class: str | None = None
    tier: Tier = "auto"

    @model_validator(mode="after")
    def _one_source(self) -> ChainSpec:
        if (self.members is None) == (self.build is None):
            raise ValueError("give exactly one of 'members' or 'build' (with 'n')")
        if self.members is not None and not self.members:
            raise ValueError("'members' is empty: list the systems of the chain, n = 1, 2, ...")
        for values, what in ((self.members, "member"), (self.n, "length in 'n'")):
            repeated = sorted({str(v) for v in values or [] if values.count(v) > 1})
            if repeated:
                raise ValueError(f"{what} '{repeated[0]}' is listed twice: a chain needs "
                                 "distinct sizes, n = 1, 2, ...")
        if self.build is not None and not self.n:
            raise ValueError("'build' needs 'n', the list of chain lengths, e.g. [1, 2, 3]")
        return self


class PrescreenSpec(_Strict):
    """Two-level screening: a GFN2-xTB single point of every DFT-tier system first; DFT only
    for systems whose xTB gap (eV) lies inside ``[gap_min_ev, gap_max_ev]``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    gap_min_ev: float | None = None
    gap_max_ev: float | None = None

    @model_validator(mode="after")
    def _a_window(self) -> PrescreenSpec:
        if (self.gap_min_ev is not None and self.gap_max_ev is not None
                and self.gap_min_ev > self.gap_max_ev):
            raise ValueError(f"gap_min_ev {self.gap_min_ev} is above gap_max_ev "
                             f"{self.gap_max_ev}: every system would be screened out")
        return self

    def passes(self, gap_ev: float | None) -> bool:
        if gap_ev is None:
            return False
        low = self.gap_min_ev if self.gap_min_ev is not None else float("-inf")
        high = self.gap_max_ev if self.gap_max_ev is not None else float("inf")
        return low <= gap_ev <= high


class Campaign(_Strict):
    """A screening campaign (see ``examples/quickstart.yaml``)."""

    name: Name
    description: str = ""
    preset: str = "screening"
    settings: dict[str, Any] = Field(default_factory=dict)
    prerelax: bool = False
    prescreen: PrescreenSpec | None = None
    memory_cap_gb: float | None = Field(
        None, ge=0.125, allow_inf_nan=False,
        description="cap on the memory a job plans for; 'superatom screen' sets 80 % of this "
        "machine's memory, cluster jobs get what they ask the scheduler for")
    dft_max_nao_cpu: int = Field(300, ge=0, strict=True,
                                 description="auto tier: DFT up to this many AOs on CPU")
    dft_max_nao_gpu: int = Field(6000, ge=0, strict=True,
                                 description="auto tier: DFT up to this many AOs on GPU")
    worker_gpu: bool | None = Field(
        None, description="whether the machine that runs the jobs has a GPU; 'superatom screen' "
        "sets it for this machine; unset (cluster submission): device=auto jobs are planned "
        "for a GPU node and decide their device on the worker")
    systems: list[SystemSpec] = Field(default_factory=list)
    interactions: list[InteractionSpec] = Field(default_factory=list)
    chains: list[ChainSpec] = Field(default_factory=list)
    base_dir: str = Field(".", description="folder that relative 'file' paths start from")

    @model_validator(mode="after")
    def _references(self) -> Campaign:
        names = [s.name for s in self.systems]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"system name '{sorted(duplicates)[0]}' is used twice")
        for inter in self.interactions:
            if inter.system not in names:
                raise ValueError(f"interaction '{inter.name}' names unknown system "
                                 f"'{inter.system}'")
        for chain in self.chains:
            for member in chain.members or []:
                if member not in names:
                    raise ValueError(f"chain '{chain.name}' names unknown system '{member}'")
        return self


def load_campaign(path: str | Path) -> Campaign:
    """Read and validate a campaign YAML file; every problem is a one-line InputError."""
    path = Path(path)
    data = read_yaml_mapping(path, "campaign file", "a mapping with 'name' and 'systems'")
    data.setdefault("base_dir", str(path.parent.resolve()))
    try:
        campaign = Campaign(**data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "campaign"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = f"unknown key '{first['loc'][-1]}' (check its spelling)"
        raise InputError(f"{path.name}: {where}: {message}") from None
    from superatom.calc_settings import load_preset

    load_preset(campaign.preset, **campaign.settings)
    for system in campaign.systems:
        load_preset(campaign.preset, **{**campaign.settings, **system.settings})
    if not campaign.systems and not campaign.chains:
        raise InputError(f"{path.name}: no systems: list at least one under 'systems' (or a "
                         "chain under 'chains')")
    return campaign


def build_system(spec: SystemSpec, base_dir: str = ".") -> Molecule:
    """The Molecule of a system spec, with charge/multiplicity overrides applied."""
    if spec.file is not None:
        from superatom.structures.io import read_molecule

        path = Path(spec.file)
        if not path.is_absolute():
            path = Path(base_dir) / path
        return read_molecule(path, charge=spec.charge, multiplicity=spec.multiplicity)
    if spec.standard is not None:
        from superatom.structures.standard import load_standard

        molecule = load_standard(spec.standard)
    else:
        from superatom.structures.registry import build_structure

        options = {k: v for k, v in spec.build.items() if k != "kind"}
        molecule = build_structure(spec.build["kind"], **options)
    if spec.charge is not None or spec.multiplicity is not None:
        from superatom.structures.io import electron_count, resolve_multiplicity

        charge = spec.charge if spec.charge is not None else round(molecule.charge)
        symbols = [site.specie.symbol for site in molecule]
        try:  # same rules as a file: no silent doublet, multiplicity >= 1 and of right parity
            multiplicity = resolve_multiplicity(electron_count(symbols, charge),
                                                spec.multiplicity)
        except InputError as err:
            raise InputError(f"system '{spec.name}': {err}") from None
        molecule.set_charge_and_spin(charge, multiplicity)
    return molecule


def local_memory_gb() -> float:
    """Physical memory of this machine in GB."""
    import os

    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9

"""Chain-scaling flow: frontier jobs for fragments n = 1..N of a chain, then a tight-binding
fit of HOMO/LUMO against n (coupling t, band width, infinite-chain gap).

Examples
--------
>>> from pymatgen.core import Molecule
>>> from superatom.workflows.chain import ChainScalingFlowMaker
>>> chain = [Molecule(["H", "H"] * n, [[0, 0, 2.0 * k + d] for k in range(n) for d in (0, 0.74)])
...          for n in (1, 2, 3)]
>>> flow = ChainScalingFlowMaker(preset="fast").make(chain)
>>> len(flow.jobs)
4
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from jobflow import Flow, Maker, job
from pymatgen.core import Molecule

from superatom.schemas.chain import ChainScalingDoc
from superatom.schemas.documents import field_of
from superatom.workflows.frontier import FrontierOrbitalMaker


@job(output_schema=ChainScalingDoc)
def chain_scaling_analysis(
    member_docs: list[Any],
    n_units: list[int],
    name: str = "",
    campaign: str | None = None,
    system_class: str | None = None,
) -> ChainScalingDoc:
    """Fit the tight-binding chain model to the members' HOMO/LUMO levels (eV)."""
    from superatom.analysis.chain import chain_scaling

    start = time.perf_counter()
    docs = list(member_docs)
    homo = [field_of(d, "homo_ev") for d in docs]
    lumo = [field_of(d, "lumo_ev") for d in docs]
    fit = chain_scaling(n_units, homo, lumo)
    return ChainScalingDoc(
        name=name or field_of(docs[0], "name"),
        campaign=campaign,
        system_class=system_class,
        method=field_of(docs[0], "method"),
        n_units=list(n_units),
        member_uuids=[field_of(d, "job_uuid") for d in docs],
        homo_ev=homo,
        lumo_ev=lumo,
        gap_ev=[field_of(d, "gap_ev") for d in docs],
        settings=field_of(docs[0], "settings"),
        input_hashes=[field_of(d, "input_hash") for d in docs],
        analysis_s=time.perf_counter() - start,
        fit=fit.model_dump(mode="json"),
    )


@dataclass
class ChainScalingFlowMaker(Maker):
    """Frontier jobs for chain fragments of n = 1..N units, then the scaling fit."""

    name: str = "chain scaling"
    preset: str = "screening"
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    reuse: bool = True
    metadata: dict[str, Any] = field(default_factory=dict)

    def make(self, fragments: list[Molecule], n_units: list[int] | None = None) -> Flow:
        """``fragments[k]`` holds ``n_units[k]`` units (default 1, 2, ..., N)."""
        counts = list(n_units or range(1, len(fragments) + 1))
        label = self.metadata.get("name") or "chain"
        jobs = []
        for count, fragment in zip(counts, fragments, strict=True):
            maker = FrontierOrbitalMaker(
                name=f"frontier n={count}", preset=self.preset,
                settings_overrides=self.settings_overrides, reuse=self.reuse,
                metadata={**self.metadata, "name": f"{label} n={count}", "n_units": count,
                          "role": "chain member"},
            )
            jobs.append(maker.make(fragment))
        fit = chain_scaling_analysis(
            [j.output for j in jobs], counts, name=label,
            campaign=self.metadata.get("campaign"),
            system_class=self.metadata.get("system_class"),
        )
        fit.name = "chain scaling fit"
        return Flow([*jobs, fit], output=fit.output, name=self.name)

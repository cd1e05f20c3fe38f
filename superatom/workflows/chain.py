"""Chain-scaling flow: frontier jobs for fragments n = 1..N of a chain, then a tight-binding
fit of HOMO/LUMO against n (coupling t, band width, infinite-chain gap).

The per-structure Maker is a field: the DFT and the GFN2-xTB tier are the same flow with a
different ``frontier_maker``.

Examples
--------
>>> from pymatgen.core import Molecule
>>> from superatom.calc_settings import load_preset
>>> from superatom.workflows.chain import ChainScalingFlowMaker
>>> from superatom.workflows.frontier import FrontierOrbitalMaker
>>> chain = [Molecule(["H", "H"] * n, [[0, 0, 2.0 * k + d] for k in range(n) for d in (0, 0.74)])
...          for n in (1, 2, 3)]
>>> maker = FrontierOrbitalMaker(settings=load_preset("fast"))
>>> flow = ChainScalingFlowMaker(frontier_maker=maker).make(chain)
>>> len(flow.jobs)
4
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from jobflow import Flow, Maker, job
from pymatgen.core import Molecule

from superatom.schemas.chain import ChainScalingDoc
from superatom.schemas.registry import parse_document
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
    docs = [parse_document(d) for d in member_docs]
    homo = [d.homo_ev for d in docs]
    lumo = [d.lumo_ev for d in docs]
    fit = chain_scaling(n_units, homo, lumo)
    return ChainScalingDoc(
        name=name or docs[0].name,
        campaign=campaign,
        system_class=system_class,
        method=docs[0].method,
        n_units=list(n_units),
        member_uuids=[d.job_uuid for d in docs],
        homo_ev=homo,
        lumo_ev=lumo,
        gap_ev=[d.gap_ev for d in docs],
        settings=docs[0].settings,
        input_hashes=[d.input_hash for d in docs],
        analysis_s=time.perf_counter() - start,
        fit=fit,
    )


@dataclass
class ChainScalingFlowMaker(Maker):
    """Frontier jobs for chain fragments of n = 1..N units, then the scaling fit.

    Parameters
    ----------
    frontier_maker : Maker
        Per-structure Maker (:class:`FrontierOrbitalMaker` or
        :class:`~superatom.workflows.xtb.XtbFrontierMaker`); each member gets a copy with its
        own name and labels.
    """

    name: str = "chain scaling"
    frontier_maker: Maker = field(default_factory=FrontierOrbitalMaker)
    metadata: dict[str, Any] = field(default_factory=dict)

    def make(self, fragments: list[Molecule], n_units: list[int] | None = None) -> Flow:
        """``fragments[k]`` holds ``n_units[k]`` units (default 1, 2, ..., N)."""
        counts = list(n_units or range(1, len(fragments) + 1))
        label = self.metadata.get("name") or "chain"
        jobs = []
        for count, fragment in zip(counts, fragments, strict=True):
            maker = replace(self.frontier_maker, name=f"frontier n={count}",
                            metadata={**self.metadata, "name": f"{label} n={count}",
                                      "n_units": count, "role": "chain member"})
            jobs.append(maker.make(fragment))
        fit = chain_scaling_analysis(
            [j.output for j in jobs], counts, name=label,
            campaign=self.metadata.get("campaign"),
            system_class=self.metadata.get("system_class"),
        )
        fit.name = "chain scaling fit"
        return Flow([*jobs, fit], output=fit.output, name=self.name)

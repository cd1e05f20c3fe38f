"""Valence frontier orbitals: is the formal LUMO a metal d level, or something else?

In an oxo-metalate the chemist's gap is O 2p -> metal d. With a basis that has diffuse
metal s/p functions (def2: Mo 5s/5p, W 6s/6p) the lowest virtual orbital can be such a
diffuse metal s/p level instead ([MoO4]2- in C-PCM: LUMO 99 % Mo 5s, the Mo 4d e set 0.5 eV
higher), and a charged anion in vacuum can have unbound (positive) levels. This module reads
the character of the virtual orbitals (Lowdin weights, which are never negative) and names the
lowest *valence* virtual: the first one with at least ``d_threshold`` of its weight in metal
d functions. Systems without d-block metals keep the formal LUMO.

The stored ``gap_ev`` stays the formal HOMO-LUMO gap (a definition); ``valence_gap_ev`` is
the O 2p -> metal d gap, which is the one to compare with charge-transfer gaps of
oxo-metalates.

Examples
--------
>>> res = valence_frontier(molybdate_doc)            # doctest: +SKIP
>>> res.formal_lumo_valence, res.valence_lumo_label  # doctest: +SKIP
(False, 'LUMO+1')
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field
from pymatgen.core import Element

from superatom import HARTREE_TO_EV
from superatom.analysis.composition import ao_weights
from superatom.analysis.docdata import doc_data

D_THRESHOLD = 0.3


def is_d_metal(symbol: str) -> bool:
    """True for transition metals (groups 3-12, La and Ac included).

    Examples
    --------
    >>> is_d_metal("Mo"), is_d_metal("O"), is_d_metal("W")
    (True, False, True)
    """
    return Element(symbol).is_transition_metal


class VirtualCharacter(BaseModel):
    """Character of one virtual orbital (Lowdin weights)."""

    index: int
    label: str
    energy_ev: float
    metal_d: float = Field(description="weight on d functions of d-block metals")
    metal_sp: float = Field(description="weight on s and p functions of d-block metals")
    kind: str = Field(description="'metal d', 'metal s/p (diffuse)', 'ligand' or 'other'")
    unbound: bool = Field(description="positive energy in a calculation without solvent")


class ValenceFrontier(BaseModel):
    """Formal and valence LUMO of one spin channel (eV)."""

    name: str
    spin: str
    homo_ev: float
    formal_lumo_ev: float
    formal_lumo_valence: bool = Field(description="the formal LUMO is a metal d level (or the "
                                      "system has no d-block metal)")
    valence_lumo_index: int | None
    valence_lumo_label: str | None
    valence_lumo_ev: float | None = Field(description="lowest virtual with metal d weight >= "
                                          "the threshold (formal LUMO without d metals)")
    formal_gap_ev: float
    valence_gap_ev: float | None = Field(description="valence LUMO - HOMO")
    below_valence: list[VirtualCharacter] = Field(
        description="the virtuals below the valence LUMO (none when the formal LUMO is it)")

    def summary(self) -> str:
        """One line for a table or the terminal."""
        if self.formal_lumo_valence:
            return f"{self.name}: the LUMO is a valence level (gap {self.formal_gap_ev:.3f} eV)"
        skipped = ", ".join(f"{v.label} {v.energy_ev:+.2f} eV {v.kind}"
                            + (" unbound" if v.unbound else "") for v in self.below_valence)
        if self.valence_lumo_ev is None:
            return f"{self.name}: no metal d virtual among those read ({skipped})"
        return (f"{self.name}: formal LUMO is not a valence level ({skipped}); lowest metal d "
                f"virtual {self.valence_lumo_label} at {self.valence_lumo_ev:+.3f} eV, valence "
                f"gap {self.valence_gap_ev:.3f} eV (formal gap {self.formal_gap_ev:.3f} eV)")


def _kind(metal_d: float, metal_sp: float, ligand: float) -> str:
    if metal_d >= D_THRESHOLD:
        return "metal d"
    if metal_sp >= 0.5:
        return "metal s/p (diffuse)"
    return "ligand" if ligand >= 0.5 else "other"


def valence_frontier(doc, spin: str | None = None, window: int = 20,
                     d_threshold: float = D_THRESHOLD) -> ValenceFrontier:
    """The formal LUMO's character and the lowest valence (metal d) virtual of ``doc``.

    Parameters
    ----------
    doc : FrontierOrbitalDoc
        A result with stored orbitals (``superatom.db.load_result``).
    spin : str, optional
        ``alpha``/``beta`` for open-shell results (default: the first channel).
    window : int
        Number of virtual orbitals read, from the LUMO up.
    d_threshold : float
        Smallest metal d weight that makes a virtual a valence (metal d) level.

    Returns
    -------
    ValenceFrontier
        Energies in eV; ``valence_gap_ev`` is the HOMO -> metal d gap.
    """
    data = doc_data(doc)
    chan = data.channel(spin)
    elements = np.array(data.elements)
    metal_atom = np.array([is_d_metal(e) for e in elements])
    ao_metal = metal_atom[data.ao_atom]
    virt = np.arange(chan.lumo, min(len(chan.energy), chan.lumo + window))
    weights = ao_weights(chan.coeff, data.overlap, "lowdin")[:, virt]
    metal_d = weights[ao_metal & (data.ao_l == 2)].sum(axis=0)
    metal_sp = weights[ao_metal & (data.ao_l <= 1)].sum(axis=0)
    solvated = str(getattr(data.settings, "solvent", "none") or "none").lower() != "none"
    rows = []
    for k, i in enumerate(virt):
        energy = float(chan.energy[i] * HARTREE_TO_EV)
        rows.append(VirtualCharacter(
            index=int(i), label=chan.label(int(i)), energy_ev=energy,
            metal_d=float(metal_d[k]), metal_sp=float(metal_sp[k]),
            kind=_kind(metal_d[k], metal_sp[k], 1.0 - metal_d[k] - metal_sp[k]),
            unbound=energy > 0 and not solvated))
    homo = float(chan.energy[chan.homo] * HARTREE_TO_EV)
    if metal_atom.any():
        first = next((r for r in rows if r.metal_d >= d_threshold), None)
    else:
        first = rows[0] if rows else None
    below = [r for r in rows if first is None or r.index < first.index]
    formal = rows[0].energy_ev
    return ValenceFrontier(
        name=data.name, spin=chan.spin, homo_ev=homo, formal_lumo_ev=formal,
        formal_lumo_valence=first is not None and first.index == chan.lumo,
        valence_lumo_index=first.index if first else None,
        valence_lumo_label=first.label if first else None,
        valence_lumo_ev=first.energy_ev if first else None,
        formal_gap_ev=formal - homo,
        valence_gap_ev=first.energy_ev - homo if first else None,
        below_valence=below,
    )

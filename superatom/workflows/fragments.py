"""Cut an assembly into its fragments (by the ``fragment`` site property) and map atoms.

Examples
--------
>>> from pymatgen.core import Molecule
>>> dimer = Molecule(["H", "H", "H", "H"], [[0, 0, 0], [0, 0, 0.74], [3, 0, 0], [3, 0, 0.74]],
...                  site_properties={"fragment": ["A", "A", "B", "B"]})
>>> [str(m.composition) for m in split_fragments(dimer).values()]
['H2', 'H2']
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from pymatgen.core import Composition, Molecule

from superatom.analysis.embedding import map_atoms
from superatom.errors import InputError
from superatom.structures.units import unit_charges, unit_multiplicity
from superatom.workflows.guesses import occupied_spin_densities


def fragment_labels(molecule: Molecule) -> list[str]:
    """Per-atom fragment labels; an InputError if the molecule has none."""
    labels = molecule.site_properties.get("fragment")
    if not labels:
        raise InputError(
            "the assembly has no 'fragment' site labels: build it with 'superatom build' or "
            "add a fragment column to the extended XYZ file"
        )
    return [str(label) for label in labels]


def _default_charges(molecule: Molecule, names: list[str], labels: list[str]) -> dict[str, int]:
    stored = (getattr(molecule, "properties", None) or {}).get("fragment_charges")
    if stored:
        return {str(k): int(v) for k, v in stored.items()}
    formal = unit_charges(names)
    if formal is not None and sum(formal.values()) == round(molecule.charge):
        return formal
    formulas = {
        Composition(Counter(s.specie.symbol for s, lab in zip(molecule, labels, strict=True)
                            if lab == name)).reduced_formula
        for name in names
    }
    total = round(molecule.charge)
    if len(formulas) == 1 and total % len(names) == 0:
        return {name: total // len(names) for name in names}
    electrons = {name: sum(s.specie.Z for s, lab in zip(molecule, labels, strict=True)
                           if lab == name) for name in names}
    closed = closed_shell_charges(electrons, total)
    if closed is not None:
        return closed
    raise InputError(
        f"cannot infer the charge of each fragment of {molecule.composition.reduced_formula} "
        f"(total {total:+d}): give fragment_charges, e.g. "
        + ", ".join(f"{n}: q" for n in names)
    )


def closed_shell_charges(electrons: dict[str, int], total: int, limit: int = 3
                         ) -> dict[str, int] | None:
    """The one charge assignment (|q| <= ``limit`` per fragment, adding up to ``total``) that
    leaves the fewest fragments with an odd electron count and then moves the least charge;
    None when two assignments tie (ambiguous, e.g. Na + Cl) or there are many fragments.

    Examples
    --------
    >>> closed_shell_charges({"Ag": 47, "NH3": 10}, total=1)
    {'Ag': 1, 'NH3': 0}
    >>> closed_shell_charges({"Na": 11, "Cl": 17}, total=0) is None
    True
    """
    from itertools import product

    names = list(electrons)
    if len(names) > 6:
        return None
    scored = []
    for charges in product(range(-limit, limit + 1), repeat=len(names)):
        if sum(charges) != total:
            continue
        odd = sum((electrons[n] - q) % 2 for n, q in zip(names, charges, strict=True))
        scored.append(((odd, sum(abs(q) for q in charges)), charges))
    scored.sort()
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None
    return dict(zip(names, scored[0][1], strict=True))


def split_fragments(
    molecule: Molecule,
    charges: dict[str, int] | None = None,
    multiplicities: dict[str, int] | None = None,
) -> dict[str, Molecule]:
    """One Molecule per fragment label, same coordinates as in the assembly.

    Charges default to ``molecule.properties['fragment_charges']``, then to the formal charges
    of builder unit labels (:mod:`superatom.structures.units`, used when they add up to the
    total), then to an equal split among identical fragments, then to the one assignment by
    composition that gives even electron counts (:func:`closed_shell_charges`); multiplicities
    default to the high-spin value of known units (4f^n, Cu(II)), else the lowest the electron
    count allows.
    """
    labels = fragment_labels(molecule)
    names = list(dict.fromkeys(labels))
    charges = charges or _default_charges(molecule, names, labels)
    stored_mult = (getattr(molecule, "properties", None) or {}).get("fragment_multiplicities")
    multiplicities = multiplicities or stored_mult or {}
    missing = [n for n in names if n not in charges]
    if missing:
        raise InputError(f"fragment_charges lacks {missing[0]}: give a charge for every fragment")
    pieces: dict[str, Molecule] = {}
    for name in names:
        sites = [s for s, lab in zip(molecule, labels, strict=True) if lab == name]
        species = [s.specie for s in sites]
        nelec = sum(sp.Z for sp in species) - int(charges[name])
        default = unit_multiplicity(name)
        if (default - 1) % 2 != nelec % 2:
            default = 1 if nelec % 2 == 0 else 2
        mult = int(multiplicities.get(name, default))
        try:
            pieces[name] = Molecule(
                species, [s.coords for s in sites], charge=int(charges[name]),
                spin_multiplicity=mult, site_properties={"fragment": [name] * len(sites)},
            )
        except ValueError:
            raise InputError(
                f"fragment {name}: charge {charges[name]} and multiplicity {mult} do not fit "
                f"{nelec} electrons: fix fragment_charges/fragment_multiplicities"
            ) from None
    return pieces


def _as_arrays(doc: Any) -> dict[str, np.ndarray]:
    from superatom.schemas.documents import FrontierOrbitalDoc

    doc = FrontierOrbitalDoc.model_validate(doc)
    return doc.orbitals.arrays(), Molecule.from_dict(doc.molecule)


def superposition_density(
    monomer_docs: list[Any], assembly: Molecule, assembly_ao_atom: np.ndarray, restricted: bool
) -> np.ndarray:
    """Block-diagonal AO density of the assembly from converged monomer densities.

    Atoms of the assembly that belong to no monomer (linkers) get a zero block, which
    PySCF's first diagonalisation fills. Spin: an RKS assembly takes alpha + beta of open-shell
    monomers; a UKS assembly splits closed-shell monomer densities in two halves.
    """
    nao = len(assembly_ao_atom)
    dm = np.zeros((2, nao, nao))
    for doc in monomer_docs:
        arrays, monomer = _as_arrays(doc)
        mapping = map_atoms(monomer, assembly)[0]
        block = occupied_spin_densities(arrays["mo_coeff"], arrays["mo_occ"])
        mono_ao_atom = arrays["ao_atom"]
        target = np.concatenate([np.flatnonzero(assembly_ao_atom == mapping[a])
                                 for a in range(len(monomer))])
        source = np.concatenate([np.flatnonzero(mono_ao_atom == a) for a in range(len(monomer))])
        if len(target) != len(source):
            raise InputError("monomer and assembly bases differ: use the same settings for both")
        dm[:, target[:, None], target[None, :]] = block[:, source[:, None], source[None, :]]
    return dm.sum(axis=0) if restricted else dm

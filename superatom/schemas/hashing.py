"""Input hash: geometry, charge, spin, physics settings and code major version.

Examples
--------
>>> from pymatgen.core import Molecule
>>> from superatom.calc_settings import load_preset
>>> h2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])
>>> input_hash(h2, load_preset("fast")) == input_hash(h2, load_preset("fast", device="cpu"))
True
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
from pymatgen.core import Molecule

import superatom
from superatom.calc_settings import CalcSettings
from superatom.schemas.xtb import XTB_METHOD

COORD_DECIMALS = 5  # Angstrom; 1e-5 A differences do not change frontier levels


def _digest(molecule: Molecule, physics: dict) -> str:
    coords = np.round(np.asarray(molecule.cart_coords, dtype=float), COORD_DECIMALS) + 0.0
    payload = {
        "species": [site.specie.symbol for site in molecule],
        "coords": coords.tolist(),
        "charge": round(molecule.charge),
        "multiplicity": int(molecule.spin_multiplicity),
        "major": superatom.__version__.split(".")[0],
        **physics,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def input_hash(molecule: Molecule, settings: CalcSettings) -> str:
    """sha256 over species, rounded coordinates (A), charge, multiplicity, settings, version."""
    return _digest(molecule, {"settings": settings.fingerprint()})


def xtb_input_hash(molecule: Molecule, relax: bool, solvation: str = "none") -> str:
    """Input hash of an xTB job: geometry, charge, spin, method, implicit solvent (as resolved:
    ``"none"`` or ``"gbsa:water"``), relax flag and version.

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> h2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])
    >>> xtb_input_hash(h2, relax=True) != xtb_input_hash(h2, relax=False)
    True
    >>> xtb_input_hash(h2, False, "gbsa:water") != xtb_input_hash(h2, False)
    True
    """
    physics = {"method": XTB_METHOD, "relax": bool(relax)}
    if solvation != "none":  # gas-phase hashes stay as they were
        physics["solvation"] = solvation
    return _digest(molecule, physics)


def tda_input_hash(molecule: Molecule, settings: CalcSettings, nstates: int) -> str:
    """Input hash of a TDA job: the ground state's input hash plus the number of states."""
    return _digest(molecule, {"settings": settings.fingerprint(), "tda_nstates": int(nstates)})


def eda_input_hash(molecule: Molecule, settings: CalcSettings, labels: list[str],
                   charges: dict[str, int], multiplicities: dict[str, int]) -> str:
    """Input hash of an energy decomposition: the assembly's input plus the fragment partition
    (label of every atom, each fragment's charge and multiplicity).

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> from superatom.calc_settings import load_preset
    >>> h4 = Molecule(["H"] * 4, [[0, 0, 0], [0, 0, 0.74], [0, 0, 3], [0, 0, 3.74]])
    >>> a = eda_input_hash(h4, load_preset("fast"), list("AABB"), {"A": 0, "B": 0},
    ...                    {"A": 1, "B": 1})
    >>> a == eda_input_hash(h4, load_preset("fast"), list("ABAB"), {"A": 0, "B": 0},
    ...                     {"A": 1, "B": 1})
    False
    """
    partition = {"labels": [str(x) for x in labels],
                 "charges": {str(k): int(v) for k, v in sorted(charges.items())},
                 "multiplicities": {str(k): int(v) for k, v in sorted(multiplicities.items())}}
    return _digest(molecule, {"settings": settings.fingerprint(), "eda": partition})

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


def input_hash(molecule: Molecule, settings: CalcSettings) -> str:
    """sha256 over species, rounded coordinates (A), charge, multiplicity, settings, version."""
    coords = np.round(np.asarray(molecule.cart_coords, dtype=float), COORD_DECIMALS) + 0.0
    payload = {
        "species": [site.specie.symbol for site in molecule],
        "coords": coords.tolist(),
        "charge": round(molecule.charge),
        "multiplicity": int(molecule.spin_multiplicity),
        "settings": settings.fingerprint(),
        "major": superatom.__version__.split(".")[0],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()



def xtb_input_hash(molecule: Molecule, relax: bool, solvation: str = "none") -> str:
    """Input hash of an xTB job (geometry, charge, spin, method, solvation, relax flag,
    version); ``solvation`` as resolved (``"none"`` or ``"gbsa:water"``)."""
    method = XTB_METHOD if solvation == "none" else f"{XTB_METHOD}+{solvation}"
    tag = CalcSettings(xc=f"{method}{'+relax' if relax else ''}", basis="none", ecp=None,
                       density_fit=False, aux_basis=None)
    return input_hash(molecule, tag)

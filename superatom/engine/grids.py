"""Orbitals on real-space points, cube and Molden files (points in Bohr)."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Molecule

from superatom.calc_settings import CalcSettings
from superatom.engine.mole import build_mole

# --------------------------------------------------------------------------- orbitals on grids


def write_cube(
    molecule: Molecule,
    settings: CalcSettings,
    mo_vector: np.ndarray,
    path: str,
    resolution_bohr: float = 0.25,
) -> str:
    """Write one orbital (AO coefficient vector) as a Gaussian cube file; returns the path."""
    from pyscf.tools import cubegen

    mol = build_mole(molecule, settings)
    cubegen.orbital(mol, path, np.asarray(mo_vector), resolution=resolution_bohr)
    return path


def write_density_cube(
    molecule: Molecule,
    settings: CalcSettings,
    density_matrix: np.ndarray,
    path: str,
    resolution_bohr: float = 0.25,
) -> str:
    """Write the density of an AO density matrix (e/Bohr^3) as a Gaussian cube; returns the
    path (e.g. an NOCV pair's deformation density)."""
    from pyscf.tools import cubegen

    mol = build_mole(molecule, settings)
    cubegen.density(mol, path, np.asarray(density_matrix), resolution=resolution_bohr)
    return path


def write_molden(
    molecule: Molecule,
    settings: CalcSettings,
    mo_coeff: np.ndarray,
    mo_energy: np.ndarray,
    mo_occ: np.ndarray,
    path: str,
) -> str:
    """Write geometry, basis and orbitals in Molden format (alpha/beta for UKS)."""
    from pyscf.tools import molden

    mol = build_mole(molecule, settings)
    with open(path, "w") as handle:
        molden.header(mol, handle)
        if np.ndim(mo_energy) == 2:
            molden.orbital_coeff(mol, handle, mo_coeff[0], ene=mo_energy[0], occ=mo_occ[0],
                                 spin="Alpha")
            molden.orbital_coeff(mol, handle, mo_coeff[1], ene=mo_energy[1], occ=mo_occ[1],
                                 spin="Beta", ignore_h=True)
        else:
            molden.orbital_coeff(mol, handle, mo_coeff, ene=mo_energy, occ=mo_occ)
    return path

def orbital_values_blocked(
    molecule: Molecule,
    settings: CalcSettings,
    mo_coeff: np.ndarray,
    coords_bohr: np.ndarray,
    max_points: int = 20000,
) -> np.ndarray:
    """Molecular-orbital values ``(npoints, nmo)`` for coefficient columns ``mo_coeff`` at
    points given in Bohr.

    The Mole is built once and AO values are evaluated ``max_points`` at a time, so memory
    stays near ``max_points x nao`` doubles even for large clusters on fine grids.

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> from superatom.calc_settings import load_preset
    >>> h2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])
    >>> vals = orbital_values_blocked(h2, load_preset("fast"), np.eye(10)[:, :1],
    ...                               np.zeros((5, 3)), max_points=2)
    >>> vals.shape
    (5, 1)
    """
    mol = build_mole(molecule, settings)
    coeff = np.asarray(mo_coeff)
    points = np.asarray(coords_bohr, dtype=float).reshape(-1, 3)
    out = np.empty((len(points), coeff.shape[1]))
    for start in range(0, len(points), max_points):
        block = points[start : start + max_points]
        out[start : start + len(block)] = mol.eval_gto("GTOval_sph", block) @ coeff
    return out

"""Structure pictures as chemists draw clusters: MO6 polyhedra or ball-and-stick.

``style="polyhedra"`` draws every addenda metal (W, Mo, V, Nb, Ta) with four or more oxygen
neighbours as a translucent coordination polyhedron (the MO6 octahedra of a Keggin or
Lindqvist anion), the remaining atoms as balls and bonds as sticks; ``"ball-and-stick"``
draws all atoms and bonds. Bonds are covalent-radius contacts (ASE radii, as in
:func:`superatom.structures.geometry.bond_pairs`). Rendered with matplotlib's 3D axes on the
Agg canvas (no display needed), 300 dpi PNG by default or SVG/PDF from the file suffix.

Examples
--------
>>> import tempfile, os
>>> from superatom.structures.lindqvist import build_lindqvist
>>> p = os.path.join(tempfile.mkdtemp(), "w6.png")
>>> render_png(build_lindqvist(), p)
>>> os.path.getsize(p) > 1000
True
>>> len(coordination_polyhedra(build_lindqvist()))
6
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from superatom.structures.notation import ADDENDA

__all__ = ["bonds", "coordination_polyhedra", "render_png"]

STYLES = ("polyhedra", "ball-and-stick")


def _atoms(molecule, align: bool):
    from superatom.structures.io import molecule_to_atoms

    atoms = molecule_to_atoms(molecule)
    xyz = atoms.get_positions() - atoms.get_positions().mean(axis=0)
    if align and len(atoms) > 2:
        _, vecs = np.linalg.eigh(xyz.T @ xyz)
        axes = vecs[:, ::-1]
        if np.linalg.det(axes) < 0:
            axes[:, 2] *= -1
        xyz = xyz @ axes
    atoms.set_positions(xyz)
    return atoms


def bonds(molecule_or_atoms, scale: float = 1.15) -> list[tuple[int, int]]:
    """Atom pairs ``(i, j)``, ``i < j``, closer than ``scale`` x the sum of covalent radii.

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> bonds(Molecule(["O", "H", "H"], [[0, 0, 0], [0, 0.76, 0.59], [0, -0.76, 0.59]]))
    [(0, 1), (0, 2)]
    """
    from superatom.structures.geometry import bond_pairs

    atoms = molecule_or_atoms
    if not hasattr(atoms, "get_positions"):
        from superatom.structures.io import molecule_to_atoms

        atoms = molecule_to_atoms(molecule_or_atoms)
    return bond_pairs(atoms.get_chemical_symbols(), atoms.get_positions(), scale)


def coordination_polyhedra(molecule_or_atoms, cutoff: float = 2.45) -> dict[int, list[int]]:
    """Oxygen neighbours (within ``cutoff`` Angstrom) of each addenda metal with >= 4 of them."""
    atoms = molecule_or_atoms
    if not hasattr(atoms, "get_positions"):
        from superatom.structures.io import molecule_to_atoms

        atoms = molecule_to_atoms(molecule_or_atoms)
    symbols = atoms.get_chemical_symbols()
    xyz = atoms.get_positions()
    oxygens = np.array([k for k, s in enumerate(symbols) if s == "O"], dtype=int)
    out: dict[int, list[int]] = {}
    if not len(oxygens):
        return out
    for k, symbol in enumerate(symbols):
        if symbol not in ADDENDA:
            continue
        dist = np.linalg.norm(xyz[oxygens] - xyz[k], axis=1)
        near = oxygens[dist < cutoff]
        if len(near) >= 4:
            out[k] = [int(o) for o in near]
    return out


def _faces(points: np.ndarray) -> list[np.ndarray]:
    from scipy.spatial import ConvexHull, QhullError

    try:
        hull = ConvexHull(points)
    except QhullError:  # flat or degenerate set of neighbours
        return []
    return [points[simplex] for simplex in hull.simplices]


def render_png(molecule, path: str | Path, rotation: tuple[float, float] = (22.0, 35.0),
               title: str | None = None, size: float = 6.0, dpi: int = 300,
               align: bool = True, style: str = "polyhedra") -> None:  # fmt: skip
    """Draw ``molecule`` (pymatgen Molecule, Angstrom) into a PNG (or SVG/PDF by suffix).

    Parameters
    ----------
    rotation
        Camera elevation and azimuth in degrees.
    align
        Rotate to principal axes first (largest extent along x), so chains and rings are
        seen face-on.
    title
        Plot title; default: formula (Hill/POM notation), charge and multiplicity.
    style
        ``polyhedra`` or ``ball-and-stick``.
    """
    from ase.data import covalent_radii
    from ase.data.colors import jmol_colors
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection

    from superatom.errors import InputError

    if style not in STYLES:
        raise InputError(f"unknown picture style '{style}': use {' or '.join(STYLES)}")
    atoms = _atoms(molecule, align)
    xyz = atoms.get_positions()
    numbers = atoms.get_atomic_numbers()
    polyhedra = coordination_polyhedra(atoms) if style == "polyhedra" else {}
    hidden = set(polyhedra)
    fig = Figure(figsize=(size, size))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(projection="3d")
    for metal, ligands in polyhedra.items():
        faces = _faces(xyz[ligands])
        colour = jmol_colors[numbers[metal]]
        ax.add_collection3d(Poly3DCollection(faces, facecolor=(*colour, 0.55),
                                             edgecolor=(*(0.6 * colour), 0.9), linewidth=0.4))
    caged = {(m, o) for m, ligands in polyhedra.items() for o in ligands}
    sticks = [(i, j) for i, j in bonds(atoms)
              if (i, j) not in caged and (j, i) not in caged and not {i, j} & hidden]
    if sticks:
        ax.add_collection3d(Line3DCollection([xyz[[i, j]] for i, j in sticks],
                                             colors="0.35", linewidths=1.6))
    shown = np.array([k for k in range(len(atoms)) if k not in hidden], dtype=int)
    extent = float(np.ptp(xyz, axis=0).max()) if len(atoms) > 1 else 1.0
    ball = 900.0 * (size / 6.0) ** 2 * (6.0 / max(extent + 2.0, 4.0)) ** 2
    radius = np.where(numbers[shown] == 1, 0.3, covalent_radii[numbers[shown]])
    ax.scatter(*xyz[shown].T, s=ball * radius**2, c=jmol_colors[numbers[shown]],
               edgecolors="0.2", linewidths=0.4, depthshade=True, alpha=1.0)
    half = 0.5 * np.ptp(xyz, axis=0) + 1.0
    centre = 0.5 * (xyz.max(axis=0) + xyz.min(axis=0))
    for setter, c, h in zip((ax.set_xlim, ax.set_ylim, ax.set_zlim), centre, half,
                            strict=True):
        setter(c - h, c + h)
    ax.set_box_aspect(tuple(half), zoom=1.3)
    ax.view_init(elev=rotation[0], azim=rotation[1])
    ax.set_axis_off()
    if title is None:
        from superatom.structures.notation import display_formula

        title = (f"{display_formula(molecule.composition.formula, molecule.charge)}   "
                 f"2S+1 = {molecule.spin_multiplicity}")
    ax.set_title(title, fontsize=11)
    fig.subplots_adjust(0, 0, 1, 0.95)
    fig.savefig(path, dpi=dpi)

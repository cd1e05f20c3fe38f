"""Render a structure to PNG with ASE's matplotlib plotting (Agg backend, no display needed).

Examples
--------
>>> import tempfile, os
>>> from superatom.structures.lindqvist import build_lindqvist
>>> p = os.path.join(tempfile.mkdtemp(), "w6.png")
>>> render_png(build_lindqvist(), p)
>>> os.path.getsize(p) > 1000
True
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["render_png"]


def render_png(molecule, path: str | Path, rotation: str = "10x,15y,0z", title: str | None = None,
               size: float = 6.0, dpi: int = 120, align: bool = True) -> None:  # fmt: skip
    """Draw ``molecule`` (pymatgen Molecule) as a ball plot into a PNG file.

    Parameters
    ----------
    molecule
        Structure in Angstrom.
    path
        Output PNG.
    rotation
        ASE rotation string applied after alignment, e.g. ``"90x"``.
    align
        Rotate to principal axes first (largest extent along x, flattest direction towards
        the viewer), so chains and rings are seen face-on.
    title
        Plot title; default: formula, charge and multiplicity.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from ase.visualize.plot import plot_atoms

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
    fig, ax = plt.subplots(figsize=(size, size))
    plot_atoms(atoms, ax, rotation=rotation, radii=0.45)
    ax.set_axis_off()
    ax.set_title(title or f"{molecule.composition.formula}  charge {int(molecule.charge)}  "
                          f"2S+1 = {molecule.spin_multiplicity}", fontsize=10)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)

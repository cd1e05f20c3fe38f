"""Build and GFN2-xTB-relax the small (MoO3)n chain fragments used by examples/quickstart.yaml.

Each MoO3 unit is one fragment (Mo, two terminal O and the O that bridges to the next unit);
the chains are neutral closed shells. Run from the repository root::

    python examples/make_oxide_chains.py        # writes examples/structures/mo3_n{1,2,3}.xyz
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pymatgen.core import Molecule

from superatom.engine.xtb import relax_xtb
from superatom.structures.io import write_xyz

SPACING = 3.6  # Angstrom between neighbouring Mo


def mo3_chain(n: int) -> Molecule:
    """Corner-sharing (MoO3)n chain along x, one fragment label per MoO3 unit."""
    species, coords, labels = [], [], []
    for k in range(n):
        x = SPACING * k
        unit = [("Mo", (x, 0.0, 0.0)), ("O", (x - 0.55, 1.25, 0.9)),
                ("O", (x - 0.55, -1.25, 0.9)),
                ("O", (x + SPACING / 2, 0.0, 0.0) if k < n - 1 else (x + 1.0, 0.0, -1.4))]
        for symbol, xyz in unit:
            species.append(symbol)
            coords.append(xyz)
            labels.append(f"MoO3#{k}")
    return Molecule(species, np.array(coords), site_properties={"fragment": labels})


def main() -> None:
    out = Path(__file__).parent / "structures"
    out.mkdir(exist_ok=True)
    for n in (1, 2, 3):
        relaxed, info = relax_xtb(mo3_chain(n), fmax=0.02, steps=500)
        write_xyz(relaxed, out / f"mo3_n{n}.xyz")
        print(n, info)


if __name__ == "__main__":
    main()

"""Build the small molybdenum-oxide clusters used by examples/quickstart.yaml.

(MoO3)n chains (GFN2-xTB relaxed): each MoO3 unit is one fragment (Mo, two terminal O and the
O that bridges to the next unit); neutral closed shells. The Mo2O6 ring: two MoO3 units joined
by two bridging O into a planar Mo2O2 rhombus (D2h, idealised with Mo-O(bridge) 1.93 A and
Mo=O 1.69 A, the Mo-oxo bond lengths of the Mo polyoxometalates); each unit (Mo, its two
terminal O, one bridging O) is one fragment, and inversion maps one unit onto the other, so
the two monomers are equivalent. Run from the repository root::

    python examples/make_oxide_chains.py   # writes structures/mo3_n{1,2,3}.xyz, mo2o6_ring.xyz
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


def mo2o6_ring(bridge: float = 1.93, terminal: float = 1.69, ring_angle: float = 80.0,
               terminal_angle: float = 110.0) -> Molecule:
    """D2h Mo2O6: Mo2O2 rhombus in the xy plane, terminal O pairs in the xz plane (A, deg)."""
    half_ring, half_t = np.radians(ring_angle / 2), np.radians(terminal_angle / 2)
    d, b = bridge * np.cos(half_ring), bridge * np.sin(half_ring)
    tx, tz = d + terminal * np.cos(half_t), terminal * np.sin(half_t)
    coords = [(-d, 0, 0), (-tx, 0, tz), (-tx, 0, -tz), (0, b, 0),
              (d, 0, 0), (tx, 0, -tz), (tx, 0, tz), (0, -b, 0)]
    return Molecule(["Mo", "O", "O", "O"] * 2, np.array(coords),
                    site_properties={"fragment": ["MoO3#0"] * 4 + ["MoO3#1"] * 4})


def main() -> None:
    out = Path(__file__).parent / "structures"
    out.mkdir(exist_ok=True)
    for n in (1, 2, 3):
        relaxed, info = relax_xtb(mo3_chain(n), fmax=0.02, steps=500)
        write_xyz(relaxed, out / f"mo3_n{n}.xyz")
        print(n, info)
    write_xyz(mo2o6_ring(), out / "mo2o6_ring.xyz")


if __name__ == "__main__":
    main()

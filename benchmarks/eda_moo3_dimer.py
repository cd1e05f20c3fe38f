"""Energy decomposition with ETS-NOCV of the cyclic (MoO3)2 dimer into two MoO3 units, on the
CPU in minutes (def2 ECP on Mo): terms, leading NOCV channels, timings, one JSON line.

Each MoO3 unit keeps its two terminal O and one of the two bridging O; the dimer forms by two
O(bridge) -> Mo bonds. The two units are equivalent, so each NOCV channel is a symmetric
combination that moves no net charge between them; its flow per element (Lowdin) is printed
instead.

Usage::

    OMP_NUM_THREADS=2 python benchmarks/eda_moo3_dimer.py [--preset fast] [--report DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from pymatgen.core import Molecule

from superatom import HARTREE_TO_KCAL_MOL
from superatom.calc_settings import load_preset
from superatom.schemas.eda import pair_route
from superatom.workflows.eda import compute_eda

MO_X = 1.45  # Angstrom: Mo at +-x, bridging O at +-y (Mo-O(bridge) 1.88 A)
O_BRIDGE_Y = 1.20
MO_O_TERMINAL = 1.70
HALF_ANGLE = math.radians(55.0)  # O=Mo=O 110 degrees, in the xz plane, pointing outwards


def moo3_dimer() -> Molecule:
    """D2h cyclic Mo2O6 labelled as two MoO3 fragments (A at +x, B at -x)."""
    species, coords, labels = [], [], []
    for sign, name in ((1, "A"), (-1, "B")):
        mo = [sign * MO_X, 0.0, 0.0]
        species += ["Mo", "O", "O", "O"]
        coords += [mo,
                   [sign * (MO_X + MO_O_TERMINAL * math.cos(HALF_ANGLE)), 0.0,
                    MO_O_TERMINAL * math.sin(HALF_ANGLE)],
                   [sign * (MO_X + MO_O_TERMINAL * math.cos(HALF_ANGLE)), 0.0,
                    -MO_O_TERMINAL * math.sin(HALF_ANGLE)],
                   [0.0, sign * O_BRIDGE_Y, 0.0]]
        labels += [name] * 4
    return Molecule(species, coords, site_properties={"fragment": labels})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="fast", help="settings preset (default: fast)")
    parser.add_argument("--report", type=Path, help="folder for the EDA figure (PNG + SVG)")
    args = parser.parse_args()
    settings = load_preset(args.preset, device="cpu")
    start = time.perf_counter()
    doc, result = compute_eda(moo3_dimer(), settings, metadata={"name": "(MoO3)2"})
    wall = time.perf_counter() - start
    kcal = HARTREE_TO_KCAL_MOL
    pairs = sorted(doc.pairs, key=lambda p: p.e_ha)[:4]
    scf_s = {name: round(r.wall_s, 1) for name, r in result.fragment_results.items()}
    if result.assembly_result is not None:
        scf_s["assembly"] = round(result.assembly_result.wall_s, 1)
    record = {
        "system": "(MoO3)2 -> 2 MoO3", "method": doc.method,
        "n_core_ecp": result.assembly_result.n_core_ecp if result.assembly_result else None,
        **{k: round(v, 2) for k, v in doc.summary().items() if k.endswith("_kcal_mol")},
        "pairs": [{"k": p.k, "nu": round(p.nu, 3), "e_kcal_mol": round(p.e_ha * kcal, 2),
                   "route": pair_route(p),
                   "element_flow_e": {k: round(v, 3) for k, v in p.element_flow.items()}}
                  for p in pairs],
        "scf_s": scf_s, "decomposition_s": round(wall - sum(scf_s.values()), 1),
        "wall_s": round(wall, 1),
    }
    print(json.dumps(record))
    if args.report is not None:
        from superatom.analysis.plots import plot_eda, save_png_svg

        save_png_svg(plot_eda(doc.model_dump(mode="json")), args.report / "eda_moo3_dimer")


if __name__ == "__main__":
    main()

"""Two validation items on tiny molecules that stand in for the Keggin items in tests.

``standin-water-gap`` is one real SCF (H2O, PBE0/STO-3G); ``standin-h2-then-heh`` stores H2,
then waits until the file named by ``$STANDIN_GO`` exists (touching ``$STANDIN_WAITING`` while
it waits, so a test knows when to interrupt it), then computes HeH+: a run killed in the wait
has one finished row and one stored SCF of an unfinished item.

Run as a script it installs both items and runs the command line:
``python tests/validation_standins.py validate --only standin-water-gap --db DB``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from pymatgen.core import Molecule

from superatom.validation import checks, markdown, references, suite
from superatom.validation.references import Reference

WATER = Molecule(["O", "H", "H"], [[0, 0, 0], [0, 0.757, 0.587], [0, -0.757, 0.587]])
H2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])
HEH = Molecule(["He", "H"], [[0, 0, 0], [0, 0, 0.77]], charge=1)
CHEAP = {"basis": "sto-3g", "density_fit": False}

STANDINS = (
    Reference("standin-water-gap", "quick", "gap of H2O", "PBE0/STO-3G, gas", "order", None,
              0.0, "eV", "a closed-shell molecule has a positive gap", "sign only"),
    Reference("standin-h2-then-heh", "quick", "gap H2 - gap HeH+", "PBE0/STO-3G, gas",
              "value", 0.0, 100.0, "eV", "two real SCFs, the second after a wait",
              "wide: the item tests resuming, not chemistry"),
)


def water_gap(calc):
    doc = calc.dft("H2O", "fast", molecule=WATER, **CHEAP)
    return doc.gap_ev, f"gap H2O {doc.gap_ev:.2f} eV", True


def h2_then_heh(calc):
    h2 = calc.dft("H2", "fast", molecule=H2, **CHEAP)
    go = Path(os.environ["STANDIN_GO"])
    Path(os.environ["STANDIN_WAITING"]).touch()
    while not go.exists():
        time.sleep(0.05)
    heh = calc.dft("HeH+", "fast", molecule=HEH, **CHEAP)
    return h2.gap_ev - heh.gap_ev, f"gap H2 {h2.gap_ev:.2f}, HeH+ {heh.gap_ev:.2f} eV", True


def install(setattr_=setattr, setitem=None) -> None:
    """Add the stand-in items to the reference table and the checks (pass pytest's
    ``monkeypatch.setattr``/``setitem`` to have them removed after a test)."""
    table = references.REFERENCES + STANDINS
    for module in (references, suite, markdown):
        setattr_(module, "REFERENCES", table)
    put = setitem or (lambda mapping, key, value: mapping.__setitem__(key, value))
    put(checks.CHECKS, "standin-water-gap", water_gap)
    put(checks.CHECKS, "standin-h2-then-heh", h2_then_heh)


if __name__ == "__main__":
    install()
    from superatom.cli.main import app

    app(sys.argv[1:], prog_name="superatom")

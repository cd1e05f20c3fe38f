"""What the GFN-xTB tier may be trusted with, and which implicit solvent it uses by default.

Measured with tblite 0.8 on builder (crystal-like) geometries:

* plain polyoxometalate anions in gas phase have unbound or misordered levels; with GBSA(water)
  GFN2 binds their HOMOs and orders them right (gaps W6O19 3.67 > Mo6O19 3.28 eV; LUMOs
  PMo12 < PW12 < SiW12), while tblite's ALPB raised the total energy of [PW12O40]3- by 1.8 Ha.
  GBSA(water) is therefore the default for polyoxometalate-like anions and the only model the
  tier accepts;
* a metal on a polyoxometalate other than its addenda and main-group heteroatom (a lacunary-site
  Ln, Y, Ca or transition metal, a Ca or Ln linker) defeats every xTB variant: 0.1-0.4 eV gaps
  with the empty metal d level or the lacuna/aqua O lone pairs at the frontier, in gas phase
  and with GBSA. Those systems, and anything with a lanthanide, are refused: they need DFT.

Examples
--------
>>> from superatom.structures.lindqvist import build_lindqvist
>>> xtb_applicable(build_lindqvist("W"))
(True, '')
>>> default_solvation(build_lindqvist("W"))
'gbsa:water'
>>> from pymatgen.core import Molecule
>>> ok, why = xtb_applicable(Molecule(["La", "O"], [[0, 0, 0], [0, 0, 2.4]], charge=1))
>>> ok, why.split(":")[0]
(False, 'GFN-xTB cannot describe La1O1 (charge +1)')
"""

from __future__ import annotations

from pymatgen.core import Molecule

from superatom.errors import InputError
from superatom.structures.chem import LANTHANIDES
from superatom.structures.notation import ADDENDA as ADDENDA_METALS

__all__ = ["ADDENDA", "default_solvation", "is_pom_like", "parse_solvation", "xtb_applicable"]

ADDENDA = frozenset(ADDENDA_METALS)
# what else a plain (unsubstituted) polyoxometalate may contain: heteroatoms, ligands, protons
_PLAIN_POM = ADDENDA | {"O", "H", "C", "N", "P", "As", "Si", "Ge", "B", "Al", "Ga", "S"}
SOLVATION_MODELS = ("gbsa",)


def is_pom_like(molecule: Molecule) -> bool:
    """True when ``molecule`` is a metal-oxo cluster of W/Mo/V/Nb/Ta (at least 3 O per metal).

    >>> from pymatgen.core import Molecule
    >>> is_pom_like(Molecule(["Mo", "O", "O", "O", "O"], [[0, 0, 0], [1.8, 0, 0], [-1.8, 0, 0],
    ...                                                  [0, 1.8, 0], [0, -1.8, 0]], charge=-2))
    True
    """
    counts = molecule.composition.get_el_amt_dict()
    n_addenda = sum(counts.get(el, 0) for el in ADDENDA)
    return n_addenda > 0 and counts.get("O", 0) >= 3 * n_addenda


def xtb_applicable(molecule: Molecule) -> tuple[bool, str]:
    """Whether the GFN-xTB tier may compute ``molecule``; if not, one line saying why and what
    to use instead (``(True, "")`` when it may)."""
    symbols = {site.specie.symbol for site in molecule}
    name = f"{molecule.composition.formula.replace(' ', '')} (charge {round(molecule.charge):+d})"
    heavy = [s for s in symbols if _z(s) > 86]
    if heavy:
        return False, f"GFN-xTB covers elements up to Rn, {name} has {', '.join(sorted(heavy))}"
    lanthanides = sorted(symbols.intersection(LANTHANIDES))
    foreign = sorted(symbols - _PLAIN_POM) if is_pom_like(molecule) else []
    if not lanthanides and not foreign:
        return True, ""
    what = ", ".join(sorted(set(lanthanides) | set(foreign)))
    return False, (
        f"GFN-xTB cannot describe {name}: its {what} site on a metal-oxo framework puts the "
        "empty metal d level and lacuna/aqua O lone pairs into the gap (0.1-0.4 eV gaps on "
        "[M(H2O)4PW11O39]4-, M = Y, La, Lu, gas phase and GBSA); use the DFT tier (tier: dft)"
    )


def default_solvation(molecule: Molecule) -> str:
    """``"gbsa:water"`` for polyoxometalate-like anions, ``"none"`` (gas phase) otherwise."""
    return "gbsa:water" if is_pom_like(molecule) and molecule.charge < 0 else "none"


def parse_solvation(solvation: str | None, molecule: Molecule) -> tuple[str, str | None]:
    """``(label, solvent)`` from ``"auto"``, ``"none"`` or ``"gbsa:<solvent>"``.

    >>> from pymatgen.core import Molecule
    >>> parse_solvation("gbsa:water", Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]]))
    ('gbsa:water', 'water')
    """
    spec = default_solvation(molecule) if solvation in (None, "auto") else solvation.lower()
    if spec == "none":
        return "none", None
    model, _, solvent = spec.partition(":")
    if model not in SOLVATION_MODELS or not solvent:
        raise InputError(
            f"xTB solvation '{solvation}' is not supported: use 'gbsa:<solvent>' (e.g. "
            "gbsa:water), 'none' or 'auto' (ALPB in tblite 0.8 gave unphysical POM energies)"
        )
    return f"{model}:{solvent}", solvent


def _z(symbol: str) -> int:
    from pymatgen.core import Element

    return Element(symbol).Z

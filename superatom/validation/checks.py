"""Calculations behind each validation item: one function per reference key.

A :class:`Calculations` object runs and caches the single points (xTB levels, DFT documents)
that several items share; every check returns ``(computed, detail, extra_ok)`` in the unit of
its reference (``extra_ok`` carries conditions beyond the number, e.g. the 1P/1D shells of Au25).

Examples
--------
>>> calc = Calculations()
>>> value, detail, ok = CHECKS["xtb-lindqvist-gap-order"](calc)
>>> value > 0, ok, detail.startswith("gap W6O19")
(True, True, True)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pymatgen.core import Molecule

from superatom import HARTREE_TO_EV
from superatom.calc_settings import load_preset
from superatom.engine.xtb import xtb_frontier
from superatom.structures.registry import build_structure
from superatom.structures.standard import standard_builders
from superatom.validation.references import ABSOLUTE_SHE_V
from superatom.workflows.frontier import compute_frontier

__all__ = ["CHECKS", "Calculations", "oxoanion", "validation_system"]

# typical crystal M-O lengths (Angstrom) of the tetrahedral d0 oxoanions
_TETRAHEDRAL = {"Mo": (1.77, -2), "W": (1.79, -2), "V": (1.72, -3), "Ti": (1.81, -4)}
_POMS = standard_builders()  # name -> (registry kind, options): the builders


def oxoanion(metal: str) -> Molecule:
    """Ideal tetrahedral [MO4]^q- (M = Mo, W, V, Ti) with a crystal-like M-O length.

    >>> oxoanion("V").charge, round(float(np.linalg.norm(oxoanion("V").cart_coords[1])), 2)
    (-3, 1.72)
    """
    length, charge = _TETRAHEDRAL[metal]
    corners = np.array([[1, 1, 1], [-1, -1, 1], [-1, 1, -1], [1, -1, -1]]) / np.sqrt(3.0)
    return Molecule([metal, "O", "O", "O", "O"], np.vstack([[0, 0, 0], corners * length]),
                    charge=charge)


def validation_system(name: str) -> Molecule:
    """The molecule a validation item uses (builders only: crystal-like frameworks)."""
    if name in _POMS:
        kind, options = _POMS[name]
        return build_structure(kind, **options)
    if name.endswith("O4"):
        return oxoanion(name[:-2])
    hydroxyl = Molecule(["O", "H"], [[0, 0, 0], [0, 0, 0.97]], charge=-1)
    others = {
        "OH-": lambda: hydroxyl,
        "OH": lambda: Molecule(["O", "H"], hydroxyl.cart_coords, spin_multiplicity=2),
        "Au25": lambda: build_structure("au25"),
        "Ti10Cu2-sp": lambda: build_structure("ti10cu2"),
        "Ti10Cu2-cs": lambda: build_structure("ti10cu2-chain", n=2),
        "La-dimer": lambda: build_structure("dimer", ln="La"),
        "La-unit": lambda: build_structure("substituted", metal="La"),
    }
    return others[name]()


def _detached(molecule: Molecule) -> Molecule:
    """The same geometry with one electron fewer (lowest spin: a doublet for a closed shell)."""
    out = molecule.copy()
    out.set_charge_and_spin(molecule.charge + 1, None)
    return out


class Calculations:
    """Runs and caches the single points of a validation run (one device, fixed settings)."""

    def __init__(self, device: str = "auto"):
        self.device = device
        self._xtb: dict[str, dict] = {}
        self._dft: dict[tuple, object] = {}

    def xtb(self, name: str) -> dict:
        """GFN2-xTB levels (eV) of a validation system with the tier's default solvent."""
        if name not in self._xtb:
            self._xtb[name] = xtb_frontier(validation_system(name))
        return self._xtb[name]

    def dft(self, name: str, preset: str = "screening", molecule: Molecule | None = None,
            **overrides):
        """FrontierOrbitalDoc of a validation system (grid 1 unless overridden)."""
        key = (name, preset, tuple(sorted(overrides.items())))
        if key not in self._dft:
            settings = load_preset(preset, **{"grids_level": 1, "device": self.device,
                                              **overrides})
            mol = molecule if molecule is not None else validation_system(name)
            self._dft[key] = compute_frontier(mol, settings, {"name": f"validation {name}"})
        return self._dft[key]

    def detachment(self, name: str, preset: str = "gas", **overrides) -> float:
        """Vertical Delta-SCF detachment energy E(N-1) - E(N) in eV (same geometry)."""
        anion = self.dft(name, preset, **overrides)
        mol = Molecule.from_dict(anion.molecule)
        neutral = self.dft(f"{name} - e", preset, molecule=_detached(mol), **overrides)
        return neutral.e_tot_ev - anion.e_tot_ev


Check = Callable[[Calculations], tuple[float, str, bool]]


def _lindqvist_gap(level: Callable[[str], tuple[float, float, float]]):
    w, mo = level("W6O19")[2], level("Mo6O19")[2]
    return w - mo, f"gap W6O19 {w:.2f} eV, Mo6O19 {mo:.2f} eV", True


def _keggin_lumo(level: Callable[[str], tuple[float, float, float]]):
    lumo = {n: level(n)[1] for n in ("PMo12O40", "PW12O40", "SiW12O40")}
    step = min(lumo["PW12O40"] - lumo["PMo12O40"], lumo["SiW12O40"] - lumo["PW12O40"])
    return step, "LUMO " + ", ".join(f"{n} {v:.2f}" for n, v in lumo.items()) + " eV", True


def _xtb_levels(calc: Calculations):
    return lambda name: tuple(calc.xtb(name)[k] for k in ("homo_ev", "lumo_ev", "gap_ev"))


def _dft_levels(calc: Calculations, preset: str = "screening"):
    return lambda name: (calc.dft(name, preset).homo_ev, calc.dft(name, preset).lumo_ev,
                         calc.dft(name, preset).gap_ev)


def _xtb_charge_shift(calc: Calculations):
    p, si = calc.xtb("PW12O40")["lumo_ev"], calc.xtb("SiW12O40")["lumo_ev"]
    return si - p, f"LUMO PW12O40(3-) {p:.2f}, SiW12O40(4-) {si:.2f} eV", True


def _oxoanion_order(quantity: str) -> Check:
    def check(calc: Calculations):
        w, mo = (getattr(calc.dft(f"{m}O4"), quantity) for m in ("W", "Mo"))
        return w - mo, f"{quantity[:-3]} WO4 {w:.2f}, MoO4 {mo:.2f} eV", True
    return check


def _continuum_screening(calc: Calculations):
    shift = {}
    for preset in ("screening", "gas"):
        v, ti = (calc.dft(f"{m}O4", preset).lumo_ev for m in ("V", "Ti"))
        shift[preset] = ti - v
    ratio = abs(shift["screening"]) / abs(shift["gas"])
    return ratio, (f"LUMO shift per charge C-PCM {shift['screening']:+.2f} eV, gas phase "
                   f"{shift['gas']:+.2f} eV"), True


def _oh_detachment(calc: Calculations):
    value = calc.detachment("OH-", grids_level=3, basis="def2-svpd", ecp=None)
    homo = calc.dft("OH-", "gas", grids_level=3, basis="def2-svpd", ecp=None).homo_ev
    return value, f"Delta-SCF {value:.2f} eV; -e_HOMO(OH-) would give {-homo:.2f} eV", True


def _homo_offset(calc: Calculations):
    w, mo = (calc.dft(n, "gas").homo_ev for n in ("PW12O40", "PMo12O40"))
    return w - mo, f"HOMO PW12O40 {w:.2f}, PMo12O40 {mo:.2f} eV (gas phase)", True


def _detachment(name: str) -> Check:
    def check(calc: Calculations):
        value = calc.detachment(name)
        homo = calc.dft(name, "gas").homo_ev
        return value, f"vertical Delta-SCF {value:.2f} eV (-e_HOMO {-homo:.2f} eV)", True
    return check


def _au25(calc: Calculations):
    from superatom.analysis.angular import angular_character
    from superatom.analysis.docdata import doc_data

    doc = calc.dft("Au25", xc="PBE")
    chan = doc_data(doc).channel()
    picks = [chan.homo - 2, chan.homo - 1, chan.homo, chan.lumo]
    res = angular_character(doc, orbitals=picks)  # about the central Au (cluster_sphere)
    chars = [o.character for o in res.orbitals]
    spread = (chan.energy[chan.homo] - chan.energy[chan.homo - 2]) * HARTREE_TO_EV
    ok = chars[:3] == ["P", "P", "P"] and chars[3] == "D" and spread < 0.2
    return doc.gap_ev, f"HOMO-2..HOMO {''.join(chars[:3])} (spread {spread:.2f} eV), " \
        f"LUMO {chars[3]}", ok


def _ti10cu2(name: str, quantity: str) -> Check:
    def check(calc: Calculations):
        doc = calc.dft(name)
        if quantity == "gap":
            return doc.gap_ev, f"HOMO {doc.homo_ev:.2f}, LUMO {doc.lumo_ev:.2f} eV", True
        potential = -doc.lumo_ev - ABSOLUTE_SHE_V
        return potential, f"LUMO {doc.lumo_ev:.2f} eV -> {potential:+.2f} V vs NHE", True
    return check


def _clusterphene(calc: Calculations):
    dimer, unit = calc.dft("La-dimer"), calc.dft("La-unit")
    diff = abs(dimer.gap_ev - unit.gap_ev)
    return diff, (f"dimer HOMO {dimer.homo_ev:.2f} / gap {dimer.gap_ev:.2f} eV, unit gap "
                  f"{unit.gap_ev:.2f} eV"), dimer.homo_ev < 0


CHECKS: dict[str, Check] = {
    "xtb-lindqvist-gap-order": lambda c: _lindqvist_gap(_xtb_levels(c)),
    "xtb-keggin-lumo-order": lambda c: _keggin_lumo(_xtb_levels(c)),
    "xtb-keggin-charge-shift": _xtb_charge_shift,
    "dft-oxoanion-gap-order": _oxoanion_order("gap_ev"),
    "dft-oxoanion-lumo-order": _oxoanion_order("lumo_ev"),
    "dft-continuum-screening": _continuum_screening,
    "dft-oh-detachment": _oh_detachment,
    "dft-lindqvist-gap-order": lambda c: _lindqvist_gap(_dft_levels(c)),
    "dft-keggin-lumo-order": lambda c: _keggin_lumo(_dft_levels(c)),
    "dft-keggin-homo-offset": _homo_offset,
    "dft-pmo12-detachment": _detachment("PMo12O40"),
    "dft-pw12-detachment": _detachment("PW12O40"),
    "dft-au25-gap": _au25,
    "dft-ti10cu2-sp-gap": _ti10cu2("Ti10Cu2-sp", "gap"),
    "dft-ti10cu2-cs-gap": _ti10cu2("Ti10Cu2-cs", "gap"),
    "dft-ti10cu2-sp-lumo": _ti10cu2("Ti10Cu2-sp", "lumo"),
    "dft-ti10cu2-cs-lumo": _ti10cu2("Ti10Cu2-cs", "lumo"),
    "dft-clusterphene-dimer": _clusterphene,
}

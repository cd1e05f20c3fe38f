"""Ziegler-Rauk energy decomposition with ETS-NOCV on the assembly's Kohn-Sham functional.

Every fragment is converged alone in the basis functions of its own atoms (the ADF and ORCA
convention; no ghost functions) with the assembly's settings. With E[P] the assembly's
Kohn-Sham energy functional (``mf.energy_tot(dm=P)``, PySCF or GPU4PySCF, DF and ECPs as in
the SCF):

- ``P_frz = sum_f P_f`` (fragment densities placed in the assembly AO basis atom by atom);
- ``P_0 = C_0 n C_0^T`` with ``C_0 = C (C^T S C)^-1/2`` the Lowdin-orthonormalised union of
  the fragments' occupied MOs (per spin), the promolecule;
- ``E_int = E(AB) - sum_f E(f) = E_elstat + E_pauli + E_orb (+ E_disp + E_solv)`` with
  ``E_elstat`` the classical Coulomb energy between the frozen fragments (nuclei, ECP cores and
  electrons), ``E_disp`` the change of the empirical dispersion energy, ``E_solv`` the change
  of the C-PCM free energy on superposing the frozen fragments in the assembly's cavity,
  ``E_pauli = E(P_0) - sum_f E(f) - E_elstat - E_disp - E_solv`` and ``E_orb = E(AB) - E(P_0)``;
- NOCVs: eigenvectors of ``S^1/2 (P_AB - P_0) S^1/2`` (pairs +nu/-nu), back-transformed with
  ``S^-1/2``; the ETS energy of pair k is ``nu_k (F_TS[k,k] - F_TS[-k,-k])`` with F_TS the
  Kohn-Sham matrix at ``(P_0 + P_AB) / 2``; the pairs sum to ``Tr(F_TS dP)``, which
  approximates ``E_orb`` (the transition-state error is reported).

Spin: a restricted assembly (multiplicity 1) takes closed-shell fragments and one NOCV set of
the total density; an unrestricted one decomposes per spin, the fragments' alpha and beta
electrons adding up to the assembly's (parallel coupling; spin-flipped fragments are not
supported). Solvent (C-PCM/SMD): every E[P] is the solvated functional, i.e. the density P with
its own equilibrium reaction field in the assembly's cavity, and each fragment's energy is its
own solvated SCF; ``E_solv`` holds the frozen-step change of the solvent free energy and
``solvent_steps`` the solvent part of each step. Energies in Hartree.

Examples
--------
>>> from pymatgen.core import Molecule
>>> from superatom.calc_settings import load_preset
>>> pair = Molecule(["H"] * 4, [[0, 0, 0], [0, 0, 0.74], [0, 0, 2.0], [0, 0, 2.74]])
>>> frags = {"A": Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]]),
...          "B": Molecule(["H", "H"], [[0, 0, 2.0], [0, 0, 2.74]])}
>>> res = run_eda(pair, frags, list("AABB"), load_preset("fast", basis="sto-3g", device="cpu"))
>>> bool(abs(res.e_elstat + res.e_pauli + res.e_orb - res.e_int) < 1e-10), res.e_pauli > 0
(True, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pymatgen.core import Molecule

from superatom.calc_settings import CalcSettings
from superatom.engine.device import code_versions, device_name
from superatom.engine.mole import ao_metadata, build_mole
from superatom.engine.overlap import overlap_powers
from superatom.engine.scf import SCFResult, make_scf, run_on_device, run_scf
from superatom.errors import InputError

#: Coordinates of a fragment atom and its assembly atom may differ by this much (Angstrom).
ATOM_TOL = 1e-4
#: |E[P_AB] - E_SCF(AB)| above this (Hartree) means the assembly result does not belong to
#: these settings (another functional, grid or basis).
FUNCTIONAL_TOL = 1e-5
#: NOCV pairs with |nu| below this are not listed (their energies still enter the ETS sum).
NU_MIN = 1e-3
BASIS_CONVENTION = "fragments in their own atoms' basis functions (ADF/ORCA), no ghost functions"
SPIN_RKS = "restricted: closed-shell fragments, NOCVs of the total density"
SPIN_UKS = ("unrestricted: per spin; fragment alpha/beta electrons add up to the assembly's "
            "(parallel coupling)")


@dataclass
class SCFState:
    """What the decomposition needs of one converged SCF (Hartree, AO basis of its molecule).

    ``mo_coeff``/``mo_occ`` are (nao, nmo)/(nmo,) for RKS, with a leading spin axis for UKS.
    """

    e_tot: float
    mo_coeff: np.ndarray
    mo_occ: np.ndarray
    ao_atom: np.ndarray
    solvent_energy: float | None = None

    @classmethod
    def of(cls, result: Any) -> SCFState:
        """From an :class:`SCFResult` (or anything with the same attributes)."""
        if isinstance(result, SCFState):
            return result
        return cls(float(result.e_tot), np.asarray(result.mo_coeff), np.asarray(result.mo_occ),
                   np.asarray(result.ao_atom), getattr(result, "solvent_energy", None))

    def occupied(self) -> list[np.ndarray]:
        """Occupied coefficients per spin [alpha, beta]; InputError on fractional occupations."""
        coeff = self.mo_coeff if self.mo_coeff.ndim == 3 else np.stack([self.mo_coeff] * 2)
        occ = self.mo_occ if self.mo_occ.ndim == 2 else np.stack([self.mo_occ / 2] * 2)
        if np.any(np.abs(occ - np.round(occ)) > 1e-6):
            raise InputError("fractional occupations (smearing) cannot be decomposed: rerun the "
                             "SCF with integer occupations")
        return [c[:, o > 0.5] for c, o in zip(coeff, occ, strict=True)]


@dataclass
class NOCVChannel:
    """NOCVs of one spin channel: eigenvalues, AO and Lowdin-basis vectors, ETS energies."""

    spin: str
    eigenvalues: np.ndarray
    vectors: np.ndarray
    lowdin_vectors: np.ndarray
    orbital_energies_ts: np.ndarray = field(repr=False)

    def pairs(self, nu_min: float = NU_MIN) -> list[dict[str, Any]]:
        """Pairs (+nu, -nu) by decreasing nu: ``nu``, ``energy`` (Ha), column ``plus``/``minus``.

        Examples
        --------
        >>> ch = NOCVChannel("restricted", np.array([-0.5, 0.0, 0.5]), np.eye(3), np.eye(3),
        ...                  np.array([-1.0, 0.0, -0.2]))
        >>> [(p["nu"], round(p["energy"], 3), p["plus"], p["minus"]) for p in ch.pairs()]
        [(0.5, 0.4, 2, 0)]
        """
        order = np.argsort(self.eigenvalues)
        negative, positive = order, order[::-1]
        out = []
        for minus, plus in zip(negative, positive, strict=True):
            nu = 0.5 * (self.eigenvalues[plus] - self.eigenvalues[minus])
            if self.eigenvalues[plus] <= 0 or nu < nu_min:
                break
            energy = nu * (self.orbital_energies_ts[plus] - self.orbital_energies_ts[minus])
            out.append({"nu": float(nu), "energy": float(energy), "plus": int(plus),
                        "minus": int(minus),
                        "pairing_error": float(self.eigenvalues[plus] + self.eigenvalues[minus])})
        return out

    @property
    def ets_sum(self) -> float:
        """``Tr(F_TS dP)`` of this channel: sum over all NOCVs of eigenvalue x F_TS diagonal."""
        return float(self.eigenvalues @ self.orbital_energies_ts)


@dataclass
class EDAResult:
    """Energy decomposition of one assembly into fragments (Hartree)."""

    fragment_names: list[str]
    fragment_atoms: list[np.ndarray]
    restricted: bool
    e_assembly: float
    e_fragments: dict[str, float]
    e_frozen_density: float
    e_promolecule: float
    e_elstat: float
    e_disp: float
    e_solv: float
    e_pauli: float
    e_orb: float
    channels: list[NOCVChannel]
    overlap: np.ndarray
    ao_atom: np.ndarray
    deformation_density: np.ndarray
    functional_check: float
    solvent_steps: dict[str, float] | None
    basis_convention: str
    spin_convention: str
    solvent_convention: str
    device: str
    device_name: str
    wall_s: float
    versions: dict[str, str]
    fragment_results: dict[str, SCFResult] = field(default_factory=dict, repr=False)
    assembly_result: SCFResult | None = field(default=None, repr=False)

    @property
    def e_int(self) -> float:
        """``E(AB) - sum_f E(f)``."""
        return self.e_assembly - sum(self.e_fragments.values())

    @property
    def e_frozen(self) -> float:
        """``E(P_frz) - sum_f E(f)``: electrostatics + frozen-density XC (+ disp, solvent)."""
        return self.e_frozen_density - sum(self.e_fragments.values())

    @property
    def e_orb_ets(self) -> float:
        """Sum of the ETS energies of all NOCVs (``Tr(F_TS dP)`` over spin channels)."""
        return float(sum(ch.ets_sum for ch in self.channels))

    @property
    def ets_error(self) -> float:
        """Transition-state error ``e_orb_ets - e_orb``."""
        return self.e_orb_ets - self.e_orb


# ---------------------------------------------------------------------- pure linear algebra


def fragment_atom_indices(assembly: Molecule, fragment: Molecule, labels: list[str], name: str
                          ) -> np.ndarray:
    """Assembly atom index of each fragment atom: the atom labelled ``name`` at its position.

    Examples
    --------
    >>> mol = Molecule(["H", "He", "H"], [[0, 0, 0], [0, 0, 3], [0, 0, 0.74]])
    >>> frag = Molecule(["H", "H"], [[0, 0, 0.74], [0, 0, 0]])
    >>> fragment_atom_indices(mol, frag, ["A", "B", "A"], "A").tolist()
    [2, 0]
    """
    mine = np.array([k for k, lab in enumerate(labels) if lab == name], dtype=int)
    atoms = []
    for site in fragment:
        close = [int(a) for a in mine if assembly[int(a)].specie.symbol == site.specie.symbol
                 and np.linalg.norm(assembly[int(a)].coords - site.coords) < ATOM_TOL]
        atoms += close[:1]
    atoms = np.array(atoms, dtype=int)
    if len(mine) != len(fragment) or len(set(atoms.tolist())) != len(fragment):
        raise InputError(f"fragment {name} is not the assembly's atoms labelled {name} at the "
                         "same positions: cut the fragments from the assembly")
    return atoms


def ao_map(frag_ao_atom: np.ndarray, atoms: np.ndarray, assembly_ao_atom: np.ndarray
           ) -> np.ndarray:
    """Assembly AO index of every fragment AO (own-atom basis: same AOs on each atom)."""
    out = np.empty(len(frag_ao_atom), dtype=int)
    for local, atom in enumerate(atoms):
        mine = np.flatnonzero(frag_ao_atom == local)
        theirs = np.flatnonzero(assembly_ao_atom == atom)
        if len(mine) != len(theirs):
            raise InputError("fragment and assembly bases differ on an atom: compute both with "
                             "the same settings")
        out[mine] = theirs
    return out


def embed_occupied(state: SCFState, aos: np.ndarray, nao: int) -> list[np.ndarray]:
    """Occupied fragment MOs per spin, zero-padded into the assembly AO basis."""
    out = []
    for coeff in state.occupied():
        padded = np.zeros((nao, coeff.shape[1]))
        padded[aos] = coeff
        out.append(padded)
    return out


def lowdin_orthonormalise(coeff: np.ndarray, overlap: np.ndarray) -> np.ndarray:
    """``C (C^T S C)^-1/2``; InputError if the occupied sets are (nearly) linearly dependent.

    Examples
    --------
    >>> c = lowdin_orthonormalise(np.array([[1.0, 1.0], [0.0, 1.0]]), np.eye(2))
    >>> np.allclose(c.T @ c, np.eye(2))
    True
    """
    if coeff.shape[1] == 0:
        return coeff
    metric = coeff.T @ overlap @ coeff
    values, vectors = np.linalg.eigh(metric)
    if values.min() < 1e-8:
        raise InputError("the fragments' occupied orbitals are linearly dependent (atoms on top "
                         "of each other?): check the geometry and the fragment labels")
    return coeff @ (vectors / np.sqrt(values)) @ vectors.T


def nocv_channel(spin: str, delta: np.ndarray, overlap: np.ndarray, fock_ts: np.ndarray
                 ) -> NOCVChannel:
    """NOCVs of a deformation density ``delta`` (AO basis) and their F_TS diagonal.

    Examples
    --------
    >>> d = np.array([[0.0, 0.3], [0.3, 0.0]])
    >>> ch = nocv_channel("restricted", d, np.eye(2), np.diag([-1.0, -0.5]))
    >>> ch.eigenvalues.round(6).tolist(), abs(ch.ets_sum) < 1e-12
    ([-0.3, 0.3], True)
    """
    half, inv_half = overlap_powers(overlap)
    values, lowdin = np.linalg.eigh(half @ delta @ half)
    vectors = inv_half @ lowdin
    diagonal = np.einsum("mi,mn,ni->i", vectors, fock_ts, vectors)
    return NOCVChannel(spin, values, vectors, lowdin, diagonal)


# ---------------------------------------------------------------------------- with PySCF


def _to_device(array: np.ndarray, device: str):
    if device != "gpu":
        return array
    import cupy

    return cupy.asarray(array)


def _numpy(array) -> np.ndarray:
    return array.get() if hasattr(array, "get") and not isinstance(array, np.ndarray) else (
        np.asarray(array))


class Functional:
    """The assembly's Kohn-Sham functional (``make_scf`` object) on per-spin densities."""

    def __init__(self, mf, restricted: bool, device: str):
        self.mf, self.restricted, self.device = mf, restricted, device

    def _dm(self, dm: np.ndarray):
        return _to_device(dm.sum(axis=0) if self.restricted else dm, self.device)

    def energy(self, dm: np.ndarray) -> tuple[float, float | None]:
        """Total energy of ``dm`` (2, nao, nao) and its solvent part (None in gas phase)."""
        self.mf.scf_summary = {}
        energy = float(_numpy(self.mf.energy_tot(dm=self._dm(dm))))
        solvent = self.mf.scf_summary.get("e_solvent")
        return energy, None if solvent is None else float(_numpy(solvent))

    def fock(self, dm: np.ndarray) -> np.ndarray:
        """Kohn-Sham matrix at ``dm``: (nao, nao) restricted, (2, nao, nao) unrestricted."""
        return _numpy(self.mf.get_fock(dm=self._dm(dm)))

    def coulomb_energy(self, dm: np.ndarray) -> float:
        """``Tr(P J[P])`` of a total density P (Hartree, twice the Hartree energy)."""
        return float(np.sum(dm * _numpy(self.mf.get_j(dm=_to_device(dm, self.device)))))

    def dispersion(self) -> float:
        return float(_numpy(self.mf.get_dispersion())) if getattr(self.mf, "disp", None) else 0.0


def _nuclear_potential(mol) -> np.ndarray:
    """Nuclear attraction + ECP one-electron matrix of ``mol`` (CPU)."""
    from pyscf.scf import hf

    return hf.get_hcore(mol) - mol.intor_symmetric("int1e_kin")


def _fragment_dispersion(mol, settings: CalcSettings) -> float:
    if settings.dispersion == "none":
        return 0.0
    return float(_numpy(make_scf(mol, settings, "cpu").get_dispersion()))


def _check_spin(restricted: bool, n_spin: np.ndarray, names: list[str], mol) -> None:
    if restricted and any(a != b for a, b in n_spin):
        open_shell = names[int(np.flatnonzero(n_spin[:, 0] != n_spin[:, 1])[0])]
        raise InputError(f"fragment {open_shell} is open-shell but the assembly is a singlet: "
                         "spin-flipped fragments are not supported; give the assembly the "
                         "multiplicity of parallel fragment spins")
    total = n_spin.sum(axis=0)
    if total[0] != mol.nelec[0] or total[1] != mol.nelec[1]:
        raise InputError(f"the fragments have {total[0]} alpha and {total[1]} beta electrons, "
                         f"the assembly {mol.nelec[0]} and {mol.nelec[1]}: give fragment "
                         "charges/multiplicities that add up to the assembly's")


def run_eda(
    assembly: Molecule,
    fragments: dict[str, Molecule],
    labels: list[str],
    settings: CalcSettings,
    fragment_results: dict[str, Any] | None = None,
    assembly_result: Any | None = None,
) -> EDAResult:
    """Decompose the interaction of ``fragments`` in ``assembly`` (see module docstring).

    Parameters
    ----------
    assembly : Molecule
        The whole system (Angstrom, with charge and multiplicity).
    fragments : dict of str to Molecule
        Each fragment cut from ``assembly`` (its atoms labelled with its name in ``labels``,
        same positions), with its own charge and multiplicity.
    labels : list of str
        Fragment label of every assembly atom (every atom must belong to a fragment).
    settings : CalcSettings
        One set of settings for all SCFs and the functional.
    fragment_results, assembly_result : optional
        Converged SCFs to reuse (:class:`SCFResult` or :class:`SCFState`), by fragment name;
        missing ones are computed here (the assembly from the fragments' superposition).

    Returns
    -------
    EDAResult
        Terms in Hartree; ``fragment_results``/``assembly_result`` hold the SCFs run here.
    """
    start = time.perf_counter()
    names = list(fragments)
    if settings.solvent == "smd":
        raise InputError("the energy decomposition takes C-PCM or gas phase, not SMD (its "
                         "non-electrostatic terms have no frozen-density value): use "
                         "--set solvent=pcm or solvent=none")
    if len(names) < 2:
        raise InputError("an energy decomposition needs at least two fragments")
    unassigned = sorted({lab for lab in labels if lab not in fragments})
    if unassigned:
        raise InputError(f"atoms labelled {unassigned[0]} belong to no fragment given: every "
                         "atom of the assembly must be in a fragment")
    mol = build_mole(assembly, settings)
    ao_atom = ao_metadata(mol)[0]
    nao, restricted = mol.nao, mol.spin == 0
    frag_mols = {n: build_mole(fragments[n], settings) for n in names}
    computed: dict[str, SCFResult] = {}
    states: dict[str, SCFState] = {}
    for name in names:
        given = (fragment_results or {}).get(name)
        if given is None:
            given = computed[name] = run_scf(fragments[name], settings, mol=frag_mols[name])
        states[name] = SCFState.of(given)
    atoms = [fragment_atom_indices(assembly, fragments[n], labels, n) for n in names]
    aos = [ao_map(states[n].ao_atom, a, ao_atom) for n, a in zip(names, atoms, strict=True)]
    occupied = [embed_occupied(states[n], m, nao) for n, m in zip(names, aos, strict=True)]
    n_spin = np.array([[c.shape[1] for c in occ] for occ in occupied])
    _check_spin(restricted, n_spin, names, mol)

    def fragment_density(k: int) -> np.ndarray:  # total density of fragment k, AO basis
        return sum(c @ c.T for c in occupied[k])

    p_frz = np.array([sum(occ[s] @ occ[s].T for occ in occupied) for s in range(2)])
    assembly_run = None
    if assembly_result is None:
        guess = p_frz.sum(axis=0) if restricted else p_frz
        assembly_result = assembly_run = run_scf(assembly, settings, initial_dm=guess, mol=mol)
    ab = SCFState.of(assembly_result)
    if len(ab.ao_atom) != nao:
        raise InputError("the assembly result has another basis than these settings give")
    p_ab = np.array([c @ c.T for c in ab.occupied()])

    def work(device: str) -> dict[str, Any]:
        functional = Functional(make_scf(mol, settings, device), restricted, device)
        e_check, s_ab = functional.energy(p_ab)
        e_frz, s_frz = functional.energy(p_frz)
        overlap = mol.intor_symmetric("int1e_ovlp")
        c_0 = [lowdin_orthonormalise(np.hstack([occ[s] for occ in occupied]), overlap)
               for s in range(2)]
        p_0 = np.array([c @ c.T for c in c_0])
        e_0, s_0 = functional.energy(p_0)
        fock = functional.fock(0.5 * (p_0 + p_ab))
        # sum_(f<g) Tr(P_f J[P_g]) = (Tr(P J[P]) - sum_f Tr(P_f J[P_f])) / 2, one at a time
        own = sum(functional.coulomb_energy(fragment_density(k)) for k in range(len(names)))
        coulomb = 0.5 * (functional.coulomb_energy(p_frz.sum(axis=0)) - own)
        return {"e_check": e_check, "e_frz": e_frz, "e_0": e_0, "overlap": overlap,
                "p_0": p_0, "fock": fock, "coulomb": coulomb, "disp": functional.dispersion(),
                "solvent": (s_frz, s_0, s_ab), "device": device}

    raw, _ = run_on_device(mol, settings, assembly.composition.reduced_formula, work)
    if abs(raw["e_check"] - ab.e_tot) > FUNCTIONAL_TOL:
        raise InputError(f"the assembly's SCF energy ({ab.e_tot:.8f} Ha) is not the functional's "
                         f"value of its density ({raw['e_check']:.8f} Ha): compute the assembly "
                         "with the same settings")
    v_tot = _nuclear_potential(mol)
    e_elstat = float(mol.energy_nuc() - sum(m.energy_nuc() for m in frag_mols.values()))
    e_elstat += raw["coulomb"]
    for k, name in enumerate(names):
        # the other fragments' nuclei and ECP cores acting on fragment k's electrons
        density = fragment_density(k)
        e_elstat += float(np.sum(density * v_tot))
        e_elstat -= float(np.sum(density[np.ix_(aos[k], aos[k])]
                                 * _nuclear_potential(frag_mols[name])))
    e_disp = raw["disp"] - sum(_fragment_dispersion(frag_mols[n], settings) for n in names)
    s_frz, s_0, s_ab = raw["solvent"]
    solvent_steps, e_solv = None, 0.0
    if settings.solvent != "none" and None in (s_frz, s_0, s_ab):
        raise InputError("the solvent model gave no solvent energy for a density, so the "
                         "solvation change cannot be kept apart: run the decomposition in the "
                         "gas phase (--set solvent=none)")
    if s_frz is not None:
        s_frags = [states[n].solvent_energy for n in names]
        if any(s is None for s in s_frags):
            raise InputError("a fragment result has no solvent energy although the settings "
                             "have a solvent: compute the fragments with the same settings")
        e_solv = s_frz - float(sum(s_frags))
        solvent_steps = {"frozen": e_solv, "pauli": s_0 - s_frz, "orbital": s_ab - s_0}
    e_frags = {n: states[n].e_tot for n in names}
    delta = p_ab - raw["p_0"]
    fock = raw["fock"]
    if restricted:
        channels = [nocv_channel("restricted", delta.sum(axis=0), raw["overlap"], fock)]
    else:
        channels = [nocv_channel(spin, delta[s], raw["overlap"], fock[s])
                    for s, spin in enumerate(("alpha", "beta"))]
    e_0 = float(raw["e_0"])
    device = raw["device"]
    return EDAResult(
        fragment_names=names, fragment_atoms=atoms, restricted=restricted,
        e_assembly=ab.e_tot, e_fragments=e_frags, e_frozen_density=raw["e_frz"],
        e_promolecule=e_0, e_elstat=e_elstat, e_disp=e_disp, e_solv=e_solv,
        e_pauli=e_0 - sum(e_frags.values()) - e_elstat - e_disp - e_solv,
        e_orb=ab.e_tot - e_0, channels=channels, overlap=raw["overlap"], ao_atom=ao_atom,
        deformation_density=delta, functional_check=raw["e_check"] - ab.e_tot,
        solvent_steps=solvent_steps, basis_convention=BASIS_CONVENTION,
        spin_convention=SPIN_RKS if restricted else SPIN_UKS,
        solvent_convention=solvent_convention(settings), device=device,
        device_name=device_name(device), wall_s=time.perf_counter() - start,
        versions=code_versions(), fragment_results=computed, assembly_result=assembly_run,
    )


def solvent_convention(settings: CalcSettings) -> str:
    """What the terms mean in the settings' solvent, one line.

    Examples
    --------
    >>> solvent_convention(CalcSettings(solvent="none"))
    'gas phase'
    """
    if settings.solvent == "none":
        return "gas phase"
    return (f"{settings.solvent.upper()}: every energy is the solvated functional (each density "
            "with its own equilibrium reaction field in the assembly's cavity; fragments in "
            "their own cavities); e_solv is the frozen-step change of the solvent free energy, "
            "the Pauli and orbital terms include their steps' solvent response")

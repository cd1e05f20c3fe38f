"""Direct minimisation of the SCF energy over orbital rotations (preconditioned L-BFGS).

DIIS solves ``[F, D] = 0``; it finds a stationary point, not a minimum, and where the energy
surface has a soft valley (a hole in a near-degenerate set that can still spread or
localise) it can circle: the energy creeps down by 1e-8 Ha a cycle while the orbital
gradient stays at a few times the tolerance (the [PW12O40]2- radical of the detachment
row: 8 held-occupation DIIS cycles at 6e-5 to 1e-4, against 3.2e-5). Newton follows the
valley but pays one orbital-Hessian product (two Fock builds' worth of exchange) per
micro-iteration. This module does what Q-Chem's GDM does for the same failure: it minimises
``E(C0 exp(K))`` over the occupied-virtual generator ``K`` with L-BFGS (SciPy's), one Fock
build per iteration, the occupation pattern fixed by construction.

* The gradient is exact at every ``K``, not only at ``K = 0``: with ``A_pq = F'_pq (n_q - n_p)``
  (``F'`` the MO Fock matrix of the rotated orbitals), ``dE/dK = sum_k ad_K^k(A) / (k+1)!``
  (the derivative of the exponential map), so SciPy's Wolfe line search sees a smooth
  function and its curvature pairs are consistent.
* The frame is pseudo-canonical (Fock diagonal within the occupied and within the virtual
  block) and the coordinates are scaled by the diagonal Hessian ``2 |dn| (e_p - e_q)``
  (floored at :data:`GAP_FLOOR`), so the first step is the Roothaan step and L-BFGS
  learns the rest. A frame is renewed (history dropped) when a rotation grows past
  :data:`FRAME_RESET`.
* Convergence is PySCF's: ``|dE| < conv_tol`` between iterations and ``|g| < conv_tol_grad``
  with ``g = mf.get_grad`` at the current orbitals (no extrapolated Fock: what is checked
  is what is reported). Each iteration's orbitals go to ``mf.chkfile`` as PySCF's kernel
  writes them, so a run cut short restarts where it stopped.

Everything is plain NumPy on the CPU; the solvent, density fitting and ECPs are whatever
``mf.get_veff``/``mf.energy_tot``/``mf.get_fock`` do, in the order PySCF's kernel calls them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.linalg import eigh, expm
from scipy.optimize import minimize

log = logging.getLogger(__name__)

#: Name of the rung in the attempts record.
ORBITAL_LBFGS = "orbital_lbfgs"

#: Smallest orbital-energy gap (Hartree) the preconditioner divides by.
GAP_FLOOR = 0.05

#: Largest generator element (radians) before the frame is renewed.
FRAME_RESET = 0.5

#: L-BFGS history length (pairs).
HISTORY = 20

#: A frame that gains less than this (Hartree) over its whole run ends the minimisation.
NO_PROGRESS = 1e-11


class OrbitalLBFGS:
    """Minimise the energy of ``mf``'s method over orbital rotations with fixed occupations.

    Parameters
    ----------
    mf : pyscf SCF object (RHF/RKS or UHF/UKS, CPU)
        Supplies ``get_veff``, ``energy_tot``, ``get_fock``, ``get_grad`` and ``chkfile``.
    conv_tol, conv_tol_grad : float, optional
        Energy change (Hartree) and orbital-gradient norm for convergence; default ``mf``'s
        (``conv_tol_grad`` None: ``sqrt(conv_tol)``, as PySCF).
    max_cycle : int, optional
        Most Fock builds (default ``mf.max_cycle``).

    Attributes
    ----------
    converged, e_tot, mo_coeff, mo_occ, mo_energy
        As a PySCF solver after ``kernel``; the orbitals are canonical within the occupied
        and within the virtual block, occupied first.
    cycles, fock_builds, frames : int
        Accepted iterations, energy evaluations, frames used.
    callback : callable, optional
        Called after every accepted iteration with PySCF-style ``envs`` (``e_tot``,
        ``last_hf_e``, ``norm_gorb``, ``mo_coeff``, ``mo_occ``, ``mo_energy``).

    Examples
    --------
    >>> from pyscf import gto, scf
    >>> mol = gto.M(atom="O 0 0 0; H 0 0 0.97", basis="6-31g", spin=1, verbose=0)
    >>> reference = scf.UHF(mol).run(conv_tol=1e-10)
    >>> start = scf.UHF(mol).run(max_cycle=2)
    >>> solver = OrbitalLBFGS(scf.UHF(mol), conv_tol=1e-10)
    >>> energy = solver.kernel(mo_coeff=start.mo_coeff, mo_occ=start.mo_occ)
    >>> bool(solver.converged), bool(abs(energy - reference.e_tot) < 1e-8)
    (True, True)
    """

    def __init__(self, mf, conv_tol: float | None = None, conv_tol_grad: float | None = None,
                 max_cycle: int | None = None):
        self.mf = mf
        self.conv_tol = float(conv_tol if conv_tol is not None else mf.conv_tol)
        grad = conv_tol_grad if conv_tol_grad is not None else mf.conv_tol_grad
        self.conv_tol_grad = float(grad) if grad else float(np.sqrt(self.conv_tol))
        self.max_cycle = int(max_cycle if max_cycle is not None else mf.max_cycle)
        self.callback: Callable[[dict[str, Any]], None] | None = None
        self.converged = False
        self.e_tot = float("nan")
        self.mo_coeff = self.mo_occ = self.mo_energy = None
        self.cycles = self.fock_builds = self.frames = 0

    # -- public -------------------------------------------------------------------------
    def kernel(self, dm0=None, mo_coeff=None, mo_occ=None) -> float:
        """Minimise from ``mo_coeff``/``mo_occ`` (or the natural orbitals of ``dm0``, or
        ``mf``'s orbitals); return the energy (Hartree) of the last accepted orbitals."""
        mf = self.mf
        if mo_coeff is None:
            mo_coeff, mo_occ = _orbitals_of(mf, dm0)
        self._restricted = np.asarray(mo_occ).ndim == 1
        self._h1e, self._s1e = mf.get_hcore(), mf.get_ovlp()
        coeffs, self._occs = [], []
        for c, n in (zip([mo_coeff], [mo_occ], strict=True) if self._restricted
                     else zip(mo_coeff, mo_occ, strict=True)):
            c, n = _with_virtuals(np.asarray(c), np.asarray(n, dtype=float), self._s1e)
            coeffs.append(c)
            self._occs.append(n)
        self._last_e: float | None = None
        self.converged = False
        current = self._evaluate(coeffs)
        while not self.converged and self.fock_builds < self.max_cycle:
            cycles_before = self.cycles
            gained = self._run_frame(current)
            current = self._accepted
            if self.cycles == cycles_before or gained < NO_PROGRESS:
                break  # the line search found nothing lower from a fresh frame
        self._finish(current)
        return self.e_tot

    # -- one frame ----------------------------------------------------------------------
    def _run_frame(self, current: dict[str, Any]) -> float:
        """L-BFGS in the pseudo-canonical frame of ``current``; returns the energy gained."""
        self.frames += 1
        frame = [_pseudo_canonical(f, n) for f, n in
                 zip(current["fock_mo"], self._occs, strict=True)]
        start = {**current,
                 "coeffs": [c @ rot for c, (rot, _) in
                            zip(current["coeffs"], frame, strict=True)],
                 "fock_mo": [rot.T @ f @ rot for f, (rot, _) in
                             zip(current["fock_mo"], frame, strict=True)]}
        references = start["coeffs"]
        pairs = [_rotation_pairs(n) for n in self._occs]
        scales = []
        for (_, levels), n, (vir, occ) in zip(frame, self._occs, pairs, strict=True):
            dn = np.abs(n[occ][None, :] - n[vir][:, None])
            gap = np.maximum(levels[vir][:, None] - levels[occ][None, :], GAP_FLOOR)
            scales.append((1.0 / np.sqrt(2.0 * dn * gap)).ravel())
        scale = np.concatenate(scales)
        size = scale.size
        zero = [np.zeros((c.shape[-1],) * 2) for c in references]
        start["generators"] = zero
        sigma = max(float(np.linalg.norm(self._packed_gradient(start, pairs) * scale)), 1e-12)
        e_start = start["e_tot"]
        self._accepted = start
        cache: list[tuple[np.ndarray, dict[str, Any]]] = [(np.zeros(size), start)]

        def unpack(x: np.ndarray) -> list[np.ndarray]:
            kappa = x * scale * sigma
            generators, offset = [], 0
            for ref, (vir, occ) in zip(references, pairs, strict=True):
                block = kappa[offset: offset + vir.size * occ.size].reshape(vir.size, occ.size)
                offset += block.size
                k = np.zeros((ref.shape[-1],) * 2)
                k[np.ix_(vir, occ)] = block
                k[np.ix_(occ, vir)] = -block.T
                generators.append(k)
            return generators

        def evaluation_at(x: np.ndarray) -> dict[str, Any]:
            for known, evaluation in cache:
                if np.array_equal(known, x):
                    return evaluation
            generators = unpack(x)
            evaluation = self._evaluate([ref @ expm(k) for ref, k in
                                         zip(references, generators, strict=True)])
            evaluation["generators"] = generators
            cache.append((x.copy(), evaluation))
            del cache[:-4]
            return evaluation

        def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
            evaluation = evaluation_at(x)
            gradient = self._packed_gradient(evaluation, pairs) * scale * sigma
            return evaluation["e_tot"] - e_start, gradient

        def callback(intermediate_result) -> None:
            evaluation = evaluation_at(intermediate_result.x)
            self._accept(evaluation)
            if self.converged or self.fock_builds >= self.max_cycle:
                raise StopIteration
            if max(float(np.max(np.abs(k))) for k in evaluation["generators"]) > FRAME_RESET:
                raise StopIteration  # a new frame: the rotation is no longer small

        minimize(fun, np.zeros(size), jac=True, method="L-BFGS-B", callback=callback,
                 options={"maxcor": HISTORY, "ftol": 0.0, "gtol": 0.0, "maxls": 20,
                          "maxiter": self.max_cycle,
                          "maxfun": max(self.max_cycle - self.fock_builds, 1)})
        return e_start - self._accepted["e_tot"]

    # -- pieces -------------------------------------------------------------------------
    def _evaluate(self, coeffs: list[np.ndarray]) -> dict[str, Any]:
        """Energy, AO Fock and MO Fock of the orbitals (one Fock build)."""
        mf = self.mf
        mo_coeff, mo_occ = self._shape(coeffs, self._occs)
        dm = mf.make_rdm1(mo_coeff, mo_occ)
        vhf = mf.get_veff(mf.mol, dm)
        e_tot = float(mf.energy_tot(dm, self._h1e, vhf))
        fock = mf.get_fock(self._h1e, self._s1e, vhf, dm)
        focks = [np.asarray(fock)] if self._restricted else list(np.asarray(fock))
        self.fock_builds += 1
        return {"coeffs": coeffs, "e_tot": e_tot, "fock": fock,
                "fock_mo": [c.T @ f @ c for c, f in zip(coeffs, focks, strict=True)]}

    def _packed_gradient(self, evaluation: dict[str, Any], pairs) -> np.ndarray:
        """``dE/dkappa`` (Hartree per radian) for every occupied-virtual pair, packed."""
        parts = []
        for fock_mo, n, k, (vir, occ) in zip(evaluation["fock_mo"], self._occs,
                                             evaluation["generators"], pairs, strict=True):
            a = fock_mo * (n[None, :] - n[:, None])
            parts.append(2.0 * _dexp_transpose(k, a)[np.ix_(vir, occ)].ravel())
        return np.concatenate(parts)

    def _accept(self, evaluation: dict[str, Any]) -> None:
        """Record an accepted iteration: convergence test, checkpoint, callback."""
        mf = self.mf
        mo_coeff, mo_occ = self._shape(evaluation["coeffs"], self._occs)
        norm = float(np.linalg.norm(mf.get_grad(mo_coeff, mo_occ, evaluation["fock"])))
        last = self._last_e
        self.cycles += 1
        self._accepted = evaluation
        levels = [np.diag(f) for f in evaluation["fock_mo"]]
        mo_energy = levels[0] if self._restricted else np.array(levels)
        self.converged = (last is not None and abs(evaluation["e_tot"] - last) < self.conv_tol
                          and norm < self.conv_tol_grad)
        self._last_e = evaluation["e_tot"]
        if mf.chkfile:
            from pyscf.scf import chkfile

            chkfile.dump_scf(mf.mol, mf.chkfile, evaluation["e_tot"], mo_energy, mo_coeff,
                             mo_occ)
        log.debug("orbital L-BFGS %d: E = %.10f |g| = %.2e (%d builds)", self.cycles,
                  evaluation["e_tot"], norm, self.fock_builds)
        if self.callback is not None:
            self.callback({"cycle": self.cycles, "e_tot": evaluation["e_tot"],
                           "last_hf_e": last if last is not None else float("nan"),
                           "norm_gorb": norm, "mo_coeff": mo_coeff, "mo_occ": mo_occ,
                           "mo_energy": mo_energy, "scf_conv": self.converged})

    def _finish(self, current: dict[str, Any]) -> None:
        """Canonical orbitals of ``current``: occupied first, each block by energy."""
        coeffs, energies, occs = [], [], []
        for c, f, n in zip(current["coeffs"], current["fock_mo"], self._occs, strict=True):
            rotation, levels = _pseudo_canonical(f, n)
            order = np.lexsort((levels, n <= 0))
            coeffs.append((c @ rotation)[:, order])
            energies.append(levels[order])
            occs.append(n[order])
        self.mo_coeff, self.mo_occ = self._shape(coeffs, occs)
        self.mo_energy = energies[0] if self._restricted else np.array(energies)
        self.e_tot = current["e_tot"]

    def make_rdm1(self, mo_coeff=None, mo_occ=None) -> np.ndarray:
        """AO density of the last accepted orbitals (or of the ones given)."""
        return self.mf.make_rdm1(self.mo_coeff if mo_coeff is None else mo_coeff,
                                 self.mo_occ if mo_occ is None else mo_occ)

    def _shape(self, coeffs, occs):
        """Lists per channel to PySCF's arrays (restricted: one channel)."""
        if self._restricted:
            return coeffs[0], occs[0]
        return np.array(coeffs), np.array(occs)


def _orbitals_of(mf, dm0) -> tuple[np.ndarray, np.ndarray]:
    """Orbitals to start from: ``mf``'s, or the filled natural orbitals of ``dm0`` (per
    channel the ``round(N)`` most occupied ones, each holding a whole electron, or a pair
    in a restricted run; a density made from orbitals is reproduced exactly)."""
    if dm0 is None:
        if mf.mo_coeff is None:
            raise ValueError("orbital L-BFGS needs starting orbitals or a density")
        return mf.mo_coeff, mf.mo_occ
    from superatom.engine.guess import with_natural_orbitals

    tagged = with_natural_orbitals(np.asarray(dm0), mf.get_ovlp())
    if getattr(tagged, "mo_coeff", None) is None:
        raise ValueError("orbital L-BFGS needs a density with non-negative occupations")
    restricted = np.asarray(tagged.mo_occ).ndim == 1
    full = 2.0 if restricted else 1.0
    coeffs, occs = [], []
    for coeff, occ in (zip([tagged.mo_coeff], [tagged.mo_occ], strict=True) if restricted
                       else zip(tagged.mo_coeff, tagged.mo_occ, strict=True)):
        count = round(float(np.sum(occ)) / full)
        coeffs.append(coeff[:, np.argsort(-occ, kind="stable")[:count]])
        occs.append(np.full(count, full))
    if restricted:
        return coeffs[0], occs[0]
    width = max(c.shape[1] for c in coeffs)  # pad the smaller channel with empty columns
    return (np.array([np.pad(c, ((0, 0), (0, width - c.shape[1]))) for c in coeffs]),
            np.array([np.pad(o, (0, width - o.size)) for o in occs]))


def _with_virtuals(coeff: np.ndarray, occupations: np.ndarray, overlap: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The orbitals of one channel completed to a full orthonormal set.

    A saved restart keeps the occupied orbitals only (and a zero-padded set has empty
    columns): the empty space is the orthogonal complement of the filled orbitals in the
    span of the AO basis (canonical orthogonalisation drops linear dependences, as PySCF).
    """
    from pyscf.scf.addons import canonical_orth_

    filled = coeff[:, occupations > 0]
    basis = canonical_orth_(overlap)
    if coeff.shape[1] == basis.shape[1] and np.all(np.linalg.norm(coeff, axis=0) > 0):
        return coeff, occupations
    rest = basis - filled @ (filled.T @ overlap @ basis)
    values, vectors = eigh(rest.T @ overlap @ rest)
    keep = vectors[:, ::-1][:, : basis.shape[1] - filled.shape[1]]
    empty = rest @ keep / np.sqrt(values[::-1][: keep.shape[1]])
    return (np.hstack([filled, empty]),
            np.concatenate([occupations[occupations > 0], np.zeros(empty.shape[1])]))


def _rotation_pairs(occupations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the empty (rows) and filled (columns) orbitals of one channel."""
    filled = occupations > 0
    return np.flatnonzero(~filled), np.flatnonzero(filled)


def _pseudo_canonical(fock_mo: np.ndarray, occupations: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Rotation that diagonalises ``fock_mo`` within the filled and within the empty block
    (the energy does not change), and the resulting diagonal."""
    rotation = np.eye(fock_mo.shape[0])
    levels = np.empty(fock_mo.shape[0])
    for block in (np.flatnonzero(occupations > 0), np.flatnonzero(occupations <= 0)):
        if block.size:
            values, vectors = eigh(fock_mo[np.ix_(block, block)])
            rotation[np.ix_(block, block)] = vectors
            levels[block] = values
    return rotation, levels


def _dexp_transpose(generator: np.ndarray, gradient: np.ndarray, tol: float = 1e-15
                    ) -> np.ndarray:
    """``sum_k ad_K^k(A) / (k+1)!``: the gradient ``A`` in the rotated frame carried back to
    the generator ``K`` of ``exp(K)`` (both antisymmetric)."""
    total = gradient.copy()
    if not np.any(generator):
        return total
    term = gradient
    scale = max(float(np.max(np.abs(gradient))), 1e-300)
    for k in range(1, 60):
        term = (generator @ term - term @ generator) / (k + 1)
        total += term
        if float(np.max(np.abs(term))) < tol * scale:
            break
    return total

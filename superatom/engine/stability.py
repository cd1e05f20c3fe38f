"""Internal stability of a converged Kohn-Sham state (PySCF's analysis), followed if unstable.

A converged SCF is a stationary point of the energy, not necessarily a minimum: on a hard
system (a lanthanide-substituted polyoxometalate, an open shell) DIIS can stop on a saddle.
PySCF's internal stability analysis finds the lowest eigenvalue of the orbital-rotation
Hessian within the same (restricted or unrestricted) ansatz; a negative one means a lower
state exists. :func:`check_and_follow` runs that analysis on the CPU (solvent response
included), and when it finds an instability first measures the energy along the reported
direction (:func:`energy_curvature`, two energy evaluations). Where the energy rises, the
negative eigenvalue is not a lower state: a Davidson root of the implemented Hessian that the
energy itself does not follow. Where it falls, the orbitals are rotated along it and
converged again, up to ``max_follow`` times.
"""

from __future__ import annotations

import io
import logging
import time
from contextlib import nullcontext
from typing import Any, NamedTuple

import numpy as np
import scipy.linalg
from pyscf.lib import logger
from pyscf.scf import stability

from superatom.engine.stability_restart import TrialRotations

log = logging.getLogger(__name__)

#: Step along the reported direction (the unit eigenvector in PySCF's rotation variables).
CURVATURE_STEP = 0.05

#: PySCF's verdict: an eigenvalue below this (Hartree) is an instability.
UNSTABLE_BELOW = -1e-5
#: A Ritz value below this (Hartree) settles the verdict: it is an upper bound of the lowest
#: eigenvalue, so the state is unstable whatever further iterations find; the solve stops
#: there and its Ritz vector, a direction along which the energy falls, is followed. Far
#: below grid noise (+-1e-4 Ha on flat directions) and :data:`UNSTABLE_BELOW`.
SETTLED_BELOW = -1e-3
#: Davidson iterations (one trial rotation each) before the solve gives up.
DAVIDSON_MAX_CYCLE = 100
#: Weight of PySCF's all-pairs start vector in the engine's Davidson start.
SPREAD_WEIGHT = 0.1
#: The engine's start spans the pairs whose diagonal element lies within this factor of the
#: lowest one, and at least this many of the lowest.
LOW_WINDOW = 1.5
LOW_PAIRS = 32
#: Diagonal elements equal to this many decimals (Hartree) are a tie, ranked by index.
TIE_DECIMALS = 9
#: A restarted solve starts from this many of the lowest Ritz vectors of the saved subspace.
RESTART_VECTORS = 6
#: A trial rotation within this relative distance of the saved span takes its product from
#: the saved products.
IN_SPAN = 1e-8


class RotationSolve(NamedTuple):
    """The Davidson solve of :func:`lowest_rotation`."""

    #: Lowest eigenvalue (Hartree) as found: an upper bound when not converged.
    value: float
    #: Its unit eigenvector, in PySCF's rotation variables.
    vector: np.ndarray
    #: Hessian-vector products computed (each one response build of the full system).
    products: int
    converged: bool
    #: Saved products of an earlier, killed analysis that were used instead.
    reused: int
    #: Stopped early at a Ritz value below ``settled_below``.
    settled: bool


def internal_stability(mf, orbital_route: bool = True, start: str = "lowest",
                       record: dict[str, Any] | None = None,
                       saved: TrialRotations | None = None) -> tuple[bool, float | None, Any]:
    """Lowest internal-rotation Hessian eigenvalue of a converged CPU SCF.

    PySCF's Hessian (``newton_ah.gen_g_hop_rhf`` / ``gen_g_hop_uhf``, symmetry-breaking
    rotations allowed), its preconditioner, its Davidson tolerance (1e-4) and its verdict
    (unstable below -1e-5 Hartree); one root. Only the start differs. PySCF's
    (``start="pyscf"``) is ``1/h_ii`` over every occupied-virtual pair: on a Keggin-size unit,
    2e5 pairs, it overlaps the lowest mode by about 1 % and Davidson needs many trial
    rotations, each a full exchange build. The engine's (``start="lowest"``) spans the low
    pairs: ``1/h_ii`` with random signs (fixed seed) on the pairs within 1.5x of the lowest
    diagonal element (at least 32), plus the lowest single rotation, plus PySCF's vector at
    10 % of the norm. Random signs keep every symmetry in the start: a start on the lowest
    rotation alone converges to a higher root of [MoO4]2- in C-PCM (0.84 against 0.83 Ha),
    and a spin-symmetric one misses the symmetry-breaking saddle of stretched H2. With
    density fitting the exchange of each trial rotation takes the occupied-orbital route
    (:mod:`superatom.engine.response_exchange`), the same numbers at a fraction of the cost.

    Parameters
    ----------
    mf : pyscf RKS/UKS (or RHF/UHF) object, converged
    orbital_route : bool
        Take the orbital route for the trial rotations' exchange (False: PySCF's general
        route throughout, for comparison).
    start : {"lowest", "pyscf"}
        Davidson start vector, as above.
    record : dict, optional
        Receives ``trial_rotations``, ``davidson_converged``, ``reused_rotations`` and
        ``davidson_settled`` (stopped early below :data:`SETTLED_BELOW`).
    saved : TrialRotations, optional
        Keeps every trial rotation in the checkpoint and starts from those of an earlier,
        killed analysis of the same state (:mod:`superatom.engine.stability_restart`).

    Returns
    -------
    stable : bool
        No eigenvalue below -1e-5 Hartree. False also when the solve did not converge and
        its last estimate lies above that (no verdict: ``mo_coeff`` is then unrotated); a
        negative estimate is an instability even unconverged (an upper bound).
    lowest : float
        The lowest eigenvalue (Hartree) as the Davidson solver found it.
    mo_coeff : numpy.ndarray
        ``mf.mo_coeff`` if stable, else the orbitals rotated along the instability (as
        PySCF rotates them).

    Examples
    --------
    >>> from pyscf import gto, dft
    >>> mf = dft.RKS(gto.M(atom="O 0 0 0; H 0 0 0.96; H 0.93 0 -0.24", basis="sto-3g"))
    >>> mf.verbose = 0
    >>> _ = mf.kernel()
    >>> stable, lowest, _ = internal_stability(mf)
    >>> stable, lowest > 0
    (True, True)
    """
    from superatom.engine.response_exchange import orbital_route_exchange

    with orbital_route_exchange(mf) if orbital_route else nullcontext(), _solvent_response(mf):
        solve = lowest_rotation(mf, start, saved, settled_below=SETTLED_BELOW)
    lowest, vector, converged = solve.value, solve.vector, solve.converged
    if record is not None:
        record.update(trial_rotations=solve.products, davidson_converged=converged,
                      reused_rotations=solve.reused, davidson_settled=solve.settled)
    stable = not lowest < UNSTABLE_BELOW
    if stable and not converged:
        log.warning("stability analysis did not converge in %d trial rotations (lowest "
                    "estimate %.6f Ha): no verdict", solve.products, lowest)
        return False, lowest, mf.mo_coeff
    if stable:
        return True, lowest, mf.mo_coeff
    if not _unrestricted(mf):
        return False, lowest, stability._rotate_mo(mf.mo_coeff, mf.mo_occ, vector)
    alpha = int(np.count_nonzero(mf.mo_occ[0] > 0) * np.count_nonzero(mf.mo_occ[0] == 0))
    return False, lowest, (stability._rotate_mo(mf.mo_coeff[0], mf.mo_occ[0], vector[:alpha]),
                           stability._rotate_mo(mf.mo_coeff[1], mf.mo_occ[1], vector[alpha:]))


def lowest_rotation(mf, start: str = "lowest", saved: TrialRotations | None = None,
                    settled_below: float | None = SETTLED_BELOW) -> RotationSolve:
    """The lowest root of the orbital-rotation Hessian, as a :class:`RotationSolve`.

    The Davidson solve of :func:`internal_stability`; ``products`` counts the trial
    rotations, the Hessian-vector products (each one response build of the full system).
    With ``saved`` each product is kept on disk; the saved products of an earlier analysis of
    the same state (``reused``: how many) replace the start by the lowest Ritz vectors of
    their span, give the product of any rotation in it, and one exact product checks the
    final root.
    Not converged after :data:`DAVIDSON_MAX_CYCLE` iterations, the eigenvalue is the last
    estimate: an upper bound of the lowest eigenvalue (PySCF's own analysis stops at 50 and
    reports it as if converged; on [W6O19]2- in C-PCM it used all 50). The solve also stops,
    unconverged, as soon as its Ritz value falls below ``settled_below`` (default
    :data:`SETTLED_BELOW`; None: solve to convergence): the lowest eigenvalue lies lower
    still, so the state is unstable, and the Ritz vector (the energy's curvature along it is
    the Ritz value) is as good a direction to follow as the converged one. On a Keggin-size
    radical each further iteration is a 10-minute response build.
    """
    from pyscf import lib
    from pyscf.soscf import newton_ah

    make = newton_ah.gen_g_hop_uhf if _unrestricted(mf) else newton_ah.gen_g_hop_rhf
    gradient, hop, diagonal = make(mf, mf.mo_coeff, mf.mo_occ, with_symmetry=False)
    diagonal = diagonal * 2  # hop gives the vir-occ block: the Hessian is twice its real part
    products = {"n": 0}

    known: tuple[np.ndarray, np.ndarray] | None = None

    def hessian_x(x):
        if known is not None:  # a rotation in the saved span: its product is known
            coefficients = known[0].T @ x
            if np.linalg.norm(x - known[0] @ coefficients) <= IN_SPAN * np.linalg.norm(x):
                return known[1] @ coefficients
        products["n"] += 1
        product = hop(x).real * 2
        if saved is not None:
            saved.add(x, product)
        return product

    def precondition(dx, e, x0):
        shifted = diagonal - e
        shifted[abs(shifted) < 1e-8] = 1e-8
        return dx / shifted

    spread = np.zeros_like(gradient)
    spread[gradient != 0] = 1.0 / diagonal[gradient != 0]
    if start == "pyscf":
        vector = spread
        vector[np.argmin(diagonal)] = 1.0
    elif start == "lowest":
        # degenerate pairs (alpha and beta of a closed shell, a symmetric molecule's sets)
        # tie to round-off, which the threads of a Fock build decide: ranked on a rounded
        # diagonal, ties go by index and the start is the same on every run
        ranked = np.round(diagonal, TIE_DECIMALS)
        low = ranked <= LOW_WINDOW * max(float(ranked.min()), 1e-3)
        low[np.argsort(ranked, kind="stable")[:LOW_PAIRS]] = True
        signs = np.random.default_rng(0).choice([-1.0, 1.0], size=diagonal.size)
        vector = np.where(low, signs / np.maximum(np.abs(diagonal), 1e-3), 0.0)
        vector /= np.linalg.norm(vector)
        vector[np.argmin(ranked)] += 1.0
        norm = float(np.linalg.norm(spread))
        if norm > 0:
            vector += SPREAD_WEIGHT * spread / norm
    else:
        raise ValueError(f"start must be 'lowest' or 'pyscf', not {start!r}")
    starts, reused = [vector], 0
    if saved is not None:
        restart = saved.ritz_start(mf, RESTART_VECTORS)
        saved.begin(mf)
        if restart is not None:  # go on from the saved subspace (which holds the start)
            starts, known, reused = restart[0], restart[1:], saved.reused
            saved.add_span(*known)  # this checkpoint then holds all that is known
    began = time.perf_counter()

    def report(envs):  # one line per Davidson iteration: a long analysis shows its progress
        ritz = float(np.ravel(envs["e"])[0])
        log.info("stability analysis: iteration %d, lowest %.6f Ha, |r| %.2e, %d trial "
                 "rotations, %.0f s", envs["icyc"] + 1, ritz,
                 float(envs["max_dx_norm"]), products["n"], time.perf_counter() - began)
        if settled_below is not None and ritz < settled_below:
            raise _Settled(ritz, np.asarray(envs["x0"][0]))

    quiet = logger.Logger(io.StringIO(), logger.WARN)
    settled = False
    try:
        converged, values, vectors = lib.davidson1(
            lambda xs: [hessian_x(x) for x in xs], starts, precondition,
            tol=stability.STAB_TOL, max_cycle=DAVIDSON_MAX_CYCLE, verbose=quiet, nroots=1,
            callback=report)
        value, vector = float(values[0]), np.asarray(vectors[0])
    except _Settled as stop:
        converged, value, vector, settled = [False], stop.value, stop.vector, True
        log.info("stability analysis: Ritz value %.6f Ha below %.0e Ha, an upper bound of the "
                 "lowest eigenvalue: unstable; its vector is followed unconverged",
                 value, settled_below)
    if reused:  # saved products are of the orbitals before the restart: check exactly
        known = None
        product = hessian_x(vector)
        value = float(vector @ product / (vector @ vector))
        residual = float(np.linalg.norm(product - value * vector) / np.linalg.norm(vector))
        log.info("stability analysis: lowest %.6f Ha recomputed, |r| %.2e", value, residual)
        converged[0] = converged[0] and residual < np.sqrt(stability.STAB_TOL)  # Davidson's
    return RotationSolve(value, vector, products["n"], bool(converged[0]), reused, settled)


class _Settled(Exception):
    """Stops the Davidson solve once its Ritz value has settled the verdict."""

    def __init__(self, value: float, vector: np.ndarray):
        super().__init__(value)
        self.value, self.vector = value, vector / np.linalg.norm(vector)


def energy_curvature(mf, mo_rotated, step: float = CURVATURE_STEP) -> float:
    """Second derivative (Hartree) of the SCF energy along the rotation to ``mo_rotated``.

    PySCF rotates an unstable state by ``exp(R)`` with ``R`` its unit eigenvector in the
    orbital-rotation variables. This recovers ``R`` (a matrix logarithm, per spin) and
    evaluates the energy at ``exp(+-step R)``: ``(E+ + E- - 2 E0) / step**2``. The symmetric
    difference cancels the small residual gradient of a converged state. For an exact
    Hessian the value equals the eigenvalue PySCF reports (same units, no factor); a positive
    value against a negative eigenvalue means the energy rises along the reported direction.
    Two energy evaluations, each one Fock build of the full system.

    Parameters
    ----------
    mf : pyscf RKS/UKS (or RHF/UHF) object, converged
    mo_rotated : numpy.ndarray
        Orbitals as :func:`internal_stability` returns them for an unstable state.
    step : float
        Fraction of the unit rotation (dimensionless).

    Examples
    --------
    >>> import numpy as np
    >>> from pyscf import gto, scf
    >>> mf = scf.UHF(gto.M(atom="H 0 0 0; H 0 0 3.0", basis="6-31g", verbose=0))
    >>> dm = scf.RHF(mf.mol).run().make_rdm1() / 2
    >>> _ = mf.kernel(dm0=np.array([dm, dm]))  # the spin-symmetric saddle point
    >>> stable, lowest, rotated = internal_stability(mf)
    >>> curvature = energy_curvature(mf, rotated)
    >>> bool(lowest < 0 and curvature < 0 and abs(curvature - lowest) < 0.05 * abs(lowest))
    True
    """
    overlap = mf.get_ovlp()
    start = np.asarray(mf.mo_coeff)
    rotated = np.asarray(mo_rotated)
    spins = (start, rotated) if start.ndim == 2 else None
    pairs = [spins] if spins else list(zip(start, rotated, strict=True))
    generators = []
    for before, after in pairs:
        unitary = before.T @ overlap @ after
        generator = scipy.linalg.logm(unitary).real
        generators.append((before, (generator - generator.T) / 2))

    def energy(t: float) -> float:
        mos = [before @ scipy.linalg.expm(t * gen) for before, gen in generators]
        mo = mos[0] if spins else np.array(mos)
        return float(mf.energy_tot(dm=mf.make_rdm1(mo, mf.mo_occ)))

    e_zero = float(mf.energy_tot(dm=mf.make_rdm1(mf.mo_coeff, mf.mo_occ)))
    return (energy(step) + energy(-step) - 2.0 * e_zero) / step**2


def check_and_follow(mf, max_follow: int = 2, saved: TrialRotations | None = None
                     ) -> dict[str, Any]:
    """Check ``mf`` for internal stability; follow an instability and converge again.

    Each analysis is logged as it ends. A negative eigenvalue is first tested against the
    energy itself (:func:`energy_curvature`): where the energy rises along the reported
    direction, no lower state lies that way and nothing is followed (the record says so in
    ``verdict``); where it falls, the orbitals are rotated and converged again. The SCF keeps
    its solver settings (the caller resets level shift and damping first). Returns the record
    stored with the result: ``internal_stable`` of the final state, ``lowest_eigenvalue_ha``
    and ``energy_curvature_ha`` of each check (None where not measured), ``checks`` (PySCF's
    verdict and the wall time of each), how many instabilities were followed, the energy
    lowering (Hartree), ``verdict`` and the wall time (s). An instability followed into an
    SCF that does not converge leaves ``converged`` false on ``mf``: the caller treats it as
    unconverged. ``saved`` keeps the trial rotations in the checkpoint, so a killed
    analysis goes on where it stopped (:func:`internal_stability`).
    """
    start = time.perf_counter()
    checks: list[dict[str, Any]] = []
    e_start = float(mf.e_tot)
    followed = 0
    verdict = "no negative eigenvalue"
    while True:
        begin = time.perf_counter()
        check: dict[str, Any] = {}
        stable, lowest, mo_coeff = internal_stability(mf, record=check, saved=saved)
        check.update(lowest_eigenvalue_ha=lowest, pyscf_stable=bool(stable),
                     energy_curvature_ha=None,
                     analysis_s=round(time.perf_counter() - begin, 1))
        checks.append(check)
        log.info("internal stability analysis %d: lowest eigenvalue %s Ha (%s), %d trial "
                 "rotations, %.0f s", len(checks), lowest, "stable" if stable else "unstable",
                 check["trial_rotations"], check["analysis_s"])
        if stable:
            verdict = "no negative eigenvalue"
            break
        if not check["davidson_converged"] and not lowest < UNSTABLE_BELOW:
            verdict = (f"no verdict: the analysis did not converge in "
                       f"{check['trial_rotations']} trial rotations")
            break
        begin = time.perf_counter()
        curvature = energy_curvature(mf, mo_coeff)
        check["energy_curvature_ha"] = round(curvature, 8)
        check["curvature_s"] = round(time.perf_counter() - begin, 1)
        log.info("energy curvature along the reported direction: %.3e Ha (eigenvalue %s Ha)",
                 curvature, lowest)
        if curvature > 0:
            stable = True
            verdict = ("negative eigenvalue not followed: the energy rises along its direction "
                       "(the state is a minimum that way)")
            break
        if followed >= max_follow:
            verdict = f"still unstable after following {followed} instabilities"
            break
        followed += 1
        e_before = float(mf.e_tot)
        mf.kernel(dm0=mf.make_rdm1(mo_coeff, mf.mo_occ))
        if not mf.converged:
            verdict = "the SCF from the rotated orbitals did not converge"
            break
        gained = e_before - float(mf.e_tot)
        if gained < mf.conv_tol:
            # a flat direction (a hole rotating inside a degenerate pair, e.g. the 2-Pi of
            # OH; grid noise gives it an eigenvalue of +-1e-5..1e-4 Ha): no lower state there
            stable = True
            verdict = (f"flat direction: following the negative eigenvalue lowered the energy "
                       f"by {gained:.1e} Ha, less than conv_tol (a degenerate set, not a saddle "
                       "point)")
            break
    return {
        "internal_stable": bool(stable and mf.converged),
        "lowest_eigenvalue_ha": [check["lowest_eigenvalue_ha"] for check in checks],
        "energy_curvature_ha": [check["energy_curvature_ha"] for check in checks],
        "checks": checks,
        "followed": followed,
        "energy_lowering_ha": float(mf.e_tot) - e_start,
        "verdict": verdict,
        "wall_s": round(time.perf_counter() - start, 2),
    }


def _solvent_response(mf):
    """The solvent's response in the Hessian, as PySCF's ``mf.stability()`` has it.

    The energy holds the reaction field of the density, so its second derivative holds the
    field's response (``equilibrium_solvation``; PySCF's analysis functions called directly
    leave it out). A frozen solvent is an external potential and has none.
    """
    from pyscf import lib

    solvent = getattr(mf, "with_solvent", None)
    if solvent is None:
        return nullcontext()
    return lib.temporary_env(solvent, equilibrium_solvation=not getattr(solvent, "frozen", False))


def _unrestricted(mf) -> bool:
    mo_occ = getattr(mf, "mo_occ", None)
    return mo_occ is not None and getattr(mo_occ, "ndim", 1) == 2

"""Notice a DIIS run that has stopped converging, so the ladder can change solver.

DIIS close to a solution usually shrinks the orbital gradient by orders of magnitude in a
few cycles. On some open shells it does not: the [WO4]- radical started from its anion's
density keeps its orbital gradient near 1e-3 from cycle 14 to cycle 67 while the energy
falls by 2e-4 Ha, and the [PW12O40]2- radical crept down by 2e-7 Ha per cycle for 10 cycles
of 2.6 min each. It is a slow descent along a soft direction (the hole settling in its
near-degenerate set), not noise: from the [WO4]- stall point a fresh DIIS, with the
occupations held on the stalled orbitals (:mod:`superatom.engine.fixed_occupation`),
converges in 35-42 cycles, Newton in 6-7 iterations that cost 7-10 DIIS cycles each
(``benchmarks/README.md``); the ladder runs the held-occupation DIIS next, then Newton.
That second DIIS is watched too, but it counts as stalled only when its energy has also
stopped falling (``STALL_ENERGY_GAIN``): on [WO4]- a gradient-only watch would have cut it
in the middle of its descent, while on [PW12O40]2- it settled its energy to 1e-8 Ha and
then held its gradient at 1e-4 (three times the tolerance, a real gradient: a central
finite difference along it gives its square to 0.1 %) for 8 cycles, which Newton is for.
:class:`StallWatch` follows the orbital-gradient norm PySCF reports after every cycle and
raises :class:`DIISStalled` once the best gradient of the last ``window`` cycles is no
better than ``gain`` times the best before them, provided that earlier best is already
below ``near`` (far from a solution DIIS is allowed to wander) and the recent best is still
above ``floor`` (``STALL_FLOOR_FACTOR`` times the gradient tolerance: a DIIS that close to
done finishes sooner than Newton would; [MoO4]- slows to 3.8e-5 against a tolerance of
3.2e-5 and its 18 further DIIS cycles cost less than the 6 Newton iterations that replaced
them).
"""

from __future__ import annotations

from typing import Any

#: Cycles in which DIIS must improve its best orbital gradient by ``STALL_GAIN``.
STALL_WINDOW = 8
#: Factor by which the best orbital-gradient norm must drop over ``STALL_WINDOW`` cycles.
STALL_GAIN = 0.5
#: Orbital-gradient norm (Hartree) below which a lack of progress counts as a stall.
STALL_NEAR = 1e-2
#: A DIIS whose best gradient is within this factor of the gradient tolerance is let finish.
STALL_FLOOR_FACTOR = 3.0
#: The held-occupation DIIS counts as stalled only when, besides its gradient, its lowest
#: energy also fell by less than this (Hartree) over the window: a slow descent goes on.
STALL_ENERGY_GAIN = 1e-6
#: Floor factor of the held-occupation DIIS's watch: after it only Newton is left, and a
#: gradient that stays at 3x the tolerance with a flat energy is not "nearly done".
HELD_FLOOR_FACTOR = 1.5


class DIISStalled(Exception):
    """DIIS stopped improving; carries the orbitals, orbital energies and total energy
    (Hartree) of its cycle with the smallest orbital gradient."""

    def __init__(self, reason: str, mo_coeff: Any, mo_occ: Any, e_tot: float,
                 mo_energy: Any = None):
        super().__init__(reason)
        self.reason = reason
        self.mo_coeff = mo_coeff
        self.mo_occ = mo_occ
        self.e_tot = float(e_tot)
        self.mo_energy = mo_energy


def stall_reason(gradients: list[float], window: int = STALL_WINDOW,
                 gain: float = STALL_GAIN, near: float = STALL_NEAR,
                 floor: float = 0.0, energies: list[float] | None = None,
                 energy_gain: float | None = None) -> str | None:
    """Why a DIIS history of orbital-gradient norms counts as stalled, or None.

    Parameters
    ----------
    gradients : list of float
        Orbital-gradient norm after each cycle of one DIIS run (Hartree).
    window, gain, near
        See the module constants.
    floor : float
        Orbital-gradient norm (Hartree) under which DIIS is never called stalled.
    energies, energy_gain : list of float, float, optional
        Total energy after each cycle (Hartree); with ``energy_gain``, a DIIS whose lowest
        energy in the window is more than ``energy_gain`` below the lowest before it is
        still descending and not stalled.

    Examples
    --------
    >>> stall_reason([1e-2, 1e-3] + [9e-4] * 8)
    'orbital gradient 9.0e-04 after 8 more cycles, best before 1.0e-03'
    >>> stall_reason([1e-2, 1e-3] + [4e-4] * 8) is None
    True
    >>> stall_reason([0.5, 0.2] + [0.1] * 8) is None  # far from a solution
    True
    >>> stall_reason([1e-2, 1e-3] + [9e-4] * 8, floor=1e-3) is None  # nearly done
    True
    >>> falling = [-1.0 - 1e-5 * cycle for cycle in range(10)]
    >>> stall_reason([1e-2, 1e-3] + [9e-4] * 8, energies=falling, energy_gain=1e-6) is None
    True
    >>> stall_reason([1e-2, 1e-3] + [9e-4] * 8, energies=[-1.0] * 10, energy_gain=1e-6)
    'orbital gradient 9.0e-04 after 8 more cycles, best before 1.0e-03, energy down 0.0e+00 Ha'
    """
    if len(gradients) <= window:
        return None
    before = min(gradients[:-window])
    recent = min(gradients[-window:])
    if before >= near or recent < max(gain * before, floor):
        return None
    reason = f"orbital gradient {recent:.1e} after {window} more cycles, best before {before:.1e}"
    if energy_gain is None or energies is None:
        return reason
    descent = min(energies[:-window]) - min(energies[-window:])
    if descent > energy_gain:
        return None
    return f"{reason}, energy down {max(descent, 0.0):.1e} Ha"


class StallWatch:
    """Orbital-gradient history of one DIIS run; :meth:`check` raises on a stall.

    The :class:`DIISStalled` it raises carries the orbitals of the cycle with the smallest
    gradient, not the last cycle's: a stalled DIIS can end on an excursion (the [PW12O40]2-
    radical's last DIIS cycle jumped from 3.4e-4 to 2e-2, 1.8e-4 Ha up).

    Examples
    --------
    >>> import numpy as np
    >>> watch = StallWatch(window=2)
    >>> cycle = {"scf_conv": False, "mo_occ": np.ones(1), "mo_coeff": np.eye(1)}
    >>> watch.check({**cycle, "norm_gorb": 1e-3, "e_tot": -1.0})
    >>> watch.check({**cycle, "norm_gorb": 2e-3, "e_tot": -0.9})
    >>> try:
    ...     watch.check({**cycle, "norm_gorb": 3e-2, "e_tot": -0.5})
    ... except DIISStalled as stalled:
    ...     print(stalled.reason, stalled.e_tot)
    orbital gradient 2.0e-03 after 2 more cycles, best before 1.0e-03 -1.0
    """

    def __init__(self, window: int = STALL_WINDOW, gain: float = STALL_GAIN,
                 near: float = STALL_NEAR, floor: float = 0.0,
                 energy_gain: float | None = None):
        self.window, self.gain, self.near, self.floor = window, gain, near, floor
        self.energy_gain = energy_gain
        self.gradients: list[float] = []
        self.energies: list[float] = []
        self.best: tuple | None = None  # (mo_coeff, mo_occ, e_tot, mo_energy)

    def check(self, envs: dict[str, Any]) -> None:
        """Record one cycle's ``norm_gorb``; raise :class:`DIISStalled` on a stall.

        A cycle that converged, or a solver that reports no gradient, never raises.
        """
        gradient = envs.get("norm_gorb")
        if gradient is None or envs.get("scf_conv"):
            return
        gradient = float(gradient)  # also a CuPy scalar
        if not self.gradients or gradient < min(self.gradients):
            energies = envs.get("mo_energy")
            self.best = (envs["mo_coeff"].copy(), envs["mo_occ"].copy(), float(envs["e_tot"]),
                         None if energies is None else energies.copy())
        self.gradients.append(gradient)
        self.energies.append(float(envs["e_tot"]))
        reason = stall_reason(self.gradients, self.window, self.gain, self.near, self.floor,
                              self.energies, self.energy_gain)
        if reason is not None:
            raise DIISStalled(reason, *self.best)


#: Group of a PySCF checkpoint that says the DIIS of this input stalled (its text: why).
STALLED_KEY = "superatom_diis_stalled"


def mark_stalled(chkfile: str, mol, stall: DIISStalled) -> None:
    """Save the stalled DIIS's best orbitals in ``chkfile`` and mark it as stalled.

    A later run that restarts from this checkpoint skips plain DIIS (it begins with the
    held-occupation DIIS, or Newton off the CPU) instead of spending another
    ``STALL_WINDOW`` DIIS cycles (2.6 min each on a Keggin radical) finding out.
    Arrays on a GPU are brought to the host first.
    """
    from pyscf.scf import chkfile as scf_chkfile

    def host(array):
        return array.get() if hasattr(array, "get") else array

    if stall.mo_energy is not None:
        scf_chkfile.dump_scf(mol, chkfile, stall.e_tot, host(stall.mo_energy),
                             host(stall.mo_coeff), host(stall.mo_occ))
    carry_stall_mark(chkfile, stall.reason)


def carry_stall_mark(chkfile: str, reason: str) -> None:
    """Write the stall mark ``reason`` into ``chkfile`` (created if missing)."""
    from pyscf import lib

    lib.chkfile.save(chkfile, STALLED_KEY, reason)


def stalled_before(chkfile: str | None) -> str | None:
    """Why the DIIS that wrote ``chkfile`` stalled, or None (also for an unreadable file).

    Examples
    --------
    >>> stalled_before(None) is None
    True
    """
    if not chkfile:
        return None
    try:
        import h5py

        with h5py.File(chkfile, "r") as handle:
            if STALLED_KEY not in handle:
                return None
            value = handle[STALLED_KEY][()]
    except (OSError, KeyError):
        return None
    return value.decode() if isinstance(value, bytes) else str(value)

"""Optical gap: lowest TDDFT (Tamm-Dancoff) singlet excitations through the engine.

This re-runs the ground-state SCF and a TDA calculation (``engine.run_tda``); use it on small
systems or with the ``fast`` preset. Energies in eV, wavelengths ``hc / E`` in nm.

Examples
--------
>>> res = optical_gap(water_doc, nstates=3)                 # doctest: +SKIP
>>> res.states[0].energy_ev, res.states[0].wavelength_nm    # doctest: +SKIP
(7.9, 157.0)
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from pymatgen.core import Molecule

from superatom import engine
from superatom.analysis.docdata import settings_of
from superatom.calc_settings import CalcSettings

HC_EV_NM = 1239.841984  # h c in eV nm


class ExcitedState(BaseModel):
    index: int
    energy_ev: float
    wavelength_nm: float
    oscillator_strength: float


class OpticalResult(BaseModel):
    """Lowest TDA excitations and the optical gap (eV)."""

    name: str
    method: str
    states: list[ExcitedState]
    optical_gap_ev: float = Field(description="lowest excitation energy")
    first_bright_ev: float | None = Field(description="lowest state with f >= threshold")
    first_bright_nm: float | None
    bright_threshold: float
    ks_gap_ev: float | None = Field(description="Kohn-Sham HOMO-LUMO gap, for comparison")
    measured_gap_ev: float | None = Field(None, description="experimental optical gap, if given")
    deviation_ev: float | None = Field(
        None, description="first bright (else lowest) excitation - measured gap"
    )
    converged: bool
    wall_s: float


def optical_gap(
    system,
    settings: CalcSettings | None = None,
    nstates: int = 5,
    bright_threshold: float = 0.01,
    measured_gap_ev: float | None = None,
) -> OpticalResult:
    """TDA excitations of a stored result (its molecule and settings) or of a Molecule.

    Parameters
    ----------
    system : FrontierOrbitalDoc or pymatgen.core.Molecule
        A stored result (geometry and settings are reused) or a geometry.
    settings : CalcSettings, optional
        Required for a Molecule; overrides the document's settings otherwise.
    nstates : int
        Number of excited states.
    bright_threshold : float
        Smallest oscillator strength counted as a bright state.
    measured_gap_ev : float, optional
        Measured optical gap (e.g. absorption onset) in eV to compare with.

    Returns
    -------
    OpticalResult
    """
    if isinstance(system, Molecule):
        if settings is None:
            raise ValueError("give settings with a Molecule")
        molecule, name, ks_gap = system, system.composition.reduced_formula, None
    else:
        molecule = Molecule.from_dict(system.molecule)
        settings = settings or settings_of(system)
        name, ks_gap = system.name or system.reduced_formula, system.gap_ev
    raw = engine.run_tda(molecule, settings, nstates=nstates)
    states = [
        ExcitedState(index=k + 1, energy_ev=float(e), wavelength_nm=HC_EV_NM / float(e),
                     oscillator_strength=float(f))
        for k, (e, f) in enumerate(zip(raw["energies_ev"], raw["oscillator_strengths"],
                                       strict=True))
    ]
    bright = next((s for s in states if s.oscillator_strength >= bright_threshold), None)
    reference = bright.energy_ev if bright else min(s.energy_ev for s in states)
    return OpticalResult(
        name=name,
        method=f"TDA-{settings.xc}/{settings.basis}",
        states=states,
        optical_gap_ev=min(s.energy_ev for s in states),
        first_bright_ev=bright.energy_ev if bright else None,
        first_bright_nm=bright.wavelength_nm if bright else None,
        bright_threshold=bright_threshold,
        ks_gap_ev=ks_gap,
        measured_gap_ev=measured_gap_ev,
        deviation_ev=None if measured_gap_ev is None else reference - measured_gap_ev,
        converged=bool(raw["converged"]),
        wall_s=float(raw["wall_s"]),
    )

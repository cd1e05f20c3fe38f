"""Optical gap from stored TDA excitations (:class:`~superatom.schemas.tda.TdaDoc`).

Pure: the excitations are computed and stored by :class:`superatom.workflows.tda.TdaMaker`;
this module only reads them. Energies in eV, wavelengths ``hc / E`` in nm.

Examples
--------
>>> from superatom.schemas.tda import Excitation
>>> states = optical_states([Excitation(energy_ev=4.0, oscillator_strength=0.0),
...                          Excitation(energy_ev=5.0, oscillator_strength=0.2)])
>>> first_bright(states, 0.01).index, round(states[0].wavelength_nm, 1)
(2, 310.0)
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from superatom.schemas.tda import Excitation, TdaDoc

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
    note: str | None = Field(None, description="what to do when no state is bright")


def optical_states(excitations: list[Excitation]) -> list[ExcitedState]:
    """Excitations numbered from 1 by energy, with their wavelengths (nm)."""
    ordered = sorted(excitations, key=lambda x: x.energy_ev)
    return [ExcitedState(index=k + 1, energy_ev=x.energy_ev,
                         wavelength_nm=HC_EV_NM / x.energy_ev,
                         oscillator_strength=x.oscillator_strength)
            for k, x in enumerate(ordered)]


def first_bright(states: list[ExcitedState], threshold: float) -> ExcitedState | None:
    """Lowest state with oscillator strength >= ``threshold`` (None if all are dark)."""
    return next((s for s in states if s.oscillator_strength >= threshold), None)


def optical_gap(doc: TdaDoc, bright_threshold: float = 0.01,
                measured_gap_ev: float | None = None) -> OpticalResult:
    """Optical gap, first bright state and deviation from a measured gap of a stored TDA doc.

    Parameters
    ----------
    doc : TdaDoc
        Stored TDA excitations.
    bright_threshold : float
        Smallest oscillator strength counted as a bright state.
    measured_gap_ev : float, optional
        Measured optical gap (e.g. absorption onset) in eV to compare with.
    """
    states = optical_states(doc.excitations)
    bright = first_bright(states, bright_threshold)
    reference = bright.energy_ev if bright else states[0].energy_ev
    return OpticalResult(
        name=doc.name or doc.formula_pretty,
        method=doc.method,
        states=states,
        optical_gap_ev=states[0].energy_ev,
        first_bright_ev=bright.energy_ev if bright else None,
        first_bright_nm=bright.wavelength_nm if bright else None,
        bright_threshold=bright_threshold,
        ks_gap_ev=doc.ks_gap_ev,
        measured_gap_ev=measured_gap_ev,
        deviation_ev=None if measured_gap_ev is None else reference - measured_gap_ev,
        converged=doc.converged,
        wall_s=doc.timings.get("total_s", 0.0),
        note=None if bright else no_bright_note(states, bright_threshold),
    )


def no_bright_note(states: list[ExcitedState], threshold: float) -> str:
    """The line saying that every computed state is dark, and how to get more states.

    Examples
    --------
    >>> dark = optical_states([Excitation(energy_ev=5.5, oscillator_strength=0.0)])
    >>> no_bright_note(dark, 0.01)[:62]
    'no bright state (f >= 0.01) among the 1 state computed (up to '
    """
    top = max(s.energy_ev for s in states)
    more = max(10, 3 * len(states))
    plural = "state" if len(states) == 1 else "states"
    return (f"no bright state (f >= {threshold:g}) among the {len(states)} {plural} computed "
            f"(up to {top:.3f} eV): the optical gap above is the lowest, dark excitation; "
            f"compute more states (nstates {more}, e.g. --nstates {more}) to find the first "
            "bright one")

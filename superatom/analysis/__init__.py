"""Superatom orbital-interaction analysis on stored results (plain functions, pydantic results).

``composition`` (Mulliken/Lowdin/SCPA, participation ratio), ``correlation`` (monomer vs
assembly orbitals), ``fragment_orbitals`` (couplings J, J_eff), ``interaction`` (all of these
for one assembly), ``dos`` (DOS/PDOS/OPDOS, d-band centre), ``angular`` (S/P/D... character),
``chain`` (tight-binding scaling), ``optical`` (TDA gap), ``plots`` and ``export``.

Examples
--------
>>> from superatom.analysis.chain import chain_scaling
>>> fit = chain_scaling([1, 2, 3], [-6.0, -5.5, -5.3], [-2.0, -2.4, -2.6])
>>> fit.gap_infinite_ev < 3.3
True
"""

from __future__ import annotations

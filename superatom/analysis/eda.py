"""NOCV pairs of an energy decomposition as stored records: ETS energy, charge flow between
fragments and the fragment/element make-up of both orbitals of each pair.

Weights are Lowdin (the NOCVs are orthonormal in the Lowdin basis, so the weights of one
orbital are positive and sum to 1). The charge a pair moves onto fragment f is
``nu (w_f(psi_k) - w_f(psi_-k))`` electrons; a fragment gives charge when it is negative. The
same flow per element tells what a channel does when it moves no net charge between
fragments (a symmetric channel of a homodimer: O -> Mo).

Examples
--------
>>> import numpy as np
>>> flow = {"NH3": -0.4, "BH3": 0.38}
>>> donors_acceptors(flow)
(['NH3'], ['BH3'])
"""

from __future__ import annotations

import numpy as np

from superatom.analysis.composition import group_index, grouped_weights
from superatom.engine.eda import EDAResult, NOCVChannel
from superatom.schemas.eda import EDATerms, NOCVPair

#: A fragment counts as giving/receiving charge in a pair when it moves at least this share
#: of the largest per-fragment flow of the pair.
FLOW_SHARE = 0.2


def donors_acceptors(flow: dict[str, float]) -> tuple[list[str], list[str]]:
    """Fragments that lose and gain charge (largest first), above ``FLOW_SHARE`` of the top."""
    top = max((abs(v) for v in flow.values()), default=0.0)
    if top < 1e-6:
        return [], []
    ranked = sorted(flow, key=lambda name: -abs(flow[name]))
    givers = [n for n in ranked if flow[n] < 0 and -flow[n] >= FLOW_SHARE * top]
    takers = [n for n in ranked if flow[n] > 0 and flow[n] >= FLOW_SHARE * top]
    return givers, takers


def _weights(column: np.ndarray, ao_group: np.ndarray, names: list[str]) -> dict[str, float]:
    grouped = grouped_weights((column**2)[:, None], ao_group, len(names))[:, 0]
    return {n: float(w) for n, w in zip(names, grouped, strict=True)}


def channel_pairs(channel: NOCVChannel, ao_atom: np.ndarray, fragment_labels: list[str],
                  elements: list[str], nu_min: float | None = None) -> list[NOCVPair]:
    """Records of the NOCV pairs of one spin channel (largest nu first)."""
    frag_names, frag_index = group_index(fragment_labels)
    el_names, el_index = group_index(elements)
    frag_ao, el_ao = frag_index[ao_atom], el_index[ao_atom]
    pairs = channel.pairs() if nu_min is None else channel.pairs(nu_min)
    out = []
    for k, pair in enumerate(pairs, start=1):
        plus = channel.lowdin_vectors[:, pair["plus"]]
        minus = channel.lowdin_vectors[:, pair["minus"]]
        w_plus, w_minus = _weights(plus, frag_ao, frag_names), _weights(minus, frag_ao,
                                                                       frag_names)
        flow = {n: pair["nu"] * (w_plus[n] - w_minus[n]) for n in frag_names}
        givers, takers = donors_acceptors(flow)
        e_plus, e_minus = _weights(plus, el_ao, el_names), _weights(minus, el_ao, el_names)
        el_flow = {n: pair["nu"] * (e_plus[n] - e_minus[n]) for n in el_names}
        el_givers, el_takers = donors_acceptors(el_flow)
        out.append(NOCVPair(
            k=k, spin=channel.spin, nu=pair["nu"], e_ha=pair["energy"],
            pairing_error=pair["pairing_error"], charge_flow=flow, from_fragments=givers,
            to_fragments=takers, element_flow=el_flow, from_elements=el_givers,
            to_elements=el_takers, fragment_weights_plus=w_plus,
            fragment_weights_minus=w_minus, element_weights_plus=e_plus,
            element_weights_minus=e_minus))
    return out


def eda_pairs(result: EDAResult, fragment_labels: list[str], elements: list[str]
              ) -> list[NOCVPair]:
    """NOCV pair records of every spin channel of ``result``."""
    return [pair for channel in result.channels
            for pair in channel_pairs(channel, result.ao_atom, fragment_labels, elements)]


def eda_terms(result: EDAResult) -> EDATerms:
    """The decomposition of ``result`` as a stored record (Hartree)."""
    return EDATerms(e_int_ha=result.e_int, e_elstat_ha=result.e_elstat,
                    e_pauli_ha=result.e_pauli, e_orb_ha=result.e_orb, e_disp_ha=result.e_disp,
                    e_solv_ha=result.e_solv, e_frozen_ha=result.e_frozen,
                    e_orb_ets_ha=result.e_orb_ets)


def pair_density_matrix(channel: NOCVChannel, pair: dict) -> np.ndarray:
    """AO density matrix of a pair's deformation density ``nu (|psi_k|^2 - |psi_-k|^2)``.

    Examples
    --------
    >>> ch = NOCVChannel("restricted", np.array([-0.5, 0.5]), np.eye(2), np.eye(2),
    ...                  np.zeros(2))
    >>> pair_density_matrix(ch, ch.pairs()[0]).tolist()
    [[-0.5, 0.0], [0.0, 0.5]]
    """
    plus = channel.vectors[:, pair["plus"]]
    minus = channel.vectors[:, pair["minus"]]
    return pair["nu"] * (np.outer(plus, plus) - np.outer(minus, minus))

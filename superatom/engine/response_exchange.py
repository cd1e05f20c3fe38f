"""Density-fitted exchange of occupied-virtual transition densities on the orbital route.

An orbital-rotation Hessian (PySCF's stability analysis) asks for ``J`` and ``K`` of a
transition density ``D = Cv X Co^T + Co X^T Cv^T``. PySCF's density-fitted ``get_jk`` sees
a plain matrix and takes its general route: every auxiliary function's ``nao x nao`` block
is multiplied by ``D`` (``4 naux nao^3`` flops). Such a density has rank ``2 nocc``:

    D = (B+ B+^T - B- B-^T) / 2,   B+- = A +- Co,   A = D S Co = Cv X

(``Co^T S Co = 1``, ``Cv^T S Co = 0``), so its exchange is that of two occupied-orbital-like
densities, which PySCF's own orbital route handles (``8 naux nao^2 nocc`` flops, one pass
over the fitted tensor): about ``nao / (2 nocc)`` times fewer flops (1.9 on the
[Ln(H2O)4PW11O39]4- unit: 1044 AOs, 268 occupied). :func:`orbital_route_exchange`
installs this for the duration of an analysis, :func:`newton_on_orbital_route` for each key
frame of a second-order (Newton) SCF; any other density (a general one, an
unsymmetric one, a range-separated exchange) goes to PySCF unchanged. The numbers are
PySCF's up to round-off (``tests/test_engine_stability.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from pyscf import lib

#: A density is an occupied-virtual transition density when rebuilding it from ``A = D S Co``
#: leaves at most this fraction of its largest element.
FORM_TOLERANCE = 1e-9


class TransitionExchange:
    """``mf.get_jk`` that takes the orbital route for occupied-virtual transition densities.

    Parameters
    ----------
    mf : pyscf SCF object with density fitting, converged
        Its occupied orbitals (per spin) define the transition densities recognised.
    mo_coeff, mo_occ : numpy.ndarray, optional
        Orbitals to use instead of ``mf``'s (a Newton step's current ones).
    get_jk : callable, optional
        The ``get_jk`` to call (default ``mf.get_jk``).
    overlap : numpy.ndarray, optional
        AO overlap matrix, if the caller has it.

    Examples
    --------
    >>> import numpy as np
    >>> from pyscf import gto, scf
    >>> mf = scf.RHF(gto.M(atom="O 0 0 0; H 0 0 0.96; H 0.93 0 -0.24", basis="6-31g",
    ...                    verbose=0)).density_fit().run()
    >>> occ, vir = mf.mo_coeff[:, :5], mf.mo_coeff[:, 5:]
    >>> x = np.random.default_rng(0).normal(size=(vir.shape[1], 5))
    >>> dm = vir @ x @ occ.T
    >>> dm = dm + dm.T
    >>> exchange = TransitionExchange(mf)
    >>> vj, vk = exchange(mf.mol, dm)
    >>> ref_j, ref_k = mf.get_jk(mf.mol, dm)
    >>> bool(np.allclose(vk, ref_k, atol=1e-10) and np.allclose(vj, ref_j, atol=1e-10))
    True
    >>> exchange.transition_calls, exchange.passed_on
    (1, 0)
    """

    def __init__(self, mf, mo_coeff=None, mo_occ=None, get_jk=None, overlap=None):
        self.get_jk = get_jk if get_jk is not None else mf.get_jk
        self.overlap = np.asarray(overlap if overlap is not None else mf.get_ovlp())
        mo_coeff = np.asarray(mf.mo_coeff if mo_coeff is None else mo_coeff)
        mo_occ = np.asarray(mf.mo_occ if mo_occ is None else mo_occ)
        if mo_occ.ndim == 1:
            self.occupied = [mo_coeff[:, mo_occ > 0]]
        else:
            self.occupied = [mo_coeff[s][:, mo_occ[s] > 0] for s in range(2)]
        self.transition_calls = 0
        self.passed_on = 0

    def __call__(self, mol=None, dm=None, hermi=1, with_j=True, with_k=True, omega=None):
        factors = None
        if hermi == 1 and with_k and omega is None and getattr(dm, "mo_coeff", None) is None:
            factors = self._factors(np.asarray(dm))
        if factors is None:
            self.passed_on += 1
            return self.get_jk(mol, dm, hermi, with_j=with_j, with_k=with_k, omega=omega)
        self.transition_calls += 1
        return self._orbital_route(mol, np.asarray(dm), factors, with_j)

    def _factors(self, dm: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]] | None:
        """``(B+, B-)`` for each density of ``dm``, or None if one is not of the form."""
        nao = self.overlap.shape[0]
        if dm.ndim not in (2, 3) or dm.shape[-2:] != (nao, nao):
            return None
        sets = dm.reshape(-1, nao, nao)
        if len(self.occupied) == 2 and sets.shape[0] != 2:  # UKS: exactly alpha, beta
            return None
        factors = []
        for k, density in enumerate(sets):
            occupied = self.occupied[k % len(self.occupied)]
            if occupied.shape[1] == 0:
                return None
            a = density @ self.overlap @ occupied
            rebuilt = a @ occupied.T
            rebuilt += rebuilt.T
            scale = max(float(np.max(np.abs(density))), 1e-300)
            if float(np.max(np.abs(rebuilt - density))) > FORM_TOLERANCE * scale:
                return None
            factors.append((a + occupied, a - occupied))
        return factors

    def _orbital_route(self, mol, dm: np.ndarray, factors, with_j: bool):
        nao = self.overlap.shape[0]
        width = max(plus.shape[1] for plus, _ in factors)
        count = 2 * len(factors)
        orbitals = np.zeros((count, nao, width))
        occupations = np.zeros((count, width))
        densities = np.empty((count, nao, nao))
        for k, pair in enumerate(factors):
            for sign, b in enumerate(pair):
                n = b.shape[1]
                orbitals[2 * k + sign, :, :n] = b
                occupations[2 * k + sign, :n] = 1.0
                densities[2 * k + sign] = b @ b.T
        tagged = lib.tag_array(densities, mo_coeff=orbitals, mo_occ=occupations)
        vj, vk = self.get_jk(mol, tagged, 1, with_j=with_j, with_k=True)
        vk = (vk[0::2] - vk[1::2]) / 2.0
        if with_j:
            vj = (np.asarray(vj)[0::2] - np.asarray(vj)[1::2]) / 2.0
            vj = vj.reshape(dm.shape)
        return vj, vk.reshape(dm.shape)


@contextmanager
def orbital_route_exchange(mf) -> Iterator[TransitionExchange | None]:
    """Within the block, ``mf.get_jk`` is a :class:`TransitionExchange` (DF objects only).

    Yields the installed object (``transition_calls``: densities it took; ``passed_on``:
    calls left to PySCF), or None where ``mf`` has no density fitting and nothing changes.

    Examples
    --------
    >>> from pyscf import gto, scf
    >>> mf = scf.RHF(gto.M(atom="H 0 0 0; F 0 0 0.92", basis="sto-3g", verbose=0))
    >>> mf = mf.density_fit().run()
    >>> with orbital_route_exchange(mf) as exchange:
    ...     type(exchange).__name__
    'TransitionExchange'
    >>> "get_jk" in vars(mf)
    False
    """
    if getattr(mf, "with_df", None) is None:
        yield None
        return
    previous = vars(mf).get("get_jk")
    exchange = TransitionExchange(mf)
    mf.get_jk = exchange
    try:
        yield exchange
    finally:
        if previous is None:
            del mf.get_jk
        else:
            mf.get_jk = previous


def newton_on_orbital_route(mf):
    """``mf.newton()`` whose orbital-Hessian products take the orbital route (DF objects).

    PySCF's second-order solver builds a new orbital-Hessian product at every key frame, for
    that frame's orbitals; each product's exchange is that of a transition density of those
    orbitals. Each key frame here installs a :class:`TransitionExchange` for its orbitals on
    the solver, so the products go by the orbital route; SCF densities (tagged with their
    orbitals) and anything else still go to PySCF. The exchanges used are listed in the
    solver's ``orbital_route`` attribute. Without density fitting this is ``mf.newton()``.

    Examples
    --------
    >>> from pyscf import gto, scf
    >>> mol = gto.M(atom="O 0 0 0; O 0 0 1.21", basis="6-31g", spin=2, verbose=0)
    >>> mf = scf.UHF(mol).density_fit()
    >>> solver = newton_on_orbital_route(mf)
    >>> energy = solver.kernel()
    >>> reference = scf.UHF(mol).density_fit().newton().run()
    >>> bool(abs(energy - reference.e_tot) < 1e-9)
    True
    >>> sum(exchange.transition_calls for exchange in solver.orbital_route) > 0
    True
    """
    solver = mf.newton()
    solver.orbital_route = []
    if getattr(mf, "with_df", None) is None:
        return solver
    general_jk = solver.get_jk
    overlap = np.asarray(mf.get_ovlp())
    generate = solver.gen_g_hop

    def gen_g_hop(mo_coeff, mo_occ, *args, **kwargs):
        exchange = TransitionExchange(solver, mo_coeff, mo_occ, general_jk, overlap)
        solver.get_jk = exchange
        solver.orbital_route.append(exchange)
        return generate(mo_coeff, mo_occ, *args, **kwargs)

    solver.gen_g_hop = gen_g_hop
    return solver

"""C-PCM on the CPU with the surface-charge integrals computed once per geometry.

PySCF's ``pyscf.solvent.pcm.PCM`` builds the AO-pair x surface-point ``int3c2e`` tensor twice
in every SCF cycle (once for the surface potential, once for the solvent Fock matrix), without
pair symmetry, and solves the dense K system twice per cycle. :class:`CachedPCM` keeps PySCF's
surface, radii, switching function and K/R matrices (so the model is PySCF's own), but

* computes the tensor with pair symmetry (``aosym='s2ij'``, half the work and memory),
* keeps as many surface points' columns in memory as ``cache_mb`` allows, computed once per
  geometry and reused by the potential and the Fock matrix of every cycle; with a ``spill_dir``
  the columns that do not fit are computed once too and written to an unnamed scratch file
  there, read back in blocks in each pass (14-17x faster per cycle than recomputing them,
  measured on 2 cores in ``benchmarks/pcm_spill.py``); without one, or when the folder lacks
  the space, they are recomputed in blocks in each pass (still exact),
* factorises K once per geometry (Cholesky for C-PCM/COSMO, where K is the symmetric positive
  definite Coulomb matrix of the Gaussian surface charges; LU otherwise).

The numbers equal stock PySCF's PCM to rounding (tested to 1e-8 Ha and 1e-4 eV in every
orbital level); only the time changes. The GPU path keeps GPU4PySCF's PCM.

Examples
--------
>>> from pyscf import gto, dft
>>> mol = gto.M(atom="O 0 0 0; H 0 0 0.97", charge=-1, basis="sto-3g", verbose=0)
>>> mf = attach_cached_pcm(dft.RKS(mol, xc="pbe"), eps=78.3553, cache_mb=100)
>>> mf.grids.level = 1
>>> bool(mf.kernel() < 0), mf.with_solvent.route()["cached_points"] > 0
(True, True)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any, ClassVar

import numpy as np
import scipy.linalg
from pyscf import df, gto, lib
from pyscf.data import radii
from pyscf.dft import gen_grid
from pyscf.solvent import pcm

BYTES_PER_DOUBLE = 8
#: The smallest block of surface points recomputed at once when the cache is full.
MIN_BLOCK_POINTS = 64
#: Largest block (bytes) of integral columns written to or read from the scratch file at once.
DISK_BLOCK_BYTES = 512e6
#: Free space (bytes) a scratch folder keeps beyond the scratch file (and a DF file beside it).
DISK_MARGIN_BYTES = 2e9
#: Linux moves at most this many bytes in one read/write call.
_MAX_IO_BYTES = 0x7FFFF000


def pair_count(nao: int) -> int:
    """Number of packed AO pairs (i >= j).

    Examples
    --------
    >>> pair_count(204)
    20910
    """
    return nao * (nao + 1) // 2


def pcm_cache_bytes(nao: int, n_points: int) -> float:
    """Bytes of the whole pair-packed surface-charge tensor, ``nao(nao+1)/2 x points x 8``.

    Examples
    --------
    >>> round(pcm_cache_bytes(204, 3245) / 1e9, 2)  # the [La(H2O)4(OH)4]- cut
    0.54
    """
    return float(pair_count(nao) * n_points * BYTES_PER_DOUBLE)


def _symmetric_packed(dms: np.ndarray) -> np.ndarray:
    """Pack ``(D + D^T)`` so that ``packed @ X[ij, k] = sum_ij D_ij (ij|k)``."""
    sym = dms + dms.transpose(0, 2, 1)
    packed = lib.pack_tril(sym)
    nao = dms.shape[-1]
    diagonal = np.arange(nao) * (np.arange(nao) + 3) // 2  # i(i+1)/2 + i
    packed[:, diagonal] *= 0.5
    return packed


class CachedPCM(pcm.PCM):
    """PySCF's PCM with the surface-charge integrals cached and K factorised once.

    Parameters
    ----------
    mol : pyscf.gto.Mole
        The molecule (its ``max_memory`` is not used: ``cache_mb`` decides).
    cache_mb : float
        Memory (MB) the cached integral columns may take; 0 recomputes every block in every
        pass (still pair-packed and exact).
    potential : str
        ``'exact'`` (default), or ``'density-fitted'``: the surface potential of the SCF's
        fitted density and the matching Fock term from the same DF tensor, an approximation
        (moves E by ~1e-4 Ha on small anions) that needs no AO-pair x point integrals.
    with_df : pyscf.df.DF, optional
        The SCF's DF object (needed for ``potential='density-fitted'``).
    spill_dir : str, optional
        Folder for the columns that do not fit in ``cache_mb``: computed once and kept in an
        unnamed scratch file there (gone when the SCF object is or the process ends). None
        (default) recomputes them in every pass. ``disk_reserve_mb`` of the folder's free
        space is left for others (the DF tensor's file when it goes to the same folder).
    """

    _keys: ClassVar[set[str]] = {"cache_mb", "potential", "with_df", "spill_dir",
                                 "disk_reserve_mb"}

    def __init__(self, mol, cache_mb: float = 0.0, potential: str = "exact", with_df=None,
                 spill_dir: str | None = None, disk_reserve_mb: float = 0.0):
        super().__init__(mol)
        if potential not in ("exact", "density-fitted"):
            raise ValueError(f"unknown PCM potential {potential!r}")
        if potential == "density-fitted" and with_df is None:
            raise ValueError("the density-fitted PCM potential needs the SCF's DF object")
        self.cache_mb = float(cache_mb)
        self.potential = potential
        self.with_df = with_df
        self.spill_dir = spill_dir
        self.disk_reserve_mb = float(disk_reserve_mb)
        self._cache: np.ndarray | None = None
        self._disk: _ScratchColumns | None = None
        self._fitted: np.ndarray | None = None
        self._factor: tuple[str, Any] | None = None
        self._timing = {"integrals_s": 0.0, "disk_read_s": 0.0, "passes": 0,
                        "points_computed": 0}

    def reset(self, mol=None):
        self._cache = None
        self._drop_disk()
        self._fitted = None
        self._factor = None
        return super().reset(mol)

    # ------------------------------------------------------------------ geometry
    def build(self, ng=None):
        if self.method.upper() in ("C-PCM", "CPCM", "COSMO"):
            self._build_conductor(ng)
            K = self._intermediates["K"]
            self._factor = ("cholesky", scipy.linalg.cho_factor(K, lower=True))
        else:
            super().build(ng)
            self._factor = ("lu", scipy.linalg.lu_factor(self._intermediates["K"]))
        self._cache = None
        self._drop_disk()
        self._fitted = None
        self.fill_cache()

    def _drop_disk(self) -> None:
        if self._disk is not None:
            self._disk.close()
        self._disk = None

    def _build_conductor(self, ng=None) -> None:
        """PySCF's surface and K = S, R = -f(eps) for C-PCM/COSMO, without the D matrix.

        ``pyscf.solvent.pcm.PCM.build`` also forms D (points x points, and a points x points
        x 3 temporary), which only IEF-PCM and SS(V)PE use: ~1.8 GB at 6800 points.
        """
        radii_table = self.radii_table
        if radii_table is None:
            radii_table = self.vdw_scale * pcm.modified_Bondi + self.r_probe / radii.BOHR
        ng = gen_grid.LEBEDEV_ORDER[self.lebedev_order] if ng is None else ng
        self.surface = pcm.gen_surface(self.mol, rad=radii_table, ng=ng,
                                       surface_discretization_method=(
                                           self.surface_discretization_method))
        _, area = pcm.get_F_A(self.surface)
        _, S = pcm.get_D_S(self.surface, with_S=True, with_D=False)
        eps = self.eps
        if self.method.upper() == "COSMO":
            f_epsilon = (eps - 1.0) / (eps + 0.5) if eps != float("inf") else 1.0
        else:
            f_epsilon = (eps - 1.0) / eps if eps != float("inf") else 1.0
        self._intermediates = {"S": S, "D": None, "A": area, "K": S,
                               "R": -f_epsilon * np.eye(S.shape[0]), "f_epsilon": f_epsilon}
        fakemol = gto.fakemol_for_charges(self.surface["grid_coords"],
                                          expnt=self.surface["charge_exp"] ** 2)
        nuclei = gto.fakemol_for_charges(self.mol.atom_coords(unit="B"))
        v_ng = gto.mole.intor_cross(self.mol._add_suffix("int2c2e"), nuclei, fakemol)
        self.v_grids_n = np.dot(self.mol.atom_charges(), v_ng)

    def fill_cache(self) -> None:
        """Compute the columns of as many surface points as ``cache_mb`` holds (once), and
        with a ``spill_dir`` that has the space, write the rest to a scratch file (once)."""
        if self.potential != "exact" or self.surface is None or not self.surface:
            return
        n_points = len(self.surface["charge_exp"])
        per_point = pair_count(self.mol.nao) * BYTES_PER_DOUBLE
        n_cached = min(n_points, int(self.cache_mb * 1e6 // per_point))
        have = 0 if self._cache is None else self._cache.shape[1]
        if n_cached > have:
            self._cache = self._integrals(0, n_cached)
        n_cached = 0 if self._cache is None else self._cache.shape[1]
        if self._disk is None and n_cached < n_points and self._disk_fits(n_points - n_cached):
            self._disk = _ScratchColumns(self.spill_dir, pair_count(self.mol.nao), n_cached)
            step = max(1, int(DISK_BLOCK_BYTES // per_point))
            for p0 in range(n_cached, n_points, step):
                p1 = min(n_points, p0 + step)
                self._disk.append(self._integrals(p0, p1))

    def _disk_fits(self, n_points: int) -> bool:
        """Whether ``spill_dir`` can take ``n_points`` columns and keep its reserve and margin."""
        if not self.spill_dir:
            return False
        try:
            free = shutil.disk_usage(self.spill_dir).free
        except OSError:
            return False
        need = pcm_cache_bytes(self.mol.nao, n_points)
        return free >= need + self.disk_reserve_mb * 1e6 + DISK_MARGIN_BYTES

    def _integrals(self, p0: int, p1: int) -> np.ndarray:
        """Pair-packed ``(ij|k)`` for surface points ``p0:p1``, shape (npair, p1 - p0)."""
        start = time.perf_counter()
        mol = self.mol
        int3c2e = mol._add_suffix("int3c2e")
        fakemol = gto.fakemol_for_charges(self.surface["grid_coords"][p0:p1],
                                          expnt=self.surface["charge_exp"][p0:p1] ** 2)
        fakemol.cart = mol.cart
        block = df.incore.aux_e2(mol, fakemol, intor=int3c2e, aosym="s2ij")
        self._timing["integrals_s"] += time.perf_counter() - start
        self._timing["points_computed"] += p1 - p0
        return block.reshape(pair_count(mol.nao), p1 - p0)

    def _blocks(self):
        """Yield ``(p0, p1, columns)`` over all surface points: cached first, then read from
        the scratch file, then recomputed."""
        n_points = len(self.surface["charge_exp"])
        n_cached = 0 if self._cache is None else self._cache.shape[1]
        if n_cached:
            yield 0, n_cached, self._cache
        if self._disk is not None:
            start = time.perf_counter()
            for p0, p1, block in self._disk.blocks(int(DISK_BLOCK_BYTES)):
                self._timing["disk_read_s"] += time.perf_counter() - start
                yield p0, p1, block
                start = time.perf_counter()
            n_cached = self._disk.stop
        free_mb = max(self.max_memory - lib.current_memory()[0], 0.0)
        per_point = pair_count(self.mol.nao) * BYTES_PER_DOUBLE
        size = max(MIN_BLOCK_POINTS, int(0.5 * free_mb * 1e6 // per_point))
        for p0 in range(n_cached, n_points, size):
            p1 = min(n_points, p0 + size)
            yield p0, p1, self._integrals(p0, p1)

    def route(self) -> dict[str, Any]:
        """How the integrals are handled: points cached in memory, on disk and in all, their
        sizes, the time spent computing and reading them, and how many points' columns were
        computed (the surface's count once per geometry where nothing is recomputed)."""
        n_points = len(self.surface["charge_exp"]) if self.surface else 0
        n_cached = 0 if self._cache is None else int(self._cache.shape[1])
        n_disk = 0 if self._disk is None else self._disk.stop - self._disk.start
        if self.potential == "density-fitted":
            route = "density-fitted"
        elif n_cached == n_points:
            route = "cached"
        elif n_cached + n_disk == n_points:
            route = "cached in memory and on disk" if n_cached else "cached on disk"
        else:
            route = "partly cached" if n_cached or n_disk else "recomputed per pass"
        return {
            "implementation": "superatom cached C-PCM",
            "potential": self.potential,
            "surface_points": n_points,
            "cached_points": n_cached,
            "cache_gb": round(0.0 if self._cache is None else self._cache.nbytes / 1e9, 3),
            "disk_points": n_disk,
            "disk_gb": round(pcm_cache_bytes(self.mol.nao, n_disk) / 1e9, 3),
            "integral_route": route,
            "integrals_s": round(self._timing["integrals_s"], 3),
            "disk_read_s": round(self._timing["disk_read_s"], 3),
            "passes": self._timing["passes"],
            # surface points whose columns were computed, summed over every build and pass
            "points_computed": self._timing["points_computed"],
        }

    # ------------------------------------------------------------------ fitted potential
    def _fitted_map(self) -> np.ndarray:
        """``T (P|k)``: surface potential of the orthonormalised fitting functions.

        PySCF's DF tensor is ``L = T (P|ij)`` with ``T^T T = J^-1`` (``T = low^-1`` for the
        Cholesky factor of J, or the eigen-decomposition when J is near singular, as PySCF
        chooses), so the fitted density's coefficients are ``T^T (L . D)`` and its potential
        at point k is ``sum_Q M_Qk (L . D)_Q`` with ``M = T (P|k)``.
        """
        if self._fitted is None:
            from pyscf.df.incore import _eig_decompose

            start = time.perf_counter()
            if self.with_df._cderi is None:
                self.with_df.build()
            auxmol = self.with_df.auxmol
            fakemol = gto.fakemol_for_charges(self.surface["grid_coords"],
                                              expnt=self.surface["charge_exp"] ** 2)
            cross = gto.mole.intor_cross("int2c2e", auxmol, fakemol)  # (naux, points)
            j2c = auxmol.intor("int2c2e", hermi=1)
            try:
                low = scipy.linalg.cholesky(j2c, lower=True)
                self._fitted = scipy.linalg.solve_triangular(low, cross, lower=True)
            except scipy.linalg.LinAlgError:
                self._fitted = _eig_decompose(self.mol, j2c) @ cross
            self._timing["integrals_s"] += time.perf_counter() - start
        return self._fitted

    def _fitted_v(self, packed: np.ndarray) -> np.ndarray:
        fitted = self._fitted_map()
        coeffs = np.zeros((packed.shape[0], fitted.shape[0]))
        q0 = 0
        for cderi in self.with_df.loop():
            coeffs[:, q0:q0 + cderi.shape[0]] = packed @ cderi.T
            q0 += cderi.shape[0]
        return coeffs @ fitted

    def _fitted_vmat(self, q: np.ndarray) -> np.ndarray:
        weights = q @ self._fitted_map().T  # (nset, naux)
        packed = np.zeros((q.shape[0], pair_count(self.mol.nao)))
        q0 = 0
        for cderi in self.with_df.loop():
            packed += weights[:, q0:q0 + cderi.shape[0]] @ cderi
            q0 += cderi.shape[0]
        return packed

    # ------------------------------------------------------------------ per cycle
    def _get_v(self, dms):
        """Electronic potential on the surface, one row per density matrix."""
        dms = np.asarray(dms).reshape(-1, self.mol.nao, self.mol.nao)
        packed = _symmetric_packed(dms)
        self._timing["passes"] += 1
        if self.potential == "density-fitted":
            return self._fitted_v(packed)
        v = np.empty((dms.shape[0], len(self.surface["charge_exp"])))
        for p0, p1, block in self._blocks():
            v[:, p0:p1] = packed @ block
        return v

    def _get_vmat(self, q):
        """Solvent Fock contribution ``-sum_k q_k (ij|k)`` for each row of ``q``."""
        nao = self.mol.nao
        q = np.asarray(q).reshape(-1, len(self.surface["charge_exp"]))
        self._timing["passes"] += 1
        if self.potential == "density-fitted":
            return -lib.unpack_tril(self._fitted_vmat(q))
        packed = np.zeros((q.shape[0], pair_count(nao)))
        for p0, p1, block in self._blocks():
            packed += q[:, p0:p1] @ block.T
        return -lib.unpack_tril(packed)

    def _charges(self, v_grids: np.ndarray) -> np.ndarray:
        """Symmetrised surface charges ``(K^-1 R v + R^T K^-T v) / 2`` for rows of ``v``."""
        R = self._intermediates["R"]
        kind, factor = self._factor
        if kind == "cholesky":  # K symmetric, R = -f I: both terms are equal
            f_epsilon = self._intermediates["f_epsilon"]
            return -f_epsilon * scipy.linalg.cho_solve(factor, v_grids.T).T
        q = scipy.linalg.lu_solve(factor, R @ v_grids.T).T
        qt = (R.T @ scipy.linalg.lu_solve(factor, v_grids.T, trans=1)).T
        return (q + qt) / 2.0

    def _get_vind(self, dms):
        if not self._intermediates or self._factor is None:
            self.build()
        nao = dms.shape[-1]
        dms = np.asarray(dms).reshape(-1, nao, nao)
        if dms.shape[0] == 2:
            dms = (dms[0] + dms[1]).reshape(-1, nao, nao)
        v_grids = self.v_grids_n - self._get_v(dms)
        q_sym = self._charges(v_grids)
        vmat = self._get_vmat(q_sym)
        epcm = 0.5 * np.dot(q_sym[0], v_grids[0])
        self._intermediates.update(q=q_sym[0], q_sym=q_sym[0], v_grids=v_grids[0], dm=dms)
        return epcm, vmat[0]

    def _B_dot_x(self, dms):
        if not self._intermediates or self._factor is None:
            self.build()
        out_shape = dms.shape
        nao = dms.shape[-1]
        v_grids = -self._get_v(np.asarray(dms).reshape(-1, nao, nao))
        return self._get_vmat(self._charges(v_grids)).reshape(out_shape)

    def to_gpu(self):  # the GPU path builds GPU4PySCF's own PCM
        raise NotImplementedError("CachedPCM is the CPU implementation; use GPU4PySCF's PCM")


def attach_cached_pcm(mf, eps: float, cache_mb: float, method: str = "C-PCM",
                      potential: str = "exact", spill_dir: str | None = None,
                      disk_reserve_mb: float = 0.0):
    """``mf`` with :class:`CachedPCM` attached (PySCF's solvent wrapper, CPU only).

    Parameters
    ----------
    mf : pyscf SCF object
        RKS/UKS (density fitting or not).
    eps : float
        Dielectric constant (dimensionless).
    cache_mb : float
        Memory (MB) the cached surface-charge integrals may take.
    potential : str
        ``'exact'``, or ``'density-fitted'`` (needs ``mf`` with density fitting).
    spill_dir, disk_reserve_mb
        Scratch folder for the columns that do not fit in ``cache_mb`` (see
        :class:`CachedPCM`).
    """
    with_df = getattr(mf, "with_df", None) if potential == "density-fitted" else None
    solvent = CachedPCM(mf.mol, cache_mb=cache_mb, potential=potential, with_df=with_df,
                        spill_dir=spill_dir, disk_reserve_mb=disk_reserve_mb)
    solvent.method = method
    solvent.eps = eps
    return mf.PCM(solvent)


class _ScratchColumns:
    """Integral columns of surface points ``start:stop`` in an unnamed scratch file.

    Stored point-major (one row of ``npair`` doubles per point), so a block of points is one
    contiguous read. The file has no name (``tempfile.TemporaryFile``): the system removes it
    when it is closed or the process ends, killed or not.

    Examples
    --------
    >>> import tempfile
    >>> columns = _ScratchColumns(tempfile.gettempdir(), npair=3, start=2)
    >>> columns.append(np.arange(6.0).reshape(3, 2))
    >>> [(p0, p1, block.tolist()) for p0, p1, block in columns.blocks(block_bytes=48)]
    [(2, 4, [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])]
    >>> columns.close()
    """

    def __init__(self, folder: str, npair: int, start: int):
        self.handle = tempfile.TemporaryFile(dir=folder, prefix="superatom-pcm-", buffering=0)
        self.npair = npair
        self.start = self.stop = start

    def append(self, block: np.ndarray) -> None:
        """Write ``block`` (npair, points) after the points already stored."""
        rows = np.ascontiguousarray(block.T)
        view = memoryview(rows).cast("B")
        offset = (self.stop - self.start) * self.npair * BYTES_PER_DOUBLE
        while view:
            written = os.pwrite(self.handle.fileno(), view[:_MAX_IO_BYTES], offset)
            view, offset = view[written:], offset + written
        self.stop += block.shape[1]

    def blocks(self, block_bytes: int):
        """Yield ``(p0, p1, columns)`` with columns of shape (npair, p1 - p0), in order."""
        row_bytes = self.npair * BYTES_PER_DOUBLE
        step = max(1, int(block_bytes // row_bytes))
        for p0 in range(self.start, self.stop, step):
            p1 = min(self.stop, p0 + step)
            rows = np.empty((p1 - p0, self.npair))
            view = memoryview(rows).cast("B")
            offset = (p0 - self.start) * row_bytes
            while view:
                got = os.preadv(self.handle.fileno(), [view[:_MAX_IO_BYTES]], offset)
                if got <= 0:
                    raise OSError("PCM scratch file ended early")
                view, offset = view[got:], offset + got
            yield p0, p1, rows.T

    def close(self) -> None:
        self.handle.close()

    def __deepcopy__(self, memo):  # an open file is shared, never copied
        return self

"""Trial rotations of a stability analysis kept on disk, so a killed analysis goes on.

On a Keggin-size unit every trial rotation of the Davidson solve in
:func:`superatom.engine.stability.lowest_rotation` is a full response build (minutes), and a
solve takes tens of them. :class:`TrialRotations` writes each trial rotation and its
Hessian product into the SCF checkpoint (HDF5 group ``superatom_stability``, beside PySCF's
``scf`` group), with the orbitals they are expressed in. A run restarted from its
checkpoints converges the SCF again, and :meth:`TrialRotations.ritz_start` pools the saved
pairs of every checkpoint of the same state. Their lowest Ritz vectors start the new Davidson
solve, and the product of any rotation in their span comes from the saved products (the
product is linear) instead of a response build: the saved work is reused, not repeated.

The saved pairs are in the molecular orbitals of the analysed state. The SCF converged again
gives the same occupied and virtual spaces with other orbitals inside them (signs, rotations
within near-degenerate sets). Rotation parameters and their Hessian products transform
covariantly, ``X' = Uv^T X Uo`` with ``Uo = Co^T S Co'`` and ``Uv = Cv^T S Cv'``, because
the energy is invariant under occupied-occupied and virtual-virtual rotations. Saved pairs
are used only where the energy agrees to :data:`SAME_ENERGY` Hartree and both spaces to
:data:`SAME_SPACE`; anything else (another state, another molecule, a torn file) is ignored:
a checkpoint is only ever a starting guess.
"""

from __future__ import annotations

import logging
import os

import numpy as np

log = logging.getLogger(__name__)

#: HDF5 group of the saved trial rotations in an SCF checkpoint.
GROUP = "superatom_stability"
#: Saved pairs are reused only for a state whose energy agrees to this (Hartree) ...
SAME_ENERGY = 1e-6
#: ... and whose occupied and virtual spaces agree to this (largest deviation of the
#: overlap of the two orbital sets from an orthogonal matrix).
SAME_SPACE = 1e-4


class TrialRotations:
    """Saved trial rotations of one stability analysis: written to ``path``, read from
    ``sources`` (earlier checkpoints of the same input).

    Parameters
    ----------
    path : str or None
        The running SCF's checkpoint (``mf.chkfile``); None keeps nothing.
    sources : list of str
        Checkpoints of earlier runs of the same input (newest first; ``path`` itself may be
        one: it is read before it is written); None, missing or foreign files are skipped.

    Examples
    --------
    >>> import tempfile, os
    >>> from pyscf import gto, scf
    >>> mf = scf.RHF(gto.M(atom="H 0 0 0; F 0 0 0.92", basis="sto-3g", verbose=0)).run()
    >>> path = os.path.join(tempfile.mkdtemp(), "run.chk")
    >>> saved = TrialRotations(path, [])
    >>> saved.begin(mf)
    >>> x = np.ones(5) / np.sqrt(5)  # 1 virtual x 5 occupied, PySCF's order
    >>> saved.add(x, 3.0 * x)  # a product with eigenvalue 3 Hartree
    >>> starts, basis, images = TrialRotations(None, [path]).ritz_start(mf)
    >>> bool(np.allclose(abs(starts[0]), x)), bool(np.allclose(images, 3.0 * basis))
    (True, True)
    """

    def __init__(self, path: str | None, sources: list[str | None]):
        self.path = path
        self.sources = [source for source in sources if source]
        self.count = 0
        self.reused = 0

    def begin(self, mf) -> None:
        """Start a new record for the state of ``mf`` (replaces an older one in ``path``)."""
        self.count = 0
        if self.path is None:
            return
        import h5py

        with h5py.File(self.path, "a") as handle:
            if GROUP in handle:
                del handle[GROUP]
            group = handle.create_group(GROUP)
            group.attrs["e_tot"] = float(mf.e_tot)
            group["mo_coeff"] = np.asarray(mf.mo_coeff)
            group["mo_occ"] = np.asarray(mf.mo_occ)

    def add(self, x: np.ndarray, product: np.ndarray) -> None:
        """Keep one trial rotation and its Hessian product (Hartree)."""
        if self.path is None:
            return
        import h5py

        with h5py.File(self.path, "a") as handle:
            group = handle[GROUP]
            group[f"x/{self.count}"] = np.asarray(x)
            group[f"hx/{self.count}"] = np.asarray(product)
        self.count += 1

    def add_span(self, basis: np.ndarray, images: np.ndarray) -> None:
        """Keep reused pairs (columns of ``basis`` and their products ``images``, in the
        orbitals of :meth:`begin`): the newest checkpoint alone then holds every pair known,
        and :func:`carry` can take them all from it."""
        for column in range(basis.shape[1]):
            self.add(basis[:, column], images[:, column])

    def saved_subspace(self, mf) -> tuple[np.ndarray, np.ndarray] | None:
        """``(basis, images)`` of every saved pair of this state, or None.

        Pairs from all sources are taken into the orbitals of ``mf`` and pooled: ``basis``
        has orthonormal columns spanning the saved trial rotations, ``images`` the Hessian
        products of those columns (Hartree), both in PySCF's rotation variables. The
        product of any rotation in that span is then ``images @ (basis.T @ x)``: no response
        build.
        """
        rotations, products = [], []
        for source in self.sources:
            pairs = _read_pairs(source, mf)
            if pairs:
                rotations += pairs[0]
                products += pairs[1]
        self.reused = len(rotations)
        if not rotations:
            return None
        return _orthonormal_span(np.array(rotations).T, np.array(products).T)

    def ritz_start(self, mf, count: int = 1
                   ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray] | None:
        """The ``count`` lowest Ritz vectors of the saved subspace, with that subspace."""
        known = self.saved_subspace(mf)
        if known is None:
            return None
        basis, images = known
        values, ritz = _ritz(basis, images)
        log.info("stability analysis: %d saved trial rotations reused, lowest Ritz value "
                 "%.6f Ha", self.reused, values[0])
        starts = [basis @ ritz[:, i] for i in range(min(count, ritz.shape[1]))]
        return starts, basis, images


def carry(source: str, target: str, keep: int = 6) -> int:
    """Copy the saved trial rotations of ``source`` into ``target``, cut to their ``keep``
    lowest Ritz pairs in single precision; returns how many pairs were written.

    A stability analysis cut short leaves its pairs in the run's checkpoint, which stays on
    the machine that ran it. A restart file carried elsewhere (``<input hash>.saved.chk``,
    occupied orbitals only) takes this compact record beside them: the ``keep`` lowest Ritz
    vectors of the saved span and their Hessian products (each a combination of saved
    pairs, hence itself a pair), the analysed orbitals and energy, all as float32 (a
    relative error of 1e-7, far below the 1e-4 Hartree of the Davidson tolerance; the
    restarted solve checks its final root with one exact product). On a Keggin-size radical
    that is about 25 MB in place of one 60 MB pair set that grows by 6 MB a rotation, and a
    run on another machine starts where this one stopped instead of from the first trial
    rotation. Nothing is written when ``source`` has no usable pairs.

    Examples
    --------
    >>> import tempfile, os
    >>> from pyscf import gto, scf
    >>> mf = scf.RHF(gto.M(atom="H 0 0 0; F 0 0 0.92", basis="sto-3g", verbose=0)).run()
    >>> folder = tempfile.mkdtemp()
    >>> run, copy = os.path.join(folder, "run.chk"), os.path.join(folder, "copy.chk")
    >>> saved = TrialRotations(run, [])
    >>> saved.begin(mf)
    >>> for i in range(3):
    ...     x = np.eye(5)[i]
    ...     saved.add(x, (i + 1.0) * x)  # eigenvalues 1, 2, 3 Hartree
    >>> carry(run, copy, keep=2)
    2
    >>> starts, basis, images = TrialRotations(None, [copy]).ritz_start(mf)
    >>> round(float(starts[0] @ images @ (basis.T @ starts[0])), 6)
    1.0
    """
    import h5py

    try:
        with h5py.File(source, "r") as handle:
            group = handle[GROUP]
            e_tot = float(group.attrs["e_tot"])
            coeff, occ = np.asarray(group["mo_coeff"]), np.asarray(group["mo_occ"])
            pairs = _group_pairs(group)
    except (OSError, KeyError, ValueError):
        return 0
    if not pairs:
        return 0
    basis, images = _orthonormal_span(np.array([x for x, _ in pairs]).T,
                                      np.array([hx for _, hx in pairs]).T)
    ritz = _ritz(basis, images)[1][:, :keep]
    options = {"compression": "gzip", "shuffle": True}
    with h5py.File(target, "a") as handle:
        if GROUP in handle:
            del handle[GROUP]
        group = handle.create_group(GROUP)
        group.attrs["e_tot"] = e_tot
        group.create_dataset("mo_coeff", data=coeff.astype(np.float32), **options)
        group["mo_occ"] = occ
        for i in range(ritz.shape[1]):
            group.create_dataset(f"x/{i}", data=(basis @ ritz[:, i]).astype(np.float32),
                                 **options)
            group.create_dataset(f"hx/{i}", data=(images @ ritz[:, i]).astype(np.float32),
                                 **options)
    return int(ritz.shape[1])


def _group_pairs(group) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``(x, hx)`` pairs of a saved group, in the order they were written."""
    count = len(group["x"]) if "x" in group else 0
    return [(np.asarray(group[f"x/{i}"]), np.asarray(group[f"hx/{i}"]))
            for i in range(count) if f"hx/{i}" in group]


def _ritz(basis: np.ndarray, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ritz values (Hartree, ascending) and vectors of the Hessian on an orthonormal span."""
    projected = basis.T @ images
    return np.linalg.eigh((projected + projected.T) / 2)


def _orthonormal_span(vectors: np.ndarray, images: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal columns spanning ``vectors``, with the same combinations of ``images``."""
    weights, axes = np.linalg.eigh(vectors.T @ vectors)
    keep = weights > 1e-10 * weights.max()
    orthonormalize = axes[:, keep] / np.sqrt(weights[keep])
    return vectors @ orthonormalize, images @ orthonormalize


def _read_pairs(path: str, mf) -> tuple[list, list] | None:
    """Saved pairs of ``path`` taken into the orbitals of ``mf``, or None if unusable.

    The pairs themselves (up to hundreds of MB on a unit) are read only once the saved
    state is known to be the state of ``mf``.
    """
    if not os.path.isfile(path):
        return None
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            if GROUP not in handle:
                return None
            group = handle[GROUP]
            maps = _space_maps(float(group.attrs["e_tot"]), np.asarray(group["mo_coeff"]),
                               np.asarray(group["mo_occ"]), mf)
            pairs = _group_pairs(group) if maps is not None else []
    except (OSError, KeyError, ValueError):  # torn, locked or foreign file
        return None
    if not pairs or pairs[0][0].size != sum(v.shape[0] * o.shape[0] for v, o in maps):
        return None

    def transform(vector: np.ndarray) -> np.ndarray:
        parts, offset = [], 0
        for virtual, occupied in maps:
            size = virtual.shape[0] * occupied.shape[0]
            block = vector[offset:offset + size].reshape(virtual.shape[0], occupied.shape[0])
            parts.append((virtual.T @ block @ occupied).ravel())
            offset += size
        return np.concatenate(parts)

    return [transform(x) for x, _ in pairs], [transform(hx) for _, hx in pairs]


def _space_maps(e_tot: float, coeff: np.ndarray, occ: np.ndarray, mf) -> list | None:
    """Per spin ``(Uv, Uo)`` from the saved orbitals to those of ``mf``, or None if the
    saved state is another one (energy, shape, occupations or spaces differ)."""
    now_coeff, now_occ = np.asarray(mf.mo_coeff), np.asarray(mf.mo_occ)
    if (abs(e_tot - float(mf.e_tot)) > SAME_ENERGY or coeff.shape != now_coeff.shape
            or not np.array_equal(occ > 0, now_occ > 0)):
        return None
    overlap = mf.get_ovlp()
    spins = [(coeff, occ, now_coeff, now_occ)] if occ.ndim == 1 else list(
        zip(coeff, occ, now_coeff, now_occ, strict=True))
    maps = []
    for old, old_occ, new, new_occ in spins:
        occupied = old[:, old_occ > 0].T @ overlap @ new[:, new_occ > 0]
        virtual = old[:, old_occ == 0].T @ overlap @ new[:, new_occ == 0]
        for block in (occupied, virtual):
            if np.abs(block.T @ block - np.eye(block.shape[1])).max() > SAME_SPACE:
                return None
        maps.append((virtual, occupied))
    return maps

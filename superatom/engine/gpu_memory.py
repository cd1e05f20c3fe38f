"""Memory model of a GPU4PySCF SCF: DF tensor, PCM matrices, and when PCM goes low-memory.

Bytes inside, GB at the edge. The dense DF tensor of ``nao`` AOs takes about
``8 * 3.1 * nao**3`` bytes (the auxiliary basis is about 3.1 times the orbital basis); GPU4PySCF
keeps only screened AO pairs, about half of that, and spills the rest to pinned host memory.
C-PCM keeps two dense ``(surface points)**2`` matrices in double precision.

Examples
--------
>>> round(gpu_memory_estimate(nao=962, density_fit=True) / 1e9, 1)  # Keggin def2-SVP
11.1
>>> pcm_lowmem(n_surface=60_000, card_bytes=80e9)
True
"""

from __future__ import annotations

DF_BYTES_PER_NAO3 = 8 * 3.1
SCREENED_FRACTION = 0.5
PCM_MATRICES = 2
PCM_LOWMEM_FRACTION = 0.25  # PCM matrices may take at most this share of the card
SURFACE_POINTS_PER_ATOM = 302  # Lebedev order 29, GPU4PySCF's default


def pcm_surface_points(n_atoms: int, points_per_atom: int = SURFACE_POINTS_PER_ATOM) -> int:
    """Upper bound on the PCM surface points (every Lebedev point of every sphere kept).

    Examples
    --------
    >>> pcm_surface_points(53)
    16006
    """
    return int(n_atoms) * int(points_per_atom)


def pcm_bytes(n_surface: int) -> float:
    """Bytes of the two dense ``n_surface x n_surface`` PCM matrices."""
    return float(PCM_MATRICES * n_surface**2 * 8)


def gpu_memory_estimate(nao: int, density_fit: bool = True, n_surface: int = 0,
                        pcm_low_memory: bool = False) -> float:
    """Bytes an SCF needs on the card: screened DF pairs, density/Fock work arrays and PCM.

    Parameters
    ----------
    nao : int
        Number of atomic orbitals.
    density_fit : bool
        True for a DF run (screened 3-centre tensor kept), False for direct SCF.
    n_surface : int
        PCM surface points (0 without a solvent model).
    pcm_low_memory : bool
        PCM in its low-memory mode stores nothing of size ``n_surface**2``.

    Examples
    --------
    >>> gpu_memory_estimate(100, density_fit=False) == 10 * 8 * 100**2
    True
    """
    work = 10 * 8 * nao**2  # densities, Fock, overlap, orbitals, DIIS vectors
    df = SCREENED_FRACTION * DF_BYTES_PER_NAO3 * nao**3 if density_fit else 0.0
    pcm = 0.0 if pcm_low_memory else pcm_bytes(n_surface)
    return float(work + df + pcm)


def pcm_lowmem(n_surface: int, card_bytes: float,
               fraction: float = PCM_LOWMEM_FRACTION) -> bool:
    """True when PCM's dense matrices would take more than ``fraction`` of the card.

    Examples
    --------
    >>> pcm_lowmem(16_006, card_bytes=80e9)  # Keggin: 4.1 GB of 80 GB
    False
    """
    return pcm_bytes(n_surface) > fraction * card_bytes

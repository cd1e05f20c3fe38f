"""Keep a density-fitting tensor that goes to disk anyway, so a restart does not rebuild it.

A Keggin-size system's DF tensor (962 AOs: 22 GB) does not fit in a 24 GB machine's budget,
and PySCF writes it to an unnamed scratch file that goes when the process ends. Building it
takes 265 s for the [PW12O40]2- radical on 2 cores, and a run stopped by a wall time, a kill
or a stall is restarted from its checkpoint with those seconds spent again (reading the
kept file instead: under a second). :func:`keep_df_tensor` writes the tensor to a
named file beside the checkpoints instead (under a temporary name, renamed once complete) and
a later run of the same input uses that file; the workflow deletes it with the checkpoints
once the result is stored. Same integrals, same numbers: only where they are kept changes.
A tensor that fits in memory is left to PySCF (in memory it is faster than any file).
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Free disk space needed beside the tensor, as a fraction of its size.
DISK_MARGIN = 0.1


def tensor_shape(mf) -> tuple[int, int]:
    """``(naux, nao*(nao+1)/2)`` of the DF tensor of the density-fitted ``mf``."""
    from pyscf.df.addons import make_auxmol

    with_df = mf.with_df
    if with_df.auxmol is None:
        with_df.auxmol = make_auxmol(mf.mol, with_df.auxbasis)
    nao = mf.mol.nao
    return with_df.auxmol.nao, nao * (nao + 1) // 2


def stored_tensor_fits(path: str | os.PathLike, naux: int, npair: int,
                       dataname: str = "j3c") -> bool:
    """Whether ``path`` holds a complete block-stored DF tensor of shape ``(naux, npair)``.

    Examples
    --------
    >>> stored_tensor_fits("/nonexistent/df.h5", 10, 55)
    False
    """
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            blocks = handle[dataname]
            shapes = [blocks[str(k)].shape for k in range(len(blocks))]
    except (OSError, KeyError, TypeError):
        return False
    return bool(shapes) and all(rows == naux for rows, _ in shapes) and (
        sum(columns for _, columns in shapes) == npair)


def keep_df_tensor(mf, path: str | os.PathLike) -> dict[str, Any]:
    """Use the DF tensor kept at ``path`` if it fits ``mf``, else build it there.

    Only when PySCF would put the tensor on disk anyway (larger than 90 % of the DF
    object's memory budget); otherwise nothing changes. A build that finds too little disk
    space beside ``path``, or fails writing, leaves the tensor to PySCF's scratch file.
    Returns the record for the result's ``memory`` entry: ``df_tensor`` (``reused``,
    ``kept``, ``in memory`` or ``scratch``), its file and size in GB.

    Examples
    --------
    >>> from pyscf import gto, scf
    >>> mol = gto.M(atom="He 0 0 0; He 0 0 2", basis="def2-svp", verbose=0)
    >>> keep_df_tensor(scf.RHF(mol).density_fit(), "/tmp/unused.h5")["df_tensor"]
    'in memory'
    """
    naux, npair = tensor_shape(mf)
    size_mb = naux * npair * 8 / 1e6
    with_df = mf.with_df
    if size_mb < 0.9 * with_df.max_memory:
        return {"df_tensor": "in memory"}
    path = Path(path)
    record = {"df_file": str(path), "df_gb": round(size_mb / 1e3, 2)}
    if stored_tensor_fits(path, naux, npair, with_df._dataname):
        with_df._cderi = str(path)
        log.info("DF tensor reused from %s (%.1f GB)", path, size_mb / 1e3)
        return {"df_tensor": "reused", **record}
    path.parent.mkdir(parents=True, exist_ok=True)
    free_mb = shutil.disk_usage(path.parent).free / 1e6
    if free_mb < (1 + DISK_MARGIN) * size_mb:
        return {"df_tensor": "scratch", "df_note": f"{free_mb / 1e3:.1f} GB free beside "
                f"{path.parent}, {size_mb / 1e3:.1f} GB needed", **record}
    partial = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")
    with_df._cderi_to_save = str(partial)
    try:
        with_df.build()
        os.replace(partial, path)
    except OSError as error:  # disk full, unwritable folder: PySCF's scratch file instead
        partial.unlink(missing_ok=True)
        with_df._cderi_to_save, with_df._cderi = None, None
        log.warning("could not keep the DF tensor at %s (%s): using a scratch file", path,
                    error)
        return {"df_tensor": "scratch", "df_note": str(error), **record}
    with_df._cderi = str(path)
    return {"df_tensor": "kept", **record}

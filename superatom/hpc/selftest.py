"""Tiny jobflow jobs for checking an HPC setup end to end.

They live in the package (not in a test module) because the batch job that runs
them is a separate ``jf execution run`` process which must import the function.

Examples
--------
>>> from jobflow import Flow
>>> from superatom.hpc.selftest import add
>>> j1 = add(1, 2); j2 = add(j1.output, 4)
>>> flow = Flow([j1, j2], name="selftest")
>>> len(flow.jobs)
2
"""

from __future__ import annotations

import os
import socket

from jobflow import job

__all__ = ["add", "fail", "where"]


@job
def add(a: float, b: float) -> float:
    """Return ``a + b``."""
    return a + b


@job
def fail(message: str = "selftest failure") -> None:
    """Raise ``RuntimeError(message)`` unless the file ``SUPERATOM_SELFTEST_OK`` exists.

    The flag file is looked up in the folder named by the environment variable
    ``SUPERATOM_SELFTEST_DIR`` (so a test can make the rerun succeed).
    """
    flag_dir = os.environ.get("SUPERATOM_SELFTEST_DIR")
    if flag_dir and os.path.exists(os.path.join(flag_dir, "SUPERATOM_SELFTEST_OK")):
        return None
    raise RuntimeError(message)


@job
def where() -> dict:
    """Host, working folder and SLURM/PBS job id of the process running the job."""
    return {
        "host": socket.gethostname(),
        "cwd": os.getcwd(),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "pbs_job_id": os.environ.get("PBS_JOBID"),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }

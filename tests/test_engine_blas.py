"""PySCF's bundled OpenBLAS gets the CPU's own kernel; numbers unchanged, environment untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from superatom.engine.blas import (
    FIXED_IN,
    bundled_openblas,
    cpu_flags,
    preferred_kernel,
)

PROBE = """
import json, os
import numpy as np
from superatom import engine
from superatom.engine.blas import pyscf_blas_kernel
from pyscf import lib
rng = np.random.default_rng(0)
a, b = rng.normal(size=(300, 200)), rng.normal(size=(200, 250))
error = float(np.abs(lib.dot(a, b) - a @ b).max())
print(json.dumps({"forced": engine.PYSCF_BLAS_KERNEL_FORCED, "kernel": pyscf_blas_kernel(),
                  "env": os.environ.get("OPENBLAS_CORETYPE"), "error": error}))
"""


def _probe(**env) -> dict:
    environment = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**environment, **env},
                         capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_flags_are_read_and_mapped(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse3 avx avx2 fma avx512f\n")
    assert {"avx2", "fma"} <= cpu_flags(str(info))
    assert preferred_kernel(cpu_flags(str(info))) == "Haswell"
    assert preferred_kernel({"sse3", "avx"}) is None
    assert cpu_flags(str(tmp_path / "absent")) == set()


def test_old_bundled_openblas_runs_the_avx2_kernel_with_the_same_numbers():
    bundled = bundled_openblas()
    if bundled is None or bundled[1] >= FIXED_IN or preferred_kernel(cpu_flags()) is None:
        pytest.skip("PySCF's BLAS is not an old bundled OpenBLAS on an AVX2 CPU here")
    result = _probe(SUPERATOM_PYSCF_BLAS="avx2")
    assert result["forced"] == "Haswell" and result["kernel"] == "Haswell"
    assert result["env"] is None  # set only while PySCF's library was opened
    assert result["error"] < 1e-10


def test_a_kernel_the_user_chose_is_left_alone():
    if bundled_openblas() is None:
        pytest.skip("PySCF's BLAS is not bundled here")
    result = _probe(OPENBLAS_CORETYPE="Prescott")
    assert result["forced"] is None and result["kernel"] == "Prescott"
    assert result["error"] < 1e-10
    kept = _probe()  # opt-in: off by default
    assert kept["forced"] is None and kept["env"] is None

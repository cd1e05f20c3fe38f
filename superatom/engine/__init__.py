"""The engine: the only package that imports PySCF, GPU4PySCF and tblite.

Everything above it receives plain numpy arrays (Hartree, Bohr, AO basis) or pymatgen
``Molecule`` objects (Angstrom). Modules: ``device`` (which device, code versions), ``mole``
(Mole building, basis/ECP plan, geometry checks), ``scf`` (RKS/UKS with the fallback
ladder), ``stall`` (notices a DIIS that stopped converging), ``fixed_occupation`` (DIIS with
the occupations held, the rung after a stall), ``grids`` (orbitals on
points, cube, Molden), ``tda`` (excitations), ``eda`` (energy decomposition with ETS-NOCV),
``xtb`` (GFN-xTB single points and relaxations), ``gpu_checks`` (refusals before any GPU
work, GPU failure reasons) and ``gpu_memory`` (memory model of a GPU4PySCF SCF). Importing
the engine first can give PySCF's bundled BLAS the CPU's own kernel before PySCF is loaded
(``blas``, opt-in).

Examples
--------
>>> from superatom import engine
>>> engine.resolve_device("cpu")
'cpu'
"""

from __future__ import annotations

from superatom.engine.blas import KERNEL_FORCED as PYSCF_BLAS_KERNEL_FORCED
from superatom.engine.device import (
    code_versions,
    device_name,
    gpu_available,
    gpu_memory_bytes,
    resolve_device,
)
from superatom.engine.grids import (
    orbital_values_blocked,
    write_cube,
    write_density_cube,
    write_molden,
)
from superatom.engine.mole import ao_layout, ao_metadata, basis_plan, build_mole, check_molecule
from superatom.engine.scf import SCFResult, make_scf, run_scf
from superatom.engine.tda import run_tda
from superatom.engine.xtb import XTB_METHOD, relax_xtb, xtb_frontier, xtb_versions

__all__ = [
    "PYSCF_BLAS_KERNEL_FORCED",
    "XTB_METHOD",
    "SCFResult",
    "ao_layout",
    "ao_metadata",
    "basis_plan",
    "build_mole",
    "check_molecule",
    "code_versions",
    "device_name",
    "gpu_available",
    "gpu_memory_bytes",
    "make_scf",
    "orbital_values_blocked",
    "relax_xtb",
    "resolve_device",
    "run_scf",
    "run_tda",
    "write_cube",
    "write_density_cube",
    "write_molden",
    "xtb_frontier",
    "xtb_versions",
]

"""Lanthanides with the 4f shell in the core (``ln_core='4f-in-core'``) against small core.

References: the core sizes of the trivalent large-core ECPs (ECP46MWB La, ECP49MWB Nd,
ECP53MWB Gd: Dolg et al. 1989), a direct PySCF run that loads the same set through PySCF's
own basis-set-exchange converter, and the input hashes of the code before the setting existed.
"""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Molecule
from pyscf import dft, gto

from superatom.calc_settings import load_preset
from superatom.engine import basis_plan, build_mole
from superatom.engine.large_core import large_core_data
from superatom.engine.mole import check_cores
from superatom.errors import InputError
from superatom.schemas.hashing import input_hash
from superatom.workflows.frontier import compute_frontier

pytest.importorskip("basis_set_exchange")

FOUR_F = load_preset("fast", device="cpu", ln_core="4f-in-core")
#: published core sizes of the trivalent 4f-in-core ECPs (46 + number of 4f electrons)
CORE = {"La": 46, "Nd": 49, "Gd": 53}
#: high-spin Ln(III) multiplicities with the 4f shell explicit: 4f0, 4f3, 4f7
HIGH_SPIN = {"La": 1, "Nd": 4, "Gd": 8}
#: input hashes of NdF3 (quartet) before ``ln_core`` existed (screening, fast presets)
OLD_HASHES = {
    "screening": "5b827091ed9166762f1b7bb07b9d39d506f08be80102382a30b618dfdad8db0a",
    "fast": "ba75084eb17c43de5f4f779d29a364234f69f6dcdb18538bedeec1f23e6468c7",
}


def ln_fluoride(ln: str, d: float = 2.2) -> Molecule:
    """Trigonal-planar LnF3, Ln-F ``d`` A, with its high-spin 4f multiplicity."""
    return Molecule([ln, "F", "F", "F"],
                    [[0, 0, 0], [d, 0, 0], [-d / 2, 1.905256, 0], [-d / 2, -1.905256, 0]],
                    spin_multiplicity=HIGH_SPIN[ln])


@pytest.mark.parametrize("ln", sorted(CORE))
def test_large_core_holds_the_4f_shell_and_closes_the_shell(ln):
    mol = build_mole(ln_fluoride(ln), FOUR_F)
    assert mol.atom_nelec_core(0) == CORE[ln]
    z = gto.charge(ln)
    assert mol.nelectron == z - CORE[ln] + 3 * 9  # neutral LnF3
    assert mol.spin == 0  # every Ln(III) closed shell with its 4f in the core
    small = build_mole(ln_fluoride(ln), load_preset("fast"))
    assert small.spin == HIGH_SPIN[ln] - 1  # the default keeps the 4f shell explicit


def test_nd_4f_in_core_runs_rks_and_matches_direct_pyscf():
    nd = ln_fluoride("Nd")
    doc = compute_frontier(nd, FOUR_F.model_copy(update={"conv_tol": 1e-10}))
    assert doc.converged and doc.spin_treatment == "RKS" and doc.scf_multiplicity == 1
    assert doc.spin_multiplicity == 4  # the molecule stays the Nd(III) 4f3 quartet
    assert doc.ecp_by_element == {"Nd": "lcecp-1-svp"} and doc.n_core_ecp == 49
    assert doc.settings["ln_core"] == "4f-in-core" and "4f-in-core" in doc.method
    assert doc.scf_state["aufbau"] and doc.scf_state["n_alpha"] == doc.scf_state["n_beta"]
    # independent route: PySCF's own basis-set-exchange loader, plain RKS
    mol = gto.M(atom=[(s.specie.symbol, tuple(s.coords)) for s in nd],
                basis={"Nd": "lcecp-1-svp", "F": "def2-svp"}, ecp={"Nd": "lcecp-1-svp"},
                verbose=0)
    mf = dft.RKS(mol, xc="PBE0").density_fit(auxbasis="def2-universal-jkfit")
    mf.grids.level = 1
    mf.conv_tol = 1e-10
    mf.kernel(dm0=mf.get_init_guess(key="sap"))
    assert mf.converged and mol.nao == doc.nao
    assert abs(doc.e_tot_ha - mf.e_tot) < 1e-6
    homo = mf.mo_energy[mf.mo_occ > 0].max() * 27.211386245988
    assert abs(doc.homo_ev - homo) < 1e-4


def test_input_hash_tells_the_cores_apart_and_old_hashes_stay():
    nd = ln_fluoride("Nd")
    for preset, old in OLD_HASHES.items():
        assert input_hash(nd, load_preset(preset)) == old
        assert input_hash(nd, load_preset(preset, ln_core="small")) == old
        assert input_hash(nd, load_preset(preset, ln_core="4f-in-core")) != old


def test_trivalent_core_size_is_checked():
    # lcecp-0 puts one more f electron into the core (Nd: 50): not a 4f-in-core Nd(III)
    with pytest.raises(InputError, match="50 electrons in the core, not the 49"):
        large_core_data("lcecp-0-svp", "Nd")
    with pytest.raises(InputError, match="needs a def2 basis"):
        build_mole(ln_fluoride("Nd"), FOUR_F.model_copy(update={"basis": "6-31g"}))


def test_an_ecp_pyscf_cannot_find_is_an_error_not_an_all_electron_atom():
    nd = ln_fluoride("Nd")
    symbols = [s.specie.symbol for s in nd]
    # the trap: PySCF prints "not found" and builds an all-electron Nd (69 electrons)
    quiet = gto.M(atom=[(s, tuple(site.coords)) for s, site in zip(symbols, nd, strict=True)],
                  basis={"Nd": "lcecp-1-svp", "F": "def2-svp"}, ecp={"Nd": "def2-svp"},
                  spin=3, verbose=0)
    assert quiet.atom_nelec_core(0) == 0
    with pytest.raises(InputError, match="0 core electrons, but its ECP 'lcecp-1-svp' has 49"):
        check_cores(quiet, symbols, {"Nd": "lcecp-1-svp"}, FOUR_F)
    with pytest.raises(InputError, match="would run all-electron"):
        check_cores(quiet, symbols, {}, FOUR_F)
    # a basis found without its ECP (def2-svp lanthanides from basis-set-exchange) is refused
    with pytest.raises(InputError, match="no ECP for Nd"):
        basis_plan(["Nd", "F"], load_preset("fast", ecp="def2-svp"))
    # Lu: in neither PySCF ECP library; its def2 ECP comes from basis-set-exchange
    assert basis_plan(["Lu", "F"], load_preset("fast")) == (
        {"Lu": "def2-svp", "F": "def2-svp"}, {"Lu": "bse:def2-svp"})
    with pytest.raises(InputError, match="no ECP for Lu"):  # only the basis's own ECP is taken
        basis_plan(["Lu"], load_preset("fast", ecp="def2-svp"))


def test_multiplicity_below_the_4f_spins_is_refused():
    low = ln_fluoride("Gd")
    low.set_charge_and_spin(0, 2)
    with pytest.raises(InputError, match="less than the 7 unpaired 4f electrons"):
        build_mole(low, FOUR_F)


def test_gpu_guards_take_the_large_core_sets():
    from superatom.engine.gpu_checks import gpu_basis_problem

    for preset in ("screening", "production"):
        settings = load_preset(preset, ln_core="4f-in-core")
        mol = build_mole(ln_fluoride("Gd"), settings)
        assert gpu_basis_problem(mol, settings) is None
        assert int(np.max(mol._ecpbas[:, 1])) <= 3  # projectors up to f


def test_nd_clusterphene_dimer_plans_and_passes_the_gpu_guards_4f_in_core():
    from superatom.campaign.plan import plan_campaign, plan_rows
    from superatom.campaign.spec import Campaign
    from superatom.engine.gpu_checks import check_solvent, gpu_basis_problem

    campaign = Campaign(name="nd", preset="screening", worker_gpu=True,
                        settings={"ln_core": "4f-in-core"},
                        systems=[{"name": "Nd dimer", "build": {"kind": "dimer", "ln": "Nd"},
                                  "tier": "dft"}])
    plan = plan_campaign(campaign)
    entry = plan.systems["Nd dimer"]
    assert entry.tier == "dft" and entry.settings.ln_core == "4f-in-core"
    assert entry.molecule.charge == -8 and entry.molecule.spin_multiplicity == 7  # 2 x 4f3
    (row,) = plan_rows(plan)
    assert "4f-in-core" in row["method"]
    mol = build_mole(entry.molecule, entry.settings)
    symbols = [mol.atom_pure_symbol(i) for i in range(mol.natm)]
    nd = [i for i, s in enumerate(symbols) if s == "Nd"]
    assert len(nd) == 2 and all(mol.atom_nelec_core(i) == CORE["Nd"] for i in nd)
    assert mol.spin == 0 and mol.nao == entry.nao
    check_solvent(mol, entry.settings)  # C-PCM with ECP atoms is allowed
    assert gpu_basis_problem(mol, entry.settings) is None
    small = build_mole(entry.molecule, entry.settings.model_copy(update={"ln_core": "small"}))
    assert small.spin == 6 and small.nao > mol.nao  # 4f3 explicit: UKS septet, more AOs


def test_open_4f_shell_defeats_plain_diis_4f_in_core_converges_stable():
    """NdO+ (Nd(III) 4f3 on O2-): the small-core UKS quartet swings by hundreds of Ha under
    plain DIIS from the minao guess and has not settled after 20 cycles (on one CPU it never
    did in 30, on another it settled at cycle 29); with the 4f shell in the core it is a
    closed shell that the engine's start converges to a stable aufbau state."""
    from superatom.engine.scf import converge_scf
    from superatom.errors import SCFNotConvergedError

    ndo = Molecule(["Nd", "O"], [[0, 0, 0], [1.8, 0, 0]], charge=1, spin_multiplicity=4)
    plain = load_preset("fast", device="cpu", max_cycle=20, fallback_ladder=False)
    energies = []
    with pytest.raises(SCFNotConvergedError):
        converge_scf(build_mole(ndo, plain), plain, "cpu", "NdO+", preconverge=False,
                     progress=lambda cycle, energy, delta: energies.append(energy))
    assert max(energies) - min(energies) > 10.0  # oscillating, not creeping
    mol = build_mole(ndo, FOUR_F)
    mf, attempts, cycles, guess = converge_scf(mol, FOUR_F, "cpu", "NdO+")
    assert mf.converged and mol.spin == 0 and guess == "sap"
    assert attempts[0]["solver"] == "preconverge" and cycles < 40
    occupied = mf.mo_energy[mf.mo_occ > 0]
    assert occupied.max() < mf.mo_energy[mf.mo_occ == 0].min()  # aufbau
    *_, stable_internal, _ = mf.stability(return_status=True)
    assert stable_internal

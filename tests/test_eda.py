"""Energy decomposition with ETS-NOCV: sum rules, limits, invariances, an independent PySCF
cross-check, ECP/UKS/DF/C-PCM cases and published bonding trends (real PySCF, seconds each).

Trends checked (character, not numbers): in H3N-BH3 the dominant NOCV channel is the donation
from the N lone pair into the empty B orbital, carrying most of the orbital interaction, with
charge moving from NH3 to BH3 (ETS-NOCV of ammonia borane: Mitoraj, J. Phys. Chem. A 2011,
115, 14708); in a hydrogen bond the leading channel moves charge from the acceptor's lone pair
into the donor's O-H region (the hydrogen-bond applications of Mitoraj, Michalak & Ziegler,
J. Chem. Theory Comput. 2009, 5, 962, the paper that defines ETS-NOCV); for a pi-stacked
homodimer (ethylene) the KS-DFT interaction without dispersion is Pauli-dominated and, by
symmetry, the channels move no net charge between the identical fragments.
"""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Molecule
from scipy.linalg import block_diag

from superatom import HARTREE_TO_KCAL_MOL
from superatom.calc_settings import load_preset
from superatom.engine.eda import run_eda
from superatom.errors import InputError
from superatom.workflows.eda import compute_eda
from superatom.workflows.fragments import fragment_labels, split_fragments

FAST = load_preset("fast", device="cpu")
NH3 = [("N", 0, 0, 0), ("H", 0.95, 0, -0.38), ("H", -0.475, 0.823, -0.38),
       ("H", -0.475, -0.823, -0.38)]
BH3 = [("B", 0, 0, 1.66), ("H", 1.17, 0, 2.05), ("H", -0.585, 1.013, 2.05),
       ("H", -0.585, -1.013, 2.05)]


def labelled(parts: dict[str, list[tuple]], charge: int = 0, multiplicity: int = 1,
             shift: dict[str, float] | None = None) -> Molecule:
    species, coords, labels = [], [], []
    for name, atoms in parts.items():
        dz = (shift or {}).get(name, 0.0)
        for symbol, x, y, z in atoms:
            species.append(symbol)
            coords.append([x, y, z + dz])
            labels.append(name)
    return Molecule(species, coords, charge=charge, spin_multiplicity=multiplicity,
                    site_properties={"fragment": labels})


def adduct(shift: float = 0.0) -> Molecule:
    return labelled({"NH3": NH3, "BH3": BH3}, shift={"BH3": shift})


@pytest.fixture(scope="module")
def ammonia_borane():
    return compute_eda(adduct(), FAST)


def test_nocv_pairs_trace_and_sum_rules(ammonia_borane):
    doc, result = ammonia_borane
    channel = result.channels[0]
    values = np.sort(channel.eigenvalues)
    # eigenvalues of the difference of two equal-rank projectors come in +/- pairs
    np.testing.assert_allclose(values, -values[::-1], atol=1e-8)
    assert max(abs(p.pairing_error) for p in doc.pairs) < 1e-8
    # the deformation density moves charge, it creates none
    assert abs(np.trace(result.deformation_density.sum(axis=0) @ result.overlap)) < 1e-8
    terms = doc.terms
    assert abs(terms.residual_ha) < 1e-8
    assert terms.e_int_ha == pytest.approx(
        doc.e_assembly_ha - sum(doc.e_fragments_ha.values()), abs=1e-10)
    # the transition-state estimate is within a few percent of E(AB) - E(P_0)
    assert abs(terms.ets_error_ha) < 0.03 * abs(terms.e_orb_ha)
    # the listed pairs carry (nearly) all of Tr(F_TS dP)
    assert sum(p.e_ha for p in doc.pairs) == pytest.approx(terms.e_orb_ets_ha, rel=0.02)
    assert terms.e_pauli_ha > 0 > terms.e_elstat_ha and terms.e_orb_ha < 0
    assert abs(doc.functional_check_ha) < 1e-7


def test_ammonia_borane_sigma_donation_trend(ammonia_borane):
    doc, _ = ammonia_borane
    leading = min(doc.pairs, key=lambda p: p.e_ha)
    assert leading.k == 1  # the largest eigenvalue is also the strongest channel
    assert leading.e_ha / doc.terms.e_orb_ets_ha > 0.7  # dominant sigma donation
    assert leading.from_fragments == ["NH3"] and leading.to_fragments == ["BH3"]
    assert leading.charge_flow["BH3"] > 0.2  # about 0.3-0.4 e move in this channel
    # donor orbital: the N lone pair; acceptor orbital: the B-centred empty orbital
    assert max(leading.element_weights_minus, key=leading.element_weights_minus.get) == "N"
    assert leading.element_weights_plus["B"] > leading.element_weights_minus["B"]
    summary = doc.summary(n_pairs=3)
    assert summary["e_orb_kcal_mol"] == pytest.approx(doc.terms.e_orb_ha * HARTREE_TO_KCAL_MOL)
    assert summary["pairs"][0]["from_fragments"] == ["NH3"]


def test_cross_check_against_direct_pyscf(ammonia_borane):
    """E(P_frz) and E_int from PySCF objects built here, independently of the engine."""
    from pyscf import dft, gto

    doc, _ = ammonia_borane

    def mole(atoms):
        return gto.M(atom=[(s, (x, y, z)) for s, x, y, z in atoms], basis="def2-svp",
                     verbose=0)

    def scf(mol):
        mf = dft.RKS(mol, xc="PBE0").density_fit(auxbasis="def2-universal-jkfit")
        mf.grids.level = 1
        mf.conv_tol = 1e-10
        mf.kernel()
        assert mf.converged
        return mf

    mf_a, mf_b, mf_ab = scf(mole(NH3)), scf(mole(BH3)), scf(mole(NH3 + BH3))
    e_int = mf_ab.e_tot - mf_a.e_tot - mf_b.e_tot
    assert doc.terms.e_int_ha == pytest.approx(e_int, abs=1e-6)
    p_a, p_b = mf_a.make_rdm1(), mf_b.make_rdm1()
    p_frz = block_diag(p_a, p_b)
    e_frz = mf_ab.energy_tot(dm=p_frz) - mf_a.e_tot - mf_b.e_tot
    assert doc.terms.e_frozen_ha == pytest.approx(e_frz, abs=1e-6)
    # classical Coulomb energy of the two frozen fragments, from 1/r integrals per nucleus
    mol = mf_ab.mol
    n_a = len(NH3)
    emb_a, emb_b = block_diag(p_a, 0 * p_b), block_diag(0 * p_a, p_b)

    def nuclei(atoms):
        v = 0
        for atom in atoms:
            with mol.with_rinv_at_nucleus(atom):
                v = v - mol.atom_charge(atom) * mol.intor("int1e_rinv")
        return v

    coords = mol.atom_coords()
    e_nn = sum(mol.atom_charge(i) * mol.atom_charge(j) / np.linalg.norm(coords[i] - coords[j])
               for i in range(n_a) for j in range(n_a, mol.natm))
    e_elstat = (e_nn + np.sum(emb_a * nuclei(range(n_a, mol.natm)))
                + np.sum(emb_b * nuclei(range(n_a))) + np.sum(emb_a * mf_ab.get_j(dm=emb_b)))
    assert doc.terms.e_elstat_ha == pytest.approx(e_elstat, abs=1e-6)


def test_terms_vanish_when_fragments_are_pulled_apart(ammonia_borane):
    far = compute_eda(adduct(shift=8.0), FAST)[0].terms
    near = ammonia_borane[0].terms
    for key in ("e_int_ha", "e_elstat_ha", "e_pauli_ha", "e_orb_ha", "e_orb_ets_ha"):
        assert abs(getattr(far, key)) < 2e-4, key  # dipole-dipole tail at 9.7 A
        assert abs(getattr(far, key)) < 0.01 * abs(getattr(near, key)), key
    assert abs(far.e_pauli_ha) < 1e-6 and abs(far.e_orb_ha) < 1e-5


def test_independent_of_atom_and_fragment_order(ammonia_borane):
    doc, _ = ammonia_borane
    mol = adduct()
    order = [5, 0, 7, 2, 4, 1, 6, 3]  # interleave the two fragments
    shuffled = Molecule([mol[i].specie for i in order], [mol[i].coords for i in order],
                        site_properties={"fragment": [fragment_labels(mol)[i] for i in order]})
    swapped = labelled({"BH3": BH3, "NH3": NH3})
    for other in (compute_eda(shuffled, FAST)[0], compute_eda(swapped, FAST)[0]):
        for key in ("e_int_ha", "e_elstat_ha", "e_pauli_ha", "e_orb_ha", "e_orb_ets_ha"):
            assert getattr(other.terms, key) == pytest.approx(getattr(doc.terms, key), abs=2e-7)
        np.testing.assert_allclose([p.e_ha for p in other.pairs[:4]],
                                   [p.e_ha for p in doc.pairs[:4]], atol=1e-6)
        assert other.pairs[0].from_fragments == ["NH3"]


def test_ecp_metal_cation_takes_the_lone_pair():
    silver = labelled({"Ag": [("Ag", 0, 0, 2.15)], "NH3": NH3}, charge=1)
    doc, result = compute_eda(silver, FAST, fragment_charges={"Ag": 1, "NH3": 0})
    assert doc.settings["ecp"] == "auto"
    assert result.fragment_results["Ag"].n_core_ecp == 28  # def2 ECP on Ag
    assert abs(doc.terms.residual_ha) < 1e-8
    assert abs(doc.terms.ets_error_ha) < 0.05 * abs(doc.terms.e_orb_ha)
    leading = min(doc.pairs, key=lambda p: p.e_ha)
    assert leading.from_fragments == ["NH3"] and leading.to_fragments == ["Ag"]
    assert doc.terms.e_int_ha < 0


def test_open_shell_fragment_per_spin():
    """H2O...HO hydrogen bond: the hydroxyl radical (doublet) donates its H."""
    water = [("O", 0, 0, 0), ("H", 0.757, 0, -0.587), ("H", -0.757, 0, -0.587)]
    hydroxyl = [("H", 0, 0, 1.95), ("O", 0, 0, 2.92)]
    pair = labelled({"H2O": water, "OH": hydroxyl}, multiplicity=2)
    doc, result = compute_eda(pair, FAST, fragment_multiplicities={"H2O": 1, "OH": 2})
    assert not result.restricted and [c.spin for c in result.channels] == ["alpha", "beta"]
    for channel in result.channels:
        values = np.sort(channel.eigenvalues)
        np.testing.assert_allclose(values, -values[::-1], atol=1e-8)
    for spin in range(2):
        assert abs(np.trace(result.deformation_density[spin] @ result.overlap)) < 1e-8
    assert abs(doc.terms.residual_ha) < 1e-8 and doc.terms.e_int_ha < 0
    assert abs(doc.terms.ets_error_ha) < 0.05 * abs(doc.terms.e_orb_ha)
    assert {p.spin for p in doc.pairs} == {"alpha", "beta"}
    leading = min(doc.pairs, key=lambda p: p.e_ha)
    assert leading.from_fragments == ["H2O"]  # the water lone pair into the O-H sigma*
    with pytest.raises(InputError, match="spin-flipped"):
        compute_eda(labelled({"H2O": water, "OH": hydroxyl}, charge=1), FAST,
                    fragment_charges={"H2O": 1, "OH": 0})


def test_without_density_fitting_matches_exact_integrals():
    """No DF: same engine path, exact J/K; the sum rules hold and DF changes little."""
    exact = load_preset("fast", device="cpu", density_fit=False)
    doc = compute_eda(adduct(), exact)[0]
    assert abs(doc.terms.residual_ha) < 1e-8
    assert abs(doc.terms.ets_error_ha) < 0.03 * abs(doc.terms.e_orb_ha)
    assert min(doc.pairs, key=lambda p: p.e_ha).to_fragments == ["BH3"]


def test_pcm_terms_use_the_solvated_functional():
    solvated = load_preset("fast", device="cpu", solvent="pcm", basis="sto-3g")
    doc, result = compute_eda(adduct(), solvated)
    assert abs(doc.terms.residual_ha) < 1e-8
    # the assembly's SCF energy is the solvated functional's value of its density
    assert abs(doc.functional_check_ha) < 1e-7
    steps = doc.solvent_steps_ha
    assert set(steps) == {"frozen", "pauli", "orbital"}
    assert doc.terms.e_solv_ha == steps["frozen"] != 0.0
    assert "reaction field" in doc.solvent_convention
    # the solvent part of each step adds up to the change of the solvation free energies
    s_frags = sum(r.solvent_energy for r in result.fragment_results.values())
    assert sum(steps.values()) == pytest.approx(
        result.assembly_result.solvent_energy - s_frags, abs=1e-7)
    with pytest.raises(InputError, match="SMD"):
        compute_eda(adduct(), load_preset("fast", device="cpu", solvent="smd"))


def test_pi_stacked_ethylene_dimer_trend():
    c2h4 = [("C", 0, 0.667, 0), ("C", 0, -0.667, 0), ("H", 0.923, 1.238, 0),
            ("H", -0.923, 1.238, 0), ("H", 0.923, -1.238, 0), ("H", -0.923, -1.238, 0)]
    top = [(s, x, y, z + 3.7) for s, x, y, z in c2h4]
    doc = compute_eda(labelled({"A": c2h4, "B": top}), FAST)[0]
    terms = doc.terms
    assert abs(terms.residual_ha) < 1e-8
    assert terms.e_pauli_ha > abs(terms.e_orb_ha)  # Pauli-dominated without dispersion
    assert abs(terms.e_orb_ha) < abs(ammonia_orb_scale())
    leading = min(doc.pairs, key=lambda p: p.e_ha)
    # symmetric fragments: no net charge transfer between them, channels come in
    # symmetry-related pairs (A->B and B->A)
    net = sum(p.charge_flow["A"] for p in doc.pairs)
    assert abs(net) < 1e-6
    assert abs(leading.charge_flow["A"] + leading.charge_flow["B"]) < 1e-6


def test_water_dimer_hydrogen_bond_trend():
    from superatom.structures.io import read_molecule

    dimer = read_molecule(__import__("pathlib").Path(__file__).parent / "data" /
                          "water_dimer.xyz")
    doc = compute_eda(dimer, FAST)[0]
    assert abs(doc.terms.residual_ha) < 1e-8 and doc.terms.e_int_ha < 0
    leading = min(doc.pairs, key=lambda p: p.e_ha)
    # W1 donates its H (O-H...O), W2 is the lone-pair acceptor: charge goes W2 -> W1
    assert leading.from_fragments == ["W2"] and leading.to_fragments == ["W1"]
    assert leading.e_ha / doc.terms.e_orb_ets_ha > 0.4


def ammonia_orb_scale() -> float:
    """0.01 Ha: an order of magnitude below the dative bond's orbital term (~0.09 Ha)."""
    return 0.01


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(InputError, match="at least two fragments"):
        compute_eda(labelled({"A": NH3}), FAST)
    mol = adduct()
    fragments = split_fragments(mol)
    moved = fragments["NH3"].copy()
    moved.translate_sites(list(range(len(moved))), [0.1, 0, 0])
    with pytest.raises(InputError, match="same positions"):
        run_eda(mol, {"NH3": moved, "BH3": fragments["BH3"]}, fragment_labels(mol), FAST)
    other = compute_eda(mol, load_preset("fast", device="cpu", xc="PBE"))[1].assembly_result
    with pytest.raises(InputError, match="same settings"):
        run_eda(mol, fragments, fragment_labels(mol), FAST, assembly_result=other)


def _xyz(atoms: list[tuple], labels: list[str], charge: int = 0) -> str:
    lines = [str(len(atoms)),
             f"Properties=species:S:1:pos:R:3:fragment:S:1 charge={charge} multiplicity=1"]
    lines += [f"{s} {x:.6f} {y:.6f} {z:.6f} {lab}" for (s, x, y, z), lab in
              zip(atoms, labels, strict=True)]
    return "\n".join(lines) + "\n"


def _read_cube(path) -> tuple[np.ndarray, float]:
    """Values and voxel volume (Bohr^3) of a Gaussian cube file."""
    lines = path.read_text().splitlines()
    natm = abs(int(lines[2].split()[0]))
    axes = np.array([[float(x) for x in lines[3 + k].split()[1:4]] for k in range(3)])
    values = np.array([float(x) for line in lines[6 + natm:] for x in line.split()])
    return values, abs(np.linalg.det(axes))


def test_cli_eda_json_reuse_analyze_and_report(tmp_path):
    import json

    from typer.testing import CliRunner

    from superatom.campaign.report import write_report
    from superatom.cli.main import app
    from superatom.db import open_store

    path = tmp_path / "adduct.xyz"
    path.write_text(_xyz(NH3 + BH3, ["NH3"] * 4 + ["BH3"] * 4))
    db = str(tmp_path / "db")
    args = ["eda", str(path), "-p", "fast", "-s", "device=cpu", "--db", db, "--json",
            "--name", "ammonia-borane", "--pairs", "2", "--cubes", str(tmp_path / "cubes")]
    runner = CliRunner()
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    for key in ("e_int_kcal_mol", "e_elstat_kcal_mol", "e_pauli_kcal_mol", "e_orb_kcal_mol",
                "e_orb_ets_kcal_mol"):
        assert isinstance(data[key], float)
    assert data["e_int_kcal_mol"] == pytest.approx(
        data["e_elstat_kcal_mol"] + data["e_pauli_kcal_mol"] + data["e_orb_kcal_mol"],
        abs=1e-6)
    top = data["pairs"][0]
    assert set(top) >= {"nu", "e_kcal_mol", "from_fragments", "to_fragments"}
    assert top["from_fragments"] == ["NH3"] and top["to_fragments"] == ["BH3"]
    # the cube of the donation pair integrates to zero net charge (a deformation density)
    cube = tmp_path / "cubes" / "nocv_restricted_1.cube"
    assert data["cubes"][0] == str(cube)
    values, voxel = _read_cube(cube)
    assert abs(values.sum() * voxel) < 0.03 < np.abs(values).sum() * voxel
    # a second run reuses the stored SCFs and the decomposition
    again = json.loads(runner.invoke(app, args[:-2]).stdout)
    assert again["e_orb_kcal_mol"] == data["e_orb_kcal_mol"]
    store = open_store(db)
    store.connect()
    reused = store.query_one({"uuid": again["uuid"]}, properties=["output"])["output"]
    assert reused["reused_from"] == data["uuid"]
    # analyze shows the decomposition of the stored interaction
    interaction = store.query_one({"output.doc_type": "interaction"}, properties=["uuid"])
    shown = runner.invoke(app, ["analyze", interaction["uuid"], "--what", "eda", "--json",
                                "--db", db])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["e_int_kcal_mol"] == pytest.approx(data["e_int_kcal_mol"])
    table = runner.invoke(app, ["analyze", data["uuid"][:8], "--what", "eda", "--db", db])
    assert "Pauli" in table.stdout and "kcal/mol" in table.stdout and "NH3 -> BH3" in table.stdout
    # ambiguous fragment charges: one line saying which option to give
    ions = tmp_path / "nacl.xyz"
    ions.write_text(_xyz([("Na", 0, 0, 0), ("Cl", 0, 0, 2.4)], ["Na", "Cl"]))
    bad = runner.invoke(app, ["eda", str(ions), "-p", "fast", "--db", db])
    assert bad.exit_code == 1
    assert len(bad.output.strip().splitlines()) == 1 and "--fragment-charge" in bad.output
    # the campaign report has an EDA section with its figure
    report = write_report(store, campaign=None, out_dir=tmp_path / "report", dos=False,
                          data={"systems": [], "interactions": [], "chains": [],
                                "edas": [{"uuid": data["uuid"], **store.query_one(
                                    {"uuid": data["uuid"]}, properties=["output"])["output"]}]})
    summary = (tmp_path / "report" / "summary.md").read_text()
    # Markdown text is HTML-escaped, so the route renders as "NH3 -> BH3"
    assert "Energy decomposition" in summary and "NH3 -&gt; BH3" in summary
    assert (tmp_path / "report" / "eda_ammonia-borane.png").stat().st_size > 10_000
    assert any(f.endswith("eda_ammonia-borane.svg") for f in report["files"])


def test_interaction_flow_step_uses_the_flow_scfs_and_is_reused(tmp_path):
    from jobflow import run_locally

    from superatom.db import open_store
    from superatom.schemas.eda import EDADoc
    from superatom.workflows.frontier import FrontierOrbitalMaker
    from superatom.workflows.interaction import InteractionFlowMaker
    from superatom.workflows.xtb import XtbFrontierMaker

    store = open_store(tmp_path / "db")
    maker = InteractionFlowMaker(frontier_maker=FrontierOrbitalMaker(settings=FAST))
    flow = maker.make(adduct())
    run_locally(flow, store=store, log=False, ensure_success=True)
    jobs = {job.name: job for job in flow.jobs}
    store.connect()
    doc = EDADoc.model_validate(
        store.query_one({"uuid": jobs["energy decomposition"].uuid})["output"])
    frontier = {name: store.query_one({"uuid": jobs[name].uuid}, properties=["output"])
                ["output"] for name in ("frontier NH3", "frontier BH3", "frontier assembly")}
    # linked to the flow's own SCFs by uuid and input hash
    assert doc.assembly_uuid == jobs["frontier assembly"].uuid
    assert doc.fragment_uuids == {"NH3": jobs["frontier NH3"].uuid,
                                  "BH3": jobs["frontier BH3"].uuid}
    assert doc.assembly_input_hash == frontier["frontier assembly"]["input_hash"]
    assert doc.fragment_input_hashes["BH3"] == frontier["frontier BH3"]["input_hash"]
    assert doc.e_assembly_ha == frontier["frontier assembly"]["e_tot_ha"]
    # the same decomposition as a standalone run that converges its own SCFs
    alone = compute_eda(adduct(), FAST)[0].terms
    for key in ("e_int_ha", "e_elstat_ha", "e_pauli_ha", "e_orb_ha"):
        assert getattr(doc.terms, key) == pytest.approx(getattr(alone, key), abs=2e-7)
    # a second flow reuses the stored decomposition by its input hash
    again = maker.make(adduct())
    run_locally(again, store=store, log=False, ensure_success=True)
    second = store.query_one({"uuid": again.jobs[-1].uuid})["output"]
    assert second["reused_from"] == jobs["energy decomposition"].uuid
    # off on request, and refused where it cannot run
    assert "energy decomposition" not in [
        j.name for j in InteractionFlowMaker(frontier_maker=FrontierOrbitalMaker(settings=FAST),
                                             eda=False).make(adduct()).jobs]
    with pytest.raises(InputError, match="DFT frontier Maker"):
        InteractionFlowMaker(frontier_maker=XtbFrontierMaker(), eda=True).make(adduct())
    h2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]],
                  site_properties={"fragment": ["A", "B"]})
    assert len(InteractionFlowMaker(frontier_maker=FrontierOrbitalMaker(settings=FAST)).make(
        h2).jobs) == 4  # two H atoms (doublets) in a singlet: no decomposition by default

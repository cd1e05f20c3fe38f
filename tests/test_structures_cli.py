from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from superatom.cli.build import register
from superatom.errors import InputError
from superatom.structures.io import read_molecule
from superatom.structures.registry import KINDS, build_structure, list_kinds


@pytest.fixture(scope="module")
def app():
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root():
        """test root"""

    return app


def test_registry_lists_all_kinds_and_checks_options():
    expected = {"keggin", "lindqvist", "dawson", "anderson", "substituted", "dimer",
                "clusterphene", "ca-chain", "ti10cu2", "ti10cu2-chain", "au25",
                "crystal"}  # fmt: skip
    assert set(list_kinds()) == expected == set(KINDS)
    assert build_structure("keggin", option_strings=["heteroatom=Ge"]).charge == -4
    assert build_structure("substituted", metal="none").charge == -7
    assert build_structure("dimer", type="ca").charge == -4
    assert build_structure("dawson", substituent="Ce").spin_multiplicity == 2
    with pytest.raises(InputError, match="unknown option 'foo' for kind 'keggin'"):
        build_structure("keggin", foo=1)
    with pytest.raises(InputError, match="must be int"):
        build_structure("clusterphene", option_strings=["n=three"])
    with pytest.raises(InputError, match="unknown structure kind"):
        build_structure("buckyball")


def test_cli_writes_extxyz_with_labels(app, tmp_path):
    out = tmp_path / "cp.xyz"
    args = ["build", "clusterphene", "--ln", "Gd", "--n-units", "2", "-o", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    mol = read_molecule(out)
    assert mol.charge == -8 and mol.spin_multiplicity == 15
    assert set(mol.site_properties["fragment"]) == {"PW11Gd#0", "PW11Gd#1"}


def test_cli_json_and_typed_options(app):
    res = CliRunner().invoke(app, ["build", "keggin", "--heteroatom", "Si", "--metal", "Mo",
                                   "-O", "isomer=beta", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info == {"formula": "SiMo12O40", "charge": -4, "multiplicity": 1, "n_atoms": 53,
                    "fragments": {"SiMo12#0": 53}}  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "keggin", "--ln", "Gd", "--json"], "error: --ln does not apply to kind"),
        (["build", "keggin", "-O", "isomer=gamma", "--json"], "must be one of alpha, beta"),
        (["build", "keggin", "-O", "isomer", "--json"], "must be key=value"),
        (["build", "nothing", "--json"], "error: unknown structure kind 'nothing'"),
        (["build", "keggin"], "error: nothing to do"),
        (["build", "substituted", "--metal", "Xx", "--json"], "error: unknown transition metal"),
    ],
)
def test_cli_errors_exit_1_with_one_line(app, args, message):
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 1
    text = res.output.strip()
    assert message in text and len(text.splitlines()) == 1


def test_cli_list_and_png(app, tmp_path):
    res = CliRunner().invoke(app, ["build", "--list"])
    assert res.exit_code == 0 and "clusterphene" in res.output and "ti10cu2-chain" in res.output
    png = tmp_path / "w6.png"
    res = CliRunner().invoke(app, ["build", "lindqvist", "--png", str(png)])
    assert res.exit_code == 0, res.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_relax_and_crystal(app, tmp_path):
    from ase import Atoms

    res = CliRunner().invoke(app, ["build", "lindqvist", "--metal", "Mo", "--relax", "--steps",
                                   "2", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["xtb"]["steps"] <= 2 and info["xtb"]["gap_ev"] > 2
    box = Atoms("OH2", positions=[[0.1, 0.1, 0], [-0.66, 0.7, 0], [0.87, 0.7, 0]],
                cell=[6, 6, 6], pbc=True)  # fmt: skip
    box.wrap()
    cif = tmp_path / "w.cif"
    box.write(cif)
    res = CliRunner().invoke(app, ["build", "crystal", "-O", f"file={cif}", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["formula"] == "H2O"
    res = CliRunner().invoke(app, ["build", "crystal", "--json"])
    assert res.exit_code == 1 and "needs the option file=PATH" in res.output


@pytest.mark.parametrize("kind", sorted(k for k in KINDS if k != "crystal"))
def test_every_kind_builds_with_defaults_and_validates(kind):
    from superatom.structures.validate import validate_structure

    mol = build_structure(kind)
    report = validate_structure(mol, require_fragments=True)
    assert report["n_atoms"] == len(mol) and sum(report["fragments"].values()) == len(mol)
    nelec = sum(s.specie.Z for s in mol) - mol.charge
    assert (nelec + mol.spin_multiplicity - 1) % 2 == 0

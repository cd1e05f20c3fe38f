"""No code runs from inputs: basis 'names' that are files (NWChem text PySCF would ``eval``)
and names with newlines that would become lines of a batch script."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from jobflow import Flow, job
from typer.testing import CliRunner

from superatom.calc_settings import load_preset
from superatom.cli.main import app
from superatom.errors import InputError
from superatom.names import batch_safe, check_name

DATA = Path(__file__).parent / "data"
runner = CliRunner()


@pytest.fixture
def crafted(tmp_path):
    """An NWChem-format basis file whose coefficient line creates ``marker`` when evaluated."""
    marker = tmp_path / "marker"
    path = tmp_path / "evil.nw"
    payload = f"__import__('pathlib').Path('{marker}').touch(),1.0"
    assert " " not in payload and "D" not in payload  # PySCF splits on blanks, maps D -> e
    path.write_text(f"BASIS \"ao basis\" PRINT\nH    S\n  {payload}\nO    S\n  {payload}\nEND\n")
    return path, marker


def _one_error_line(result) -> str:
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_the_crafted_file_does_run_code_in_plain_pyscf(crafted):
    """Control: PySCF's own parser, as shipped, executes the payload (in a child process)."""
    path, marker = crafted
    code = f"from pyscf import gto\ngto.basis.load({str(path)!r}, 'H')\n"
    subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert marker.exists()


def test_run_with_a_basis_file_is_refused_and_runs_nothing(tmp_path, crafted, monkeypatch):
    path, marker = crafted
    result = runner.invoke(app, ["run", str(DATA / "water.xyz"), "-p", "fast", "--db",
                                 str(tmp_path / "db"), "--set", f"basis={path}"])
    assert "basis" in _one_error_line(result)
    monkeypatch.chdir(path.parent)  # a bare name that happens to be a file here
    for key in ("basis", "aux_basis", "fallback_basis", "ecp"):
        result = runner.invoke(app, ["run", str(DATA / "water.xyz"), "-p", "fast", "--db",
                                     str(tmp_path / "db"), "--set", f"{key}={path.name}"])
        assert key in _one_error_line(result)
    assert not marker.exists()


@pytest.mark.parametrize("where", ["campaign", "system"])
@pytest.mark.parametrize("dry_run", [True, False])
def test_campaign_basis_file_never_evaluated(tmp_path, crafted, where, dry_run, monkeypatch):
    path, marker = crafted
    monkeypatch.chdir(path.parent)
    (tmp_path / "water.xyz").write_text((DATA / "water.xyz").read_text())
    settings = f"{{basis: {path.name}}}"
    text = textwrap.dedent(f"""
        name: attack
        preset: fast
        {'settings: ' + settings if where == 'campaign' else ''}
        systems:
          - name: water
            file: water.xyz
            tier: dft
            {'settings: ' + settings if where == 'system' else ''}
    """)
    (tmp_path / "c.yaml").write_text(text)
    args = ["screen", "c.yaml", "--db", str(tmp_path / "db")] + (["--dry-run"] if dry_run else [])
    _one_error_line(runner.invoke(app, args))
    assert not marker.exists()
    assert not (tmp_path / "attack_report").exists()


def test_engine_refuses_file_basis_and_parsers_never_eval(crafted, monkeypatch):
    from pymatgen.core import Molecule
    from pyscf import gto

    from superatom import engine
    from superatom.engine.checks import disable_pyscf_eval

    path, marker = crafted
    monkeypatch.chdir(path.parent)
    water = Molecule(["O", "H", "H"], [[0, 0, 0], [0, 0.757, 0.587], [0, -0.757, 0.587]])
    with pytest.raises(InputError, match="names a file"):
        engine.build_mole(water, load_preset("fast", basis=path.name))
    with pytest.raises(InputError, match="basis"):
        load_preset("fast", basis=str(path))  # a path is not a basis name
    disable_pyscf_eval()  # defence in depth: even a direct parse refuses to evaluate
    with pytest.raises(Exception):  # noqa: B017 (PySCF raises ValueError or its own error)
        gto.basis.load(str(path), "H")
    assert not marker.exists()


STO3G_H = """BASIS "ao basis" PRINT
H    S
      3.42525091             0.15432897
      0.62391373             0.53532814
      0.16885540             0.44463454
END
"""
H2 = "2\n\nH 0 0 0\nH 0 0 0.74\n"


@pytest.mark.parametrize("setting", ["basis=evilbas@1s", "aux_basis=evilbas@1s",
                                     "basis=uncevilbas", "aux_basis=UNCevilbas@1s",
                                     "fallback_basis=evilbas@1s", "ecp=evilbas"])
def test_names_pyscf_resolves_to_a_file_are_refused(tmp_path, monkeypatch, setting):
    """PySCF strips 'unc' and '@1s' before it looks for a file: the check sees that name."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evilbas").write_text(STO3G_H)  # a valid NWChem basis, read if not refused
    (tmp_path / "h2.xyz").write_text(H2)
    result = runner.invoke(app, ["run", "h2.xyz", "-p", "fast", "-s", "device=cpu", "-s",
                                 setting, "--db", str(tmp_path / "db")])
    line = _one_error_line(result)
    assert setting.split("=")[0] in line and "names a file" in line
    assert not (tmp_path / "db").exists()


def test_contraction_suffix_keeps_its_ecp_and_malformed_ones_are_refused():
    from superatom.engine.mole import basis_plan

    for basis in ("def2-svp@3s2p1d", "unc-def2-svp"):
        assert basis_plan(["W", "O"], load_preset("fast", basis=basis))[1] == {"W": "def2-svp"}
    for basis in ("def2-svp@1s@2p", "def2-svp@", "@1s", "def2-svp@xyz"):
        with pytest.raises(InputError, match="basis"):
            load_preset("fast", basis=basis)


def test_the_method_label_names_a_non_default_aux_basis(tmp_path):
    import json

    (tmp_path / "h2.xyz").write_text(H2)
    labels = []
    for aux in ("def2-universal-jkfit", "def2-svp-jkfit"):
        result = runner.invoke(app, ["run", str(tmp_path / "h2.xyz"), "-p", "fast", "-s",
                                     "device=cpu", "-s", f"aux_basis={aux}", "--db",
                                     str(tmp_path / "db"), "--json"])
        assert result.exit_code == 0, result.output
        labels.append(json.loads(result.stdout)["method"])
    assert labels == ["RKS-PBE0/def2-svp DF", "RKS-PBE0/def2-svp DF(def2-svp-jkfit)"]


# --------------------------------------------------------------------------- names

BAD_NAMES = ["a\n#SBATCH --mem=1T", "x\rrm -rf ~", "../../etc", "a/b", "", "n" * 500, "tab\there"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_are_refused_everywhere_they_enter(tmp_path, name):
    from superatom.campaign.spec import load_campaign
    from superatom.schemas.documents import FrontierOrbitalDoc

    with pytest.raises(InputError):
        check_name(name)
    import yaml

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"name": name, "systems": [
        {"name": "w", "file": str(DATA / "water.xyz")}]}))
    with pytest.raises(InputError) as info:
        load_campaign(path)
    assert "\n" not in str(info.value)
    path.write_text(yaml.safe_dump({"name": "ok", "systems": [
        {"name": name, "file": str(DATA / "water.xyz")}]}))
    with pytest.raises(InputError):
        load_campaign(path)
    from superatom.structures.io import read_molecule

    with pytest.raises(InputError):  # Python API: labels of a stored document
        FrontierOrbitalDoc.describe(read_molecule(DATA / "water.xyz"), {"name": name})
    result = runner.invoke(app, ["run", str(DATA / "water.xyz"), "--name", name, "--db",
                                 str(tmp_path / "db")])
    _one_error_line(result)


def test_python_api_maker_refuses_a_name_with_a_newline(tmp_path):
    from jobflow import run_locally

    from superatom.db import open_store
    from superatom.structures.io import read_molecule
    from superatom.workflows.frontier import FrontierOrbitalMaker

    store = open_store(tmp_path / "db")
    maker = FrontierOrbitalMaker(preset="fast", metadata={"name": "w\n#SBATCH -p x"},
                                 settings_overrides={"device": "cpu"})
    job_ = maker.make(read_molecule(DATA / "water.xyz"))
    with pytest.raises(InputError, match="control character"):
        run_locally(job_, store=store, log=False, raise_immediately=True)
    store.connect()
    assert store.count({}) == 0


@job
def _noop():
    return 1


def test_no_name_reaches_a_batch_script_line(tmp_path):
    """The job name of a queued flow is cleaned; qtoolkit's SLURM header then has no extra
    line (the attack: text after a newline runs as a script line)."""
    from jobflow_remote.remote.queue import set_name_out
    from qtoolkit.io.slurm import SlurmIO

    from superatom.hpc.mockstore import reset_shared_mongomock
    from superatom.hpc.project import make_project
    from superatom.hpc.submit import get_job_controller, submit_flow

    attack = "w\ntouch /tmp/pwned #"
    one = _noop()
    one.name = attack
    project = make_project("inject-test", tmp_path / "runs", scheduler="slurm",
                           partition="debug", base_dir=tmp_path / "jfr")
    try:
        submit_flow(Flow([one]), project)
        controller = get_job_controller(project)
        try:
            names = [info.name for info in controller.get_jobs_info()]
        finally:
            controller.close()
    finally:
        reset_shared_mongomock("inject-test")
    assert names == [batch_safe(attack)] and "\n" not in names[0]
    options: dict = {}
    set_name_out(options, names[0])
    script = SlurmIO().get_submission_script(["superatom --help"], options)
    assert not any(line.startswith("touch") for line in script.splitlines())
    assert sum("pwned" in line for line in script.splitlines()) <= 1
    for value in ("gpu\n#SBATCH --mem=1T", "a\rb"):
        with pytest.raises(InputError, match="control character"):
            make_project("x", tmp_path / "runs", scheduler="slurm", partition=value)
    with pytest.raises(InputError):
        make_project("bad name\n", tmp_path / "runs", scheduler="slurm")


def test_batch_safe_keeps_only_inert_characters():
    assert batch_safe("PW12O40 dimer n=2") == "PW12O40_dimer_n=2"
    assert all(c.isalnum() or c in "._+=,-" for c in batch_safe("".join(map(chr, range(256)))))
    assert os.sep not in batch_safe("../../x")

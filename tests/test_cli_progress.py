"""Live progress: per-cycle SCF callback (checked against PySCF's own cycle energies), the
streamed `superatom run --verbose` lines, per-job log files, and the screen runner's
job-start/finish reporting on a terminal and into a pipe."""

from __future__ import annotations

import json
import logging
import re

import pytest
from jobflow import Flow, job
from pyscf import dft, gto
from rich.progress import Progress
from typer.testing import CliRunner

from superatom.calc_settings import load_preset
from superatom.cli import common
from superatom.cli.main import app
from superatom.cli.screen import JobProgress, _run_with_progress
from superatom.db import open_store
from superatom.engine.scf import run_scf
from tests.molecules import water

runner = CliRunner()
CYCLE = re.compile(r"SCF cycle +(\d+) +E = (-?\d+\.\d+) Ha")


def pyscf_cycle_energies(molecule) -> list[float]:
    """Energy after every cycle of a plain PySCF RKS with the fast preset's settings."""
    m = gto.M(atom=[(s.specie.symbol, tuple(s.coords)) for s in molecule], basis="def2-svp",
              verbose=0)
    mf = dft.RKS(m, xc="PBE0").density_fit(auxbasis="def2-universal-jkfit")
    mf.grids.level = 1
    mf.conv_tol = 1e-8
    energies = []
    mf.callback = lambda envs: energies.append(envs["e_tot"])
    mf.kernel()
    return energies


def test_progress_callback_sees_every_cycle_as_pyscf_does():
    seen = []
    result = run_scf(water(), load_preset("fast", device="cpu"),
                     progress=lambda *args: seen.append(args))
    reference = pyscf_cycle_energies(water())
    assert [c for c, _, _ in seen] == list(range(1, len(seen) + 1))
    assert len(seen) == len(reference)
    assert [e for _, e, _ in seen] == pytest.approx(reference, abs=1e-7)
    assert seen[-1][1] == pytest.approx(result.e_tot, abs=1e-9)
    assert abs(seen[-1][2]) < 1e-7  # converged: the last change is tiny


def test_run_streams_cycles_and_writes_the_job_log(tmp_path):
    path = tmp_path / "water.xyz"
    path.write_text(water().to(fmt="xyz"))
    db = tmp_path / "db"
    result = runner.invoke(app, ["run", str(path), "-p", "fast", "-s", "device=cpu", "-d",
                                 str(db), "-v"])
    assert result.exit_code == 0, result.output
    streamed = [m for m in map(CYCLE.search, result.stdout.splitlines()) if m]
    assert len(streamed) >= 5
    logs = list((db / "logs").glob("*.log"))
    assert len(logs) == 1
    logged = [m for m in map(CYCLE.search, logs[0].read_text().splitlines()) if m]
    assert len(logged) == len(streamed)
    assert float(logged[-1][2]) == pytest.approx(float(streamed[-1][2]), abs=1e-7)
    assert "done: E =" in logs[0].read_text()

    own = tmp_path / "job.log"  # --log puts it where asked; JSON stays clean JSON
    data = json.loads(runner.invoke(app, ["run", str(path), "-p", "fast", "-s", "device=cpu",
                                          "-d", str(db), "--force", "--json", "--log",
                                          str(own)]).stdout)
    assert data["log"] == str(own) and CYCLE.search(own.read_text())
    stored = open_store(db)
    stored.connect()
    doc = stored.query_one({"uuid": data["uuid"]}, properties=["output.scf_cycles"])
    assert len(CYCLE.findall(own.read_text())) == doc["output"]["scf_cycles"]


@job
def add(a: float, b: float) -> float:
    return a + b


def tiny_flow() -> Flow:
    first = add(1, 2)
    first.name = "first sum"
    second = add(first.output, 3)
    second.name = "second sum"
    return Flow([first, second])


def test_screen_prints_one_line_per_job_start_and_finish_when_piped(tmp_path, capsys,
                                                                    monkeypatch):
    monkeypatch.setattr(common, "stdout_is_terminal", lambda: False)
    summary = _run_with_progress(tiny_flow(), open_store(tmp_path / "db"), "demo",
                                 str(tmp_path / "db"), as_json=False)
    assert summary.completed == 2
    lines = [line.split(" ", 1)[1] for line in capsys.readouterr().out.splitlines()]
    assert [line.split(" (")[0] for line in lines] == [
        "start  first sum", "completed first sum", "start  second sum",
        "completed second sum"]


def test_terminal_bar_names_the_running_job(tmp_path):
    with Progress() as progress:
        task = progress.add_task("campaign", total=2)
        watcher = JobProgress(progress, task, tmp_path / "logs", quiet=False)
        watcher.start("frontier W1", "u1")
        assert progress.tasks[0].description == "running frontier W1"
        logging.getLogger("superatom.engine.scf").info(
            "cycle", extra={"scf_cycle": (3, -76.25, -1.0e-3)})  # as run_scf logs a cycle
        assert progress.tasks[0].description.startswith("running frontier W1: SCF cycle   3")
        watcher.done("frontier W1", "completed")
        assert progress.tasks[0].completed == 1
        watcher.stack.close()
    assert (tmp_path / "logs" / "u1.log").exists()

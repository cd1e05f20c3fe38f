"""SIGTERM (kill, scancel, a walltime) ends a CLI command as an exit: no scratch file is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

SUPERATOM = str(Path(sys.executable).parent / "superatom")


def test_sigterm_during_an_scf_removes_the_density_fitting_file(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    geometry = tmp_path / "mo6o19.xyz"
    subprocess.run([SUPERATOM, "build", "lindqvist", "--metal", "Mo", "-o", str(geometry)],
                   check=True, capture_output=True)
    env = {**os.environ, "TMPDIR": str(scratch), "PYSCF_TMPDIR": str(scratch),
           "OMP_NUM_THREADS": "1", "SUPERATOM_CHECKPOINT_DIR": str(tmp_path / "chk")}
    # a 100 MB budget sends the DF tensor to a file in TMPDIR, as on a large unit
    process = subprocess.Popen(
        [SUPERATOM, "run", str(geometry), "-p", "fast", "-s", "max_memory_mb=100",
         "--db", str(tmp_path / "db")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(scratch.iterdir()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no DF file appeared in TMPDIR"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 143
    assert "terminated (SIGTERM)" in stderr
    assert list(scratch.iterdir()) == []


def test_calling_the_app_in_process_keeps_the_callers_sigterm_handler():
    from typer.testing import CliRunner

    from superatom.cli.main import app

    before = signal.getsignal(signal.SIGTERM)
    result = CliRunner().invoke(app, ["presets"])
    assert result.exit_code == 0
    assert signal.getsignal(signal.SIGTERM) is before

"""Kill trials: a campaign killed (SIGKILL or SIGTERM) at random moments, again and again,
then run to the end, leaves a complete, unduplicated and resumable store."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from superatom.db import open_store
from superatom.db.reuse import arrays_present

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
TRIALS = 24

CAMPAIGN = """
name: kills
preset: fast
settings: {device: cpu}
systems:
  - {name: h2, file: h2.xyz}
  - {name: lih, file: lih.xyz}
  - {name: water, file: water.xyz}
  - {name: water-dimer, file: water_dimer.xyz, system_class: dimer}
  - {name: hf, file: hf.xyz}
  - {name: n2, file: n2.xyz}
  - {name: co, file: co.xyz}
  - {name: hcn, file: hcn.xyz}
interactions:
  - {name: water-dimer, system: water-dimer}
"""


DIATOMICS = {"h2": ("H", "H", 0.74), "lih": ("Li", "H", 1.6), "hf": ("H", "F", 0.92),
             "n2": ("N", "N", 1.10), "co": ("C", "O", 1.13)}


def _screen(folder: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "superatom.cli.main", "screen", "kills.yaml", "--db", "db",
         "--json"],
        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
             "SUPERATOM_CHECKPOINT_DIR": str(folder / "chk")})


def _data_blobs(store) -> int:
    return store.additional_stores["data"].count({})


@pytest.mark.slow
def test_random_kills_leave_a_complete_unduplicated_resumable_store(tmp_path):
    for folder in (tmp_path / "timing", tmp_path / "trials"):
        folder.mkdir()
        for name in ("water.xyz", "water_dimer.xyz"):
            shutil.copy(DATA / name, folder / name)
        for name, (a, b, r) in DIATOMICS.items():
            (folder / f"{name}.xyz").write_text(f"2\n\n{a} 0 0 0\n{b} 0 0 {r}\n")
        (folder / "hcn.xyz").write_text("3\n\nH 0 0 -1.066\nC 0 0 0\nN 0 0 1.156\n")
        (folder / "kills.yaml").write_text(CAMPAIGN)
    start = time.monotonic()  # how long one uninterrupted run takes here
    timing = _screen(tmp_path / "timing")
    assert timing.wait(timeout=300) == 0, timing.stderr.read()
    span = time.monotonic() - start
    tmp_path = tmp_path / "trials"

    rng = random.Random(2026)
    killed = 0
    for _ in range(TRIALS):
        process = _screen(tmp_path)
        try:
            process.wait(timeout=rng.uniform(0.3, span))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, rng.choice([signal.SIGKILL, signal.SIGTERM]))
            process.wait(timeout=60)
            killed += 1
    assert killed >= TRIALS // 2  # most trials really were cut short
    store = open_store(tmp_path / "db")
    store.connect()
    before = store.count({"output.reused_from": None, "output.input_hash": {"$exists": True}})
    print(f"{killed}/{TRIALS} trials killed; {before} results stored before the final run")

    final = _screen(tmp_path)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    summary = json.loads(out)
    assert summary["failed"] == [] and summary["skipped"] == []

    docs = list(store.query({"output.input_hash": {"$exists": True}},
                            properties=["uuid", "output"]))
    # complete: every visible document has its arrays, and loads
    for doc in docs:
        assert arrays_present(store, doc["output"])
        assert store.query_one({"uuid": doc["uuid"]}, load=True)["output"]
    # unduplicated: each input computed once, at most one reuse record per label
    computed = Counter(d["output"]["input_hash"] for d in docs if not d["output"]["reused_from"])
    assert computed and max(computed.values()) == 1
    records = Counter((d["output"]["input_hash"], d["output"]["name"], d["output"]["campaign"])
                      for d in docs if d["output"]["reused_from"])
    assert not records or max(records.values()) == 1
    # resumable: one more run reuses everything and adds no arrays; no checkpoint is left
    blobs = _data_blobs(store)
    again = _screen(tmp_path)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert json.loads(out)["completed"] == 1  # only the interaction analysis is recomputed
    assert _data_blobs(store) == blobs
    assert not list((tmp_path / "chk").glob("*.chk"))
    report = (tmp_path / "kills_report" / "summary.csv").read_text().splitlines()
    assert len(report) == 1 + 10  # 8 systems + the 2 monomers of the dimer

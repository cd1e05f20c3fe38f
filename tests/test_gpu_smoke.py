"""``benchmarks/gpu_smoke.py`` in its CPU toy mode: every stage runs and writes its line."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_smoke.py"
QUICK = ["environment", "water_rks", "smd_refused", "ladder_rks", "checkpoint_restart",
         "gdf3_octet"]


def _smoke():
    spec = importlib.util.spec_from_file_location("gpu_smoke", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_smoke"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _run(tmp_path, stages: list[str] | None, module=None) -> tuple[int, dict[str, dict]]:
    module = module or _smoke()
    out = tmp_path / "smoke.jsonl"
    argv = ["--toy", "--out", str(out)] + (["--stages", ",".join(stages)] if stages else [])
    code = module.main(argv)
    lines = [json.loads(text) for text in out.read_text().splitlines()]
    return code, {line["stage"]: line for line in lines}


def _common(line: dict) -> None:
    assert line["toy"] is True and line["wall_s"] > 0 and line["peak_host_gb"] > 0
    assert line["peak_gpu_gb"] is None  # toy mode is CPU only


def test_quick_stages(tmp_path):
    code, lines = _run(tmp_path, QUICK)
    assert code == 0 and list(lines) == QUICK
    for line in lines.values():
        assert line["ok"], line.get("error")
        _common(line)
    env = lines["environment"]
    assert env["versions"]["pyscf"] >= "2.14" and env["device"] == "cpu"
    water = lines["water_rks"]
    assert water["device"] == "cpu" and "cores" in water["device_name"]
    assert water["abs_de_ha"] < 1e-8 and water["speedup"] > 0  # CPU against CPU in toy mode
    assert water["n_electrons"] == 10 and water["homo_ev"] < 0 < water["lumo_ev"]
    assert lines["smd_refused"]["refused"] and "(Mo)" in lines["smd_refused"]["message"]
    assert lines["ladder_rks"]["rungs"][:2] == ["diis", "level_shift+damping"]
    restart = lines["checkpoint_restart"]
    assert restart["restart_cycles"] < restart["first_cycles"] and restart["abs_de_ha"] < 1e-8
    assert lines["gdf3_octet"]["guards"] == "passed"


def test_failed_stage_is_written_and_the_run_goes_on(tmp_path):
    module = _smoke()

    def broken(ctx):
        raise RuntimeError("CUDA Error: out of resources\nsecond line")

    module.STAGES["water_rks"] = broken
    code, lines = _run(tmp_path, ["water_rks", "smd_refused"], module)
    assert code == 1
    assert lines["water_rks"]["ok"] is False
    assert lines["water_rks"]["error"] == "RuntimeError: CUDA Error: out of resources"
    assert lines["smd_refused"]["ok"] is True


def test_unknown_stage_is_refused():
    with pytest.raises(SystemExit):
        _smoke().main(["--toy", "--stages", "water,nope"])


@pytest.mark.slow
def test_every_stage_in_toy_mode(tmp_path):
    module = _smoke()
    code, lines = _run(tmp_path, None, module)
    assert code == 0 and list(lines) == list(module.STAGES)
    for line in lines.values():
        assert line["ok"], (line["stage"], line.get("error"))
        _common(line)
    for name in ("water_rks", "o2_uks", "moo4_pcm", "o2_uks_df_pcm", "w6o19_pair"):
        assert lines[name]["abs_de_ha"] < 1e-7 and lines[name]["speedup"] > 0
    assert lines["o2_uks"]["scf_state"]["n_alpha"] - lines["o2_uks"]["scf_state"]["n_beta"] == 2
    assert lines["ladder_uks"]["rungs"][0] == "diis" and len(lines["ladder_uks"]["rungs"]) >= 2
    guess = lines["superposition_guess"]
    assert guess["cycles"] <= guess["default_cycles"] and guess["abs_de_ha"] < 1e-6
    for name in ("tda_gas", "tda_pcm"):
        assert lines[name]["max_abs_de_ev"] < 1e-6 and len(lines[name]["energies_ev"]) == 3
    screen = lines["pw12_screen"]
    assert screen["homo_negative"] and screen["electron_count_ok"]
    assert screen["abs_de_df_ha"] < 1e-3  # density fitting against direct SCF
    assert lines["la_pw11"]["n_core_ecp"] == 46  # La def2 ECP: 46 core electrons

from __future__ import annotations

import pytest

from superatom.calc_settings import CalcSettings, available_presets, load_preset, parse_overrides
from superatom.errors import InputError


def test_presets_shipped_and_distinct():
    assert set(available_presets()) >= {"screening", "production", "gas", "fast"}
    screening = load_preset("screening")
    assert (screening.xc, screening.basis, screening.solvent) == ("PBE0", "def2-svp", "pcm")
    assert screening.density_fit and screening.ecp == "auto"
    assert load_preset("production").basis == "def2-tzvp"
    assert load_preset("gas").solvent == "none"
    assert load_preset("fast").grids_level < screening.grids_level


def test_overrides_and_unknown_keys():
    assert load_preset("fast", xc="B3LYP").xc == "B3LYP"
    with pytest.raises(InputError, match="unknown setting 'colour'"):
        load_preset("fast", colour="red")
    with pytest.raises(InputError, match="invalid setting 'grids_level'"):
        load_preset("fast", grids_level=42)
    with pytest.raises(InputError, match="unknown preset 'nope'"):
        load_preset("nope")


def test_parse_overrides_types():
    assert parse_overrides(["grids_level=2", "density_fit=false", "solvent_eps=4.5"]) == {
        "grids_level": 2, "density_fit": False, "solvent_eps": 4.5}
    with pytest.raises(InputError, match="key=value"):
        parse_overrides(["xc"])


def test_fingerprint_ignores_device_only():
    base = CalcSettings()
    assert base.fingerprint() == CalcSettings(device="gpu", max_memory_mb=9000).fingerprint()
    assert base.fingerprint() != CalcSettings(xc="PBE").fingerprint()
    assert base.spin_treatment(1) == "RKS" and base.spin_treatment(2) == "UKS"

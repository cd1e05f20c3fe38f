"""Calculation settings: one validated model plus YAML presets.

Examples
--------
>>> from superatom.calc_settings import load_preset
>>> load_preset("gas", xc="PBE").solvent
'none'
"""

from __future__ import annotations

from superatom.calc_settings.settings import (
    CalcSettings,
    as_settings,
    available_presets,
    load_preset,
    parse_overrides,
    settings_from_dict,
)

__all__ = ["CalcSettings", "as_settings", "available_presets", "load_preset", "parse_overrides",
           "settings_from_dict"]

"""The :class:`CalcSettings` model and the YAML presets shipped beside it."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from superatom.errors import InputError

PRESET_PACKAGE = "superatom.calc_settings"
MAX_NAME = 120  # characters of a functional, basis, ECP or solvent name
MAX_OVERRIDE = 400  # characters of one --set key=value
CONTRACTION = re.compile(r"(\d+[spdfghik])+")  # the '@3s2p' suffix PySCF truncates a basis to
#: Settings added after results were stored: left out of the fingerprint at these values, so
#: the input hashes of existing results do not change.
HASH_NEUTRAL_DEFAULTS = {"ln_core": "small", "pcm_potential": "exact", "stability_check": False}


class CalcSettings(BaseModel):
    """Everything that defines one SCF calculation besides the geometry.

    Units: ``conv_tol`` in Hartree, ``max_memory_mb`` in MB, ``solvent_eps`` dimensionless.

    Examples
    --------
    >>> s = CalcSettings(xc="PBE0", basis="def2-svp", solvent="pcm")
    >>> s.spin_treatment(multiplicity=3)
    'UKS'
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              str_max_length=MAX_NAME)

    xc: str = Field("PBE0", description="Exchange-correlation functional (libxc name).")
    basis: str = Field("def2-svp", description="Orbital basis for every element.")
    ecp: str | None = Field(
        "auto",
        description="'auto': the basis's own ECP for every element beyond Kr; None: all-electron.",
    )
    fallback_basis: str = Field(
        "stuttgart_rsc",
        description="Basis+ECP for heavy elements the main basis lacks (Ce-Yb for def2).",
    )
    density_fit: bool = True
    aux_basis: str | None = Field(
        "def2-universal-jkfit", description="Auxiliary basis for density fitting."
    )
    grids_level: int = Field(3, ge=0, le=9, strict=True)
    conv_tol: float = Field(1e-9, gt=0, lt=1e-3)
    max_cycle: int = Field(100, ge=1, le=100_000, strict=True)
    solvent: Literal["none", "pcm", "smd"] = "none"
    solvent_eps: float = Field(78.3553, gt=1.0, le=1e6,
                                description="Dielectric constant for C-PCM.")
    solvent_name: str = Field("water", description="Solvent name for SMD.")
    dispersion: Literal["none", "d3bj", "d4"] = "none"
    device: Literal["auto", "cpu", "gpu"] = "auto"
    max_memory_mb: int | None = Field(
        None, ge=100, le=100_000_000, strict=True,
        description="SCF memory budget (MB); unset: 75 % of the memory of the machine or the "
                    "job's allocation, decided where the job runs and recorded in the result.",
    )
    pcm_potential: Literal["exact", "density-fitted"] = Field(
        "exact",
        description="C-PCM surface potential on the CPU: 'exact' (integrals of the density), "
                    "or 'density-fitted' (from the SCF's own density fit: faster, moves E by "
                    "~1e-4 Ha and levels by a few meV).",
    )
    frontier_window: int = Field(
        6, ge=1, le=10_000, strict=True,
        description="Orbitals below HOMO and above LUMO kept in composition tables."
    )
    fallback_ladder: bool = Field(True, description="Retry unconverged SCF with safer solvers.")
    stability_check: bool = Field(
        False, strict=True,
        description="After convergence, run PySCF's internal stability analysis (CPU) and, "
                    "if the state is a saddle point, follow the instability and converge again; "
                    "the result is recorded in scf_state. Costs a few Fock builds.",
    )
    ln_core: Literal["small", "4f-in-core"] = Field(
        "small",
        description="Lanthanide cores: 'small' (4f explicit: def2 for La, fallback_basis with "
        "its 28-electron ECP for Ce-Yb) or '4f-in-core' (Ln(III) with the 4f shell in a "
        "trivalent large-core ECP, basis lcecp-1-<zeta> of the main def2 basis: closed shell).",
    )

    @field_validator("xc", "basis")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("basis", "fallback_basis", "aux_basis")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if isinstance(value, str) else value

    @field_validator("basis", "fallback_basis", "aux_basis", "ecp")
    @classmethod
    def _a_name(cls, value: str | None) -> str | None:
        if value is not None and (not value.isprintable() or "/" in value or "\\" in value):
            raise ValueError("must be a basis name such as def2-svp, not a path or text with "
                             "control characters (basis files are never read)")
        if value is not None and "@" in value:
            name, _, contraction = value.partition("@")
            if not name or not CONTRACTION.fullmatch(contraction):
                raise ValueError("must be a basis name, optionally truncated as NAME@3s2p1d "
                                 "(one '@', then counts of s, p, d, ... functions)")
        return value

    @model_validator(mode="after")
    def _fitted_pcm_needs_df(self) -> CalcSettings:
        if self.pcm_potential == "density-fitted" and not (
                self.density_fit and self.solvent == "pcm"):
            raise ValueError("pcm_potential=density-fitted needs solvent=pcm and "
                             "density_fit=true (it uses the SCF's own density fit)")
        return self

    def spin_treatment(self, multiplicity: int) -> str:
        """Return ``'RKS'`` for singlets and ``'UKS'`` for every other multiplicity."""
        return "RKS" if multiplicity == 1 else "UKS"

    def method_label(self) -> str:
        """Functional/basis, with the lanthanide core when it is not the default.

        Examples
        --------
        >>> CalcSettings().method_label(), CalcSettings(ln_core="4f-in-core").method_label()
        ('PBE0/def2-svp', 'PBE0/def2-svp Ln:4f-in-core')
        """
        text = f"{self.xc}/{self.basis}"
        return text if self.ln_core == "small" else f"{text} Ln:{self.ln_core}"

    def fingerprint(self) -> str:
        """Stable sha256 of the settings that change the physics (not device or memory).

        Examples
        --------
        >>> CalcSettings().fingerprint() == CalcSettings(device="cpu").fingerprint()
        True
        >>> CalcSettings().fingerprint() == CalcSettings(ln_core="4f-in-core").fingerprint()
        False
        """
        physics = self.model_dump(exclude={"device", "max_memory_mb", "frontier_window"})
        for key, default in HASH_NEUTRAL_DEFAULTS.items():
            if physics[key] == default:
                del physics[key]
        text = json.dumps(physics, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def available_presets() -> list[str]:
    """Names of the YAML presets shipped with superatom.

    Examples
    --------
    >>> sorted(available_presets())[:2]
    ['fast', 'gas']
    """
    folder = resources.files(PRESET_PACKAGE) / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _read_preset(name: str) -> dict[str, Any]:
    if name not in available_presets():
        raise InputError(
            f"unknown preset '{name}': choose one of {', '.join(available_presets())}"
        )
    text = (resources.files(PRESET_PACKAGE) / "presets" / f"{name}.yaml").read_text()
    return yaml.safe_load(text) or {}


def load_preset(name: str = "screening", **overrides: Any) -> CalcSettings:
    """Build :class:`CalcSettings` from a shipped preset plus keyword overrides.

    Unknown keys and invalid values raise :class:`~superatom.errors.InputError` with a
    one-line message naming the key.

    Examples
    --------
    >>> load_preset("fast", basis="sto-3g").basis
    'sto-3g'
    >>> load_preset("fast", colour="red")
    Traceback (most recent call last):
    ...
    superatom.errors.InputError: unknown setting 'colour': allowed keys are ...
    """
    values = _read_preset(name)
    values.update(overrides)
    return settings_from_dict(values)


def as_settings(settings: CalcSettings | str | dict[str, Any] | None,
                **overrides: Any) -> CalcSettings:
    """Settings from a :class:`CalcSettings`, a preset name or a dict (None: ``screening``).

    Examples
    --------
    >>> as_settings("fast", device="cpu").grids_level
    1
    >>> as_settings(42)
    Traceback (most recent call last):
    ...
    superatom.errors.InputError: settings must be a CalcSettings, a preset name ...
    """
    if settings is None or isinstance(settings, str):
        return load_preset(settings or "screening", **overrides)
    if isinstance(settings, CalcSettings):
        return settings_from_dict({**settings.model_dump(), **overrides}) if overrides \
            else settings
    if isinstance(settings, dict):
        return settings_from_dict({**settings, **overrides})
    names = ", ".join(available_presets())
    raise InputError(f"settings must be a CalcSettings, a preset name ({names}) or a dict, "
                     f"not {type(settings).__name__}")


def settings_from_dict(values: dict[str, Any]) -> CalcSettings:
    """Validate a plain mapping into :class:`CalcSettings` with one-line errors."""
    unknown = sorted(set(values) - set(CalcSettings.model_fields))
    if unknown:
        raise InputError(
            f"unknown setting '{unknown[0]}': allowed keys are "
            + ", ".join(CalcSettings.model_fields)
        )
    try:
        return CalcSettings(**values)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(x) for x in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise InputError(f"invalid setting '{key}': {message}") from None


def parse_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """Turn ``["xc=PBE", "grids_level=1"]`` into a dict, values parsed as YAML scalars.

    Examples
    --------
    >>> parse_overrides(["grids_level=1", "density_fit=false", "xc=PBE"])
    {'grids_level': 1, 'density_fit': False, 'xc': 'PBE'}
    """
    result: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if len(pair) > MAX_OVERRIDE:
            raise InputError(f"--set {key[:40]}=... is {len(pair)} characters long (at most "
                             f"{MAX_OVERRIDE}): give a setting name and a short value")
        if not sep or not key.strip():
            raise InputError(f"malformed --set '{pair}': write it as key=value")
        try:
            result[key.strip()] = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            result[key.strip()] = raw
    return result

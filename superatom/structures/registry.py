"""KIND name -> structure builder with typed options (used by the CLI and campaign YAML).

Examples
--------
>>> mol = build_structure("keggin", heteroatom="Si")
>>> mol.charge
-4
>>> "clusterphene" in list_kinds()
True
>>> build_structure("lindqvist", metal="Mo", option_strings=None).formula
'Mo6 O19'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from superatom.errors import InputError

__all__ = ["KINDS", "KindSpec", "build_structure", "coerce_options", "list_kinds"]


@dataclass(frozen=True)
class Option:
    """One builder option: type (str, int, bool), default, help text, allowed values and,
    for counts, the largest value (what a calculation of the result could still handle)."""

    type: type
    default: Any
    help: str
    choices: tuple | None = None
    maximum: int | None = None


MAX_UNITS = 64  # units of a built chain: ~3600 atoms of clusterphene, beyond any DFT here
MAX_TEXT = 200  # characters of a text option (a file path, a label)


@dataclass(frozen=True)
class KindSpec:
    """A structure kind: builder ``module:function``, description and options."""

    target: str
    description: str
    options: dict[str, Option] = field(default_factory=dict)

    def builder(self):
        """Import and return the builder function."""
        module, func = self.target.split(":")
        return getattr(import_module(f"superatom.structures.{module}"), func)


_NW = Option(int, None, "aqua ligands on the substituent (default per chemistry)")
_OX = Option(int, None, "oxidation state of the substituent/heteroatom")

KINDS: dict[str, KindSpec] = {
    "keggin": KindSpec("keggin:build_keggin", "alpha/beta-Keggin [XM12O40]^(8-v)-", {
        "heteroatom": Option(str, "P", "X", ("P", "As", "Si", "Ge", "B", "Al", "Ga")),
        "metal": Option(str, "W", "addenda M", ("W", "Mo")),
        "isomer": Option(str, "alpha", "isomer", ("alpha", "beta")),
    }),
    "lindqvist": KindSpec("lindqvist:build_lindqvist", "Lindqvist [M6O19]2- (Oh)", {
        "metal": Option(str, "W", "M", ("W", "Mo")),
    }),
    "dawson": KindSpec("registry:_dawson", "Wells-Dawson [P2W18O62]6- or [P2W17M O61]n-", {
        "metal": Option(str, "W", "addenda M (plenary only)", ("W", "Mo")),
        "substituent": Option(str, None, "Ln/TM in the cap site ('none' = lacunary P2W17)"),
        "oxidation": _OX,
        "n_water": _NW,
    }),
    "anderson": KindSpec("anderson:build_anderson", "Anderson [XM6O24]^n- (n = 12 - q_X)", {
        "heteroatom": Option(str, "Mn", "central X"),
        "metal": Option(str, "Mo", "addenda M", ("Mo", "W")),
        "oxidation": _OX,
        "low_spin": Option(bool, False, "pair the d electrons of X"),
    }),
    "substituted": KindSpec("registry:_substituted", "[M(H2O)n PW11O39]^q- or lacunary PW11O39", {
        "metal": Option(str, "Gd", "substituent: Y, La-Lu, 3d/4d metal, or 'none'"),
        "oxidation": _OX,
        "n_water": _NW,
    }),
    "dimer": KindSpec("registry:_dimer", "POM dimers: Ln-O-W head-to-tail, 1:2 sandwich, Ca-PW12", {
        "type": Option(str, "ln", "dimer type", ("ln", "sandwich", "ca")),
        "ln": Option(str, "Gd", "lanthanide (ln, sandwich)"),
        "n_water": _NW,
    }),
    "clusterphene": KindSpec("assemblies:build_clusterphene",
                             "LnPW11O39 zig-zag chain (n units), ring or honeycomb pore (6)", {
        "ln": Option(str, "Gd", "lanthanide"),
        "n": Option(int, 3, "units in a chain", maximum=MAX_UNITS),
        "shape": Option(str, "chain", "fragment shape", ("chain", "ring", "honeycomb")),
        "n_water": _NW,
    }),
    "clusterphene-patch": KindSpec("honeycomb:build_clusterphene_patch",
                                   "LnPW11O39 honeycomb patch, nx x ny hexagons, 3 links/unit", {
        "ln": Option(str, "Gd", "lanthanide"),
        "nx": Option(int, 2, "hexagons per row", maximum=8),
        "ny": Option(int, 1, "rows of hexagons", maximum=8),
    }),
    "ca-chain": KindSpec("assemblies:build_ca_chain", "Ca2+-bridged chain of n PW12O40 units", {
        "n": Option(int, 2, "PW12 units", maximum=MAX_UNITS),
        "n_water": Option(int, 4, "aqua ligands per Ca (six-coordinate)", (4,)),
    }),
    "ti10cu2": KindSpec("ti10cu2:build_ti10cu2", "Ti10Cu2 sp cluster model (228 atoms)", {
        "multiplicity": Option(int, 3, "3 = Cu(II) triplet; 1 = broken-symmetry singlet", (1, 3)),
    }),
    "ti10cu2-chain": KindSpec("ti10cu2:build_ti10cu2_chain",
                              "Ti10Cu2 cs chain fragment, n units, capped", {
        "n": Option(int, 2, "repeat units (1-4)", maximum=4),
        "multiplicity": Option(int, None, "default high spin (n Cu pairs)"),
    }),
    "au25": KindSpec("au25:build_au25", "Au25(SCH3)18- superatom reference", {}),
    "crystal": KindSpec("registry:_crystal", "cut n bridged units out of a CIF / periodic file", {
        "file": Option(str, None, "CIF or any ASE-readable periodic file"),
        "n": Option(int, 1, "consecutive units (1 unit, 2 dimer, n chain)", maximum=MAX_UNITS),
        "unit": Option(int, 0, "index of the start unit"),
        "bridging": Option(str, "", "comma-separated linker elements, e.g. Cu or Ca,Na"),
        "end_bridges": Option(str, "drop", "bridges binding one unit", ("drop", "keep")),
        "cap": Option(str, "H", "cap on cut non-metal bonds: element or CH3"),
        "scale": Option(float, 1.2, "covalent-radius scale for bonds"),
        "charge": Option(int, 0, "charge of the fragment"),
        "multiplicity": Option(int, None, "multiplicity (required for odd electron counts)"),
        "label": Option(str, "unit", "fragment label stem"),
    }),
}  # fmt: skip


def _dawson(metal="W", substituent=None, oxidation=None, n_water=None):
    from superatom.structures.dawson import build_dawson, build_dawson_substituted

    if substituent is None:
        return build_dawson(metal)
    sub = None if substituent.lower() == "none" else substituent
    return build_dawson_substituted(sub, oxidation=oxidation, n_water=n_water)


def _substituted(metal="Gd", oxidation=None, n_water=None):
    from superatom.structures.substituted import build_lacunary, build_substituted

    if metal is None or metal.lower() == "none":
        return build_lacunary()
    return build_substituted(metal, oxidation=oxidation, n_water=n_water)


def _dimer(type="ln", ln="Gd", n_water=None):
    from superatom.structures import assemblies

    if type == "ln":
        return assemblies.build_dimer(ln, n_water=n_water)
    if type == "sandwich":
        return assemblies.build_sandwich(ln)
    return assemblies.build_ca_chain(2, n_water=4 if n_water is None else n_water)


def _crystal(file=None, bridging="", **kwargs):
    from superatom.structures.crystal import cut_fragment

    if not file:
        raise InputError("kind 'crystal' needs the option file=PATH")
    elements = [e.strip() for e in bridging.replace(" ", ",").split(",") if e.strip()]
    return cut_fragment(file, bridging=elements, **kwargs)


def list_kinds() -> dict[str, dict]:
    """Kinds with description and options (name -> type, default, help, choices).

    Examples
    --------
    >>> list_kinds()["keggin"]["options"]["metal"]["default"]
    'W'
    """
    out = {}
    for name, spec in KINDS.items():
        out[name] = {
            "description": spec.description,
            "options": {
                k: {"type": o.type.__name__, "default": o.default, "help": o.help,
                    "choices": list(o.choices) if o.choices else None}
                for k, o in spec.options.items()
            },
        }
    return out


def _coerce(kind: str, key: str, value, opt: Option):
    if value is None:
        return None
    if isinstance(value, list | tuple | dict | set) or (
            isinstance(value, bool) and opt.type is not bool):
        raise InputError(f"option {key} of kind '{kind}' must be one {opt.type.__name__}, "
                         f"not a {type(value).__name__}")
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise InputError(f"option {key} of kind '{kind}' is {len(value)} characters long "
                         f"(at most {MAX_TEXT})")
    if opt.type is bool and isinstance(value, str):
        low = value.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise InputError(f"option {key}={value!r} of kind '{kind}' must be true or false")
    try:
        out = opt.type(value)
    except (TypeError, ValueError):
        raise InputError(
            f"option {key}={value!r} of kind '{kind}' must be {opt.type.__name__}"
        ) from None
    if opt.maximum is not None and out > opt.maximum:
        raise InputError(f"option {key}={out} of kind '{kind}' is more than the {opt.maximum} "
                         "that can be built and computed: give a smaller value")
    if opt.type is str:
        out = out.strip()
        if (out.lower() != "none" and out[:1].islower() and len(out) <= 2
                and key not in ("type", "file", "label")):  # fmt: skip
            out = out.capitalize()  # element symbols: gd -> Gd
    if opt.choices and out not in opt.choices:
        raise InputError(
            f"option {key}={value} of kind '{kind}' must be one of "
            f"{', '.join(str(c) for c in opt.choices)}"
        )
    return out


def coerce_options(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """Check option names of ``kind`` and convert values (e.g. CLI strings) to their types.

    Examples
    --------
    >>> coerce_options("clusterphene", {"n": "4"})
    {'n': 4}
    """
    if kind not in KINDS:
        raise InputError(f"unknown structure kind '{kind}': use one of {', '.join(KINDS)}")
    spec = KINDS[kind]
    out = {}
    for key, value in options.items():
        k = key.replace("-", "_")
        if k not in spec.options:
            valid = ", ".join(spec.options) or "none"
            raise InputError(f"unknown option '{key}' for kind '{kind}' (valid: {valid})")
        out[k] = _coerce(kind, k, value, spec.options[k])
    return out


def build_structure(kind: str, option_strings: list[str] | None = None, **options):
    """Build a structure of ``kind`` with ``options`` (typed or strings).

    Parameters
    ----------
    kind
        One of :data:`KINDS` (keggin, lindqvist, dawson, anderson, substituted, dimer,
        clusterphene, clusterphene-patch, ca-chain, ti10cu2, ti10cu2-chain, au25, crystal).
    option_strings
        Extra ``"key=value"`` strings (as given to ``--option`` on the command line).
    **options
        Builder options; see :func:`list_kinds`.

    Returns
    -------
    pymatgen.core.Molecule
        Angstrom, with charge, multiplicity and ``fragment`` site labels.
    """
    merged = dict(options)
    for item in option_strings or []:
        if "=" not in item:
            raise InputError(f"option {item!r} must be key=value")
        key, _, value = item.partition("=")
        merged[key.strip()] = value.strip()
    kwargs = coerce_options(kind, merged)
    try:
        return KINDS[kind].builder()(**kwargs)
    except InputError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise InputError(f"cannot build {kind}: {str(exc).splitlines()[0]}") from None

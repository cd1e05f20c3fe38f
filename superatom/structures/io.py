"""Read and write molecules with charge, multiplicity and per-atom fragment labels.

The native format is extended XYZ (Angstrom)::

    53
    Properties=species:S:1:pos:R:3:fragment:S:1 charge=-3 multiplicity=1 pbc="F F F"
    P   0.00000000   0.00000000   0.00000000 PW12#0
    ...

``read_molecule`` also accepts anything ASE can read (CIF, PDB, mol, ...); the header values of an
extended XYZ file are used when present and explicit arguments override them.

Examples
--------
>>> import tempfile, os
>>> from pymatgen.core import Molecule
>>> mol = Molecule(["O", "H", "H"], [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]],
...                site_properties={"fragment": ["water#0"] * 3})
>>> path = os.path.join(tempfile.mkdtemp(), "w.xyz")
>>> write_xyz(mol, path)
>>> back = read_molecule(path)
>>> back.charge, back.spin_multiplicity, back.site_properties["fragment"][0]
(0, 1, 'water#0')
"""

from __future__ import annotations

import math
import re
import shlex
from pathlib import Path

import numpy as np
from pymatgen.core import Element, Molecule

from superatom.errors import InputError
from superatom.inputfile import check_input_file, read_input_bytes

__all__ = [
    "electron_count",
    "molecule_from_atoms",
    "molecule_to_atoms",
    "read_molecule",
    "resolve_multiplicity",
    "write_xyz",
]

_XYZ_SUFFIXES = {".xyz", ".extxyz"}
_ODD_MESSAGE = "odd electron count with multiplicity 1: pass --multiplicity 2 (or fix --charge)"


def electron_count(symbols: list[str] | tuple[str, ...], charge: float) -> int:
    """Number of electrons (all-electron count) of a set of atoms with total ``charge``.

    Examples
    --------
    >>> electron_count(["O", "H", "H"], 0)
    10
    """
    total = sum(Element(s).Z for s in symbols) - charge
    if abs(total - round(total)) > 1e-6:
        raise InputError(f"charge {charge} is not an integer")
    return round(total)


def resolve_multiplicity(nelec: int, multiplicity: int | None) -> int:
    """Check ``multiplicity`` against the electron count; default 1 for an even count.

    Raises :class:`~superatom.errors.InputError` for an odd count without an explicit
    multiplicity, and for any parity mismatch.

    Examples
    --------
    >>> resolve_multiplicity(10, None)
    1
    >>> resolve_multiplicity(9, 2)
    2
    """
    if multiplicity is None:
        if nelec % 2:
            raise InputError(_ODD_MESSAGE)
        return 1
    mult = int(multiplicity)
    if mult != multiplicity or mult < 1:
        raise InputError(f"multiplicity must be a positive integer, got {multiplicity}")
    if mult - 1 > nelec:
        raise InputError(f"multiplicity {mult} needs more than the {nelec} electrons present")
    if (nelec + mult - 1) % 2:
        if mult == 1:
            raise InputError(_ODD_MESSAGE)
        raise InputError(
            f"{nelec} electrons cannot have multiplicity {mult}: "
            f"use an {'even' if nelec % 2 else 'odd'} multiplicity (or fix --charge)"
        )
    return mult


def refuse_partial_occupancy(atoms, source) -> None:
    """A structure with sites of occupancy below 1 (disorder in a CIF) is not one molecule:
    ASE keeps every such atom as a full one, so it is refused.

    Examples
    --------
    >>> from ase import Atoms
    >>> atoms = Atoms("H2", positions=[[0, 0, 0], [0.74, 0, 0]])
    >>> atoms.info["occupancy"] = {"0": {"H": 1.0}, "1": {"H": 0.5}}
    >>> refuse_partial_occupancy(atoms, "x.cif")
    Traceback (most recent call last):
    ...
    superatom.errors.InputError: x.cif has partially occupied sites (H at 0.5): ...
    """
    partial = [(symbol, value) for site in (atoms.info.get("occupancy") or {}).values()
               for symbol, value in site.items() if float(value) < 1.0 - 1e-6]
    if partial:
        shown = ", ".join(f"{symbol} at {value:g}" for symbol, value in partial[:3])
        raise InputError(f"{source} has partially occupied sites ({shown}"
                         f"{', ...' if len(partial) > 3 else ''}): superatom would take them "
                         "as full atoms; resolve the disorder into one ordered structure")


def _refuse_periodic(pbc: str, lattice: bool, path: Path) -> None:
    """A structure file with periodic boundaries or a lattice is a crystal, not a molecule.

    Examples
    --------
    >>> _refuse_periodic('F F F', False, Path("m.xyz"))
    >>> _refuse_periodic('T T T', True, Path("c.xyz"))
    Traceback (most recent call last):
    ...
    superatom.errors.InputError: c.xyz is periodic (pbc="T T T", a lattice): ...
    """
    flags = pbc.replace('"', "").upper().split()
    periodic = any(flag in ("T", "TRUE", "1") for flag in flags)
    if periodic or lattice:
        what = ", ".join(x for x in (f'pbc="{pbc}"' if periodic else "",
                                     "a lattice" if lattice else "") if x)
        raise InputError(f"{path.name} is periodic ({what}): superatom computes molecules; "
                         "cut out a cluster (superatom.structures.crystal) or remove the "
                         "pbc/Lattice keys if it is one")


def molecule_to_atoms(molecule: Molecule):
    """Convert a Molecule to ``ase.Atoms`` keeping charge, multiplicity and fragment labels.

    Examples
    --------
    >>> from pymatgen.core import Molecule
    >>> atoms = molecule_to_atoms(Molecule(["H", "H"], [[0, 0, 0], [0.74, 0, 0]]))
    >>> atoms.info["charge"], atoms.info["multiplicity"]
    (0, 1)
    """
    from ase import Atoms

    atoms = Atoms(
        symbols=[site.specie.symbol for site in molecule],
        positions=np.array(molecule.cart_coords, dtype=float),
    )
    atoms.info["charge"] = round(molecule.charge)
    atoms.info["multiplicity"] = int(molecule.spin_multiplicity)
    frags = molecule.site_properties.get("fragment")
    if frags is not None:
        atoms.arrays["fragment"] = np.array([str(f) for f in frags], dtype=object)
    return atoms


def molecule_from_atoms(atoms, charge: int | None = None, multiplicity: int | None = None):
    """Convert ``ase.Atoms`` to a Molecule (fragment labels from ``atoms.arrays['fragment']``).

    Examples
    --------
    >>> from ase import Atoms
    >>> molecule_from_atoms(Atoms("H2", positions=[[0, 0, 0], [0.74, 0, 0]])).formula
    'H2'
    """
    symbols = list(atoms.get_chemical_symbols())
    if charge is None:
        charge = round(float(atoms.info.get("charge", 0)))
    if multiplicity is None and "multiplicity" in atoms.info:
        multiplicity = int(atoms.info["multiplicity"])
    nelec = electron_count(symbols, charge)
    mult = resolve_multiplicity(nelec, multiplicity)
    props = {}
    if "fragment" in atoms.arrays:
        props["fragment"] = [str(f) for f in atoms.arrays["fragment"]]
    return Molecule(
        symbols,
        atoms.get_positions(),
        charge=charge,
        spin_multiplicity=mult,
        site_properties=props or None,
    )


def as_molecule(structure, charge: int | None = None,
                multiplicity: int | None = None) -> Molecule:
    """A pymatgen Molecule from a Molecule, its dict (an upstream job's output) or an ASE
    ``Atoms`` (charge/multiplicity from ``atoms.info`` unless given); anything else is one
    clear :class:`InputError`.

    Examples
    --------
    >>> from ase import Atoms
    >>> as_molecule(Atoms("H2", positions=[[0, 0, 0], [0.74, 0, 0]])).spin_multiplicity
    1
    >>> h2 = Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])
    >>> as_molecule(h2.as_dict()) == h2
    True
    >>> as_molecule("water.xyz")
    Traceback (most recent call last):
    ...
    superatom.errors.InputError: expected a pymatgen Molecule or an ASE Atoms, got str: ...
    """
    if isinstance(structure, Molecule):
        return structure
    if isinstance(structure, dict):
        return Molecule.from_dict(structure)
    if hasattr(structure, "get_chemical_symbols") and hasattr(structure, "get_positions"):
        return molecule_from_atoms(structure, charge=charge, multiplicity=multiplicity)
    raise InputError(f"expected a pymatgen Molecule or an ASE Atoms, got "
                     f"{type(structure).__name__}: read files with "
                     "superatom.structures.io.read_molecule")


def write_xyz(molecule: Molecule, path: str | Path, comment: str | None = None) -> None:
    """Write ``molecule`` as extended XYZ with ``charge=``, ``multiplicity=`` and fragments.

    Parameters
    ----------
    molecule
        pymatgen Molecule, coordinates in Angstrom. Sites without a ``fragment`` site
        property are written with the label ``mol#0``.
    path
        Output file.
    comment
        Optional free text stored as ``comment="..."`` in the header.

    Examples
    --------
    >>> import tempfile, os
    >>> from pymatgen.core import Molecule
    >>> p = os.path.join(tempfile.mkdtemp(), "h2.xyz")
    >>> write_xyz(Molecule(["H", "H"], [[0, 0, 0], [0.74, 0, 0]]), p)
    >>> open(p).read().splitlines()[1].split()[1]
    'charge=0'
    """
    frags = molecule.site_properties.get("fragment") or ["mol#0"] * len(molecule)
    for f in frags:
        if not str(f) or re.search(r"\s", str(f)):
            raise InputError(f"fragment label {f!r} must be non-empty and without spaces")
    header = (
        "Properties=species:S:1:pos:R:3:fragment:S:1 "
        f"charge={round(molecule.charge)} multiplicity={int(molecule.spin_multiplicity)} "
        'pbc="F F F"'
    )
    if comment:
        text = comment.replace("\n", " ").replace('"', "'")
        header += f' comment="{text}"'
    lines = [str(len(molecule)), header]
    for site, frag in zip(molecule, frags, strict=True):
        x, y, z = site.coords
        lines.append(f"{site.specie.symbol:<3s} {x:14.8f} {y:14.8f} {z:14.8f} {frag}")
    Path(path).write_text("\n".join(lines) + "\n")


def _parse_header(line: str, path: Path, lineno: int = 2) -> dict[str, str]:
    """Key=value pairs of an extended-XYZ comment line ({} for a plain comment)."""
    if "=" not in line:
        return {}
    try:
        tokens = shlex.split(line)
    except ValueError as exc:
        raise InputError(f"malformed header on line {lineno} of {path}: {exc}") from None
    out: dict[str, str] = {}
    for tok in tokens:
        if "=" in tok:
            key, _, value = tok.partition("=")
            out[key.strip().lower()] = value.strip()
    return out


def _header_int(info: dict[str, str], keys: tuple[str, ...], path: Path) -> int | None:
    for key in keys:
        if key in info:
            try:
                value = float(info[key])
            except ValueError:
                raise InputError(
                    f"malformed header in {path}: {key}={info[key]!r} is not a number"
                ) from None
            if not math.isfinite(value) or value != round(value) or abs(value) > 10_000:
                raise InputError(f"malformed header in {path}: {key}={info[key]} is not an "
                                 "integer of sensible size")
            return round(value)
    return None


def _property_columns(properties: str | None) -> dict[str, int]:
    """Column index (0-based, whitespace-split atom line) of each extended-XYZ property."""
    cols = {"species": 0, "pos": 1}
    if not properties:
        return cols
    fields = properties.split(":")
    if len(fields) % 3:
        return cols
    out, col = {}, 0
    for i in range(0, len(fields), 3):
        name, _kind, count = fields[i : i + 3]
        try:
            n = int(count)
        except ValueError:
            return cols
        out[name.lower()] = col
        col += n
    if "species" not in out or "pos" not in out:
        return cols
    return out


def _read_frame(lines: list[str], start: int, path: Path):
    """Parse one XYZ frame starting at ``lines[start]``; return it and the next start."""
    head = start + 1  # 1-based line number of the count line
    try:
        natoms = int(lines[start].split()[0])
    except (ValueError, IndexError):
        raise InputError(
            f"malformed header in {path}: line {head} must be the atom count, "
            f"got {lines[start][:40]!r}"
        ) from None
    if natoms < 1:
        raise InputError(f"malformed header in {path}: atom count {natoms} must be positive")
    if len(lines) < start + natoms + 2:
        raise InputError(
            f"malformed file {path}: header says {natoms} atoms but only "
            f"{max(len(lines) - start - 2, 0)} atom lines follow"
        )
    info = _parse_header(lines[start + 1], path, head + 1)
    cols = _property_columns(info.get("properties"))
    c_sym, c_pos, c_frag = cols["species"], cols["pos"], cols.get("fragment")
    need = max(c_sym, c_pos + 2, -1 if c_frag is None else c_frag) + 1
    symbols: list[str] = []
    coords = np.zeros((natoms, 3))
    frags: list[str] | None = [] if c_frag is not None else None
    for k in range(natoms):
        lineno = start + k + 3
        parts = lines[start + k + 2].split()
        if len(parts) < max(need, 4):
            raise InputError(f"malformed atom line {lineno} in {path}: need 'symbol x y z'")
        sym = parts[c_sym]
        if sym.isdigit():
            try:
                sym = Element.from_Z(int(sym)).symbol
            except ValueError:
                raise InputError(f"unknown element '{parts[c_sym]}' on line {lineno}") from None
        else:
            sym = sym[:1].upper() + sym[1:].lower()
            if not Element.is_valid_symbol(sym) or sym in {"D", "T"}:
                raise InputError(f"unknown element '{parts[c_sym]}' on line {lineno}")
        try:
            coords[k] = [float(v) for v in parts[c_pos : c_pos + 3]]
        except ValueError:
            raise InputError(
                f"malformed atom line {lineno} in {path}: coordinates are not numbers"
            ) from None
        if not np.all(np.isfinite(coords[k])):
            raise InputError(f"malformed atom line {lineno} in {path}: non-finite coordinate")
        symbols.append(sym)
        if frags is not None:
            frags.append(parts[c_frag])
    nxt = start + natoms + 2
    while nxt < len(lines) and not lines[nxt].strip():
        nxt += 1
    return (symbols, coords, info, frags), nxt


def _read_xyz(path: Path) -> tuple[list[str], np.ndarray, dict[str, str], list[str] | None]:
    """Parse a (possibly extended, possibly multi-frame) XYZ file; return the last frame."""
    try:
        text = read_input_bytes(path, "structure file").decode()
    except UnicodeDecodeError:
        raise InputError(f"cannot read {path}: not a text XYZ file") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise InputError(f"malformed header in {path}: file is empty")
    start, frame = 0, None
    while start < len(lines):
        frame, start = _read_frame(lines, start, path)
    return frame


def _read_with_ase(path: Path):
    import ase.io

    try:
        atoms = ase.io.read(str(path), index=-1)
    except Exception as exc:  # ASE raises many exception types for unknown formats
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot read {path}: unknown or unreadable format ({msg})") from None
    if isinstance(atoms, list):
        atoms = atoms[-1]
    if len(atoms) == 0:
        raise InputError(f"cannot read {path}: no atoms found")
    refuse_partial_occupancy(atoms, path)
    for sym in atoms.get_chemical_symbols():
        if sym == "X" or not Element.is_valid_symbol(sym):
            raise InputError(f"unknown element '{sym}' in {path}")
    return atoms


def read_molecule(
    path: str | Path,
    charge: int | None = None,
    multiplicity: int | None = None,
) -> Molecule:
    """Read a molecule from any ASE-readable file, keeping charge, multiplicity and fragments.

    Parameters
    ----------
    path
        XYZ / extended XYZ (own parser, line-numbered errors; the last frame of a
        multi-frame file) or any format ASE reads (last image).
    charge
        Total charge; overrides a ``charge=`` header value. Default: header value or 0.
    multiplicity
        Spin multiplicity 2S+1; overrides ``multiplicity=`` in the header. Default: header
        value, else 1 for an even electron count. An odd electron count is never silently
        given a doublet: it raises :class:`~superatom.errors.InputError`.

    Returns
    -------
    Molecule
        Coordinates in Angstrom; site property ``fragment`` when the file has one.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "oh.xyz")
    >>> _ = open(p, "w").write("2\\nhydroxyl\\nO 0 0 0\\nH 0.97 0 0\\n")
    >>> read_molecule(p, charge=-1).spin_multiplicity
    1
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"file {path} not found")
    if p.is_dir():
        raise InputError(f"{path} is a directory, not a structure file")
    check_input_file(p, "structure file")
    if p.suffix.lower() in _XYZ_SUFFIXES:
        symbols, coords, info, frags = _read_xyz(p)
        _refuse_periodic(info.get("pbc", ""), "lattice" in info, p)
        h_charge = _header_int(info, ("charge",), p)
        h_mult = _header_int(info, ("multiplicity", "mult", "spin_multiplicity"), p)
    else:
        atoms = _read_with_ase(p)
        _refuse_periodic(" ".join("T" if x else "F" for x in atoms.pbc), False, p)
        symbols = list(atoms.get_chemical_symbols())
        coords = atoms.get_positions()
        frags = [str(f) for f in atoms.arrays["fragment"]] if "fragment" in atoms.arrays else None
        h_charge = atoms.info.get("charge")
        h_mult = atoms.info.get("multiplicity")
        try:
            h_charge = None if h_charge is None else round(float(h_charge))
            h_mult = None if h_mult is None else int(h_mult)
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"malformed charge/multiplicity in {path}: give integers") from None
    q = charge if charge is not None else (h_charge if h_charge is not None else 0)
    m = multiplicity if multiplicity is not None else h_mult
    if q != round(q):
        raise InputError(f"charge must be an integer, got {q}")
    q = round(q)
    nelec = electron_count(symbols, q)
    if nelec < 1:
        raise InputError(f"charge {q} leaves {max(nelec, 0)} electrons (the nuclei carry "
                         f"{nelec + q}): a calculation needs electrons, fix --charge")
    mult = resolve_multiplicity(nelec, m)
    props = {"fragment": frags} if frags is not None else None
    return Molecule(symbols, coords, charge=q, spin_multiplicity=mult, site_properties=props)

"""``superatom eda FILE``: energy decomposition (EDA with ETS-NOCV) of an assembly whose atoms
carry a ``fragment`` column, stored with its fragment and assembly results.

The fragment and assembly SCFs run as frontier-orbital jobs (reused by input hash) and the
decomposition is a job of its own, so ``superatom analyze UUID --what eda`` shows it again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from superatom import HARTREE_TO_EV, HARTREE_TO_KCAL_MOL
from superatom.cli.common import (
    charge_option,
    console,
    db_option,
    handle_errors,
    json_option,
    multiplicity_option,
    preset_option,
    print_json,
    set_option,
)
from superatom.errors import InputError

TERMS = (("e_elstat_ha", "electrostatic"), ("e_pauli_ha", "Pauli"),
         ("e_orb_ha", "orbital interaction"), ("e_disp_ha", "dispersion"),
         ("e_solv_ha", "solvation (frozen step)"), ("e_int_ha", "interaction"),
         ("e_orb_ets_ha", "ETS sum of NOCV pairs"), ("e_frozen_ha", "frozen density (P_frz)"))


def parse_assignments(items: list[str] | None, option: str) -> dict[str, int]:
    """``NAME=INT`` items of a repeatable option as a dict.

    Examples
    --------
    >>> parse_assignments(["A=-1", "B=2"], "--fragment-charge")
    {'A': -1, 'B': 2}
    """
    out: dict[str, int] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = int(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise InputError(f"{option} '{item}' is not NAME=INTEGER: e.g. {option} A=-1")
    return out


def terms_table(doc) -> Table:
    """Rich table of the decomposition in kcal/mol and eV."""
    table = Table(title=f"{doc.name}: energy decomposition")
    for column in ("term", "kcal/mol", "eV"):
        table.add_column(column, justify="left" if column == "term" else "right")
    for key, label in TERMS:
        value = getattr(doc.terms, key)
        if key in ("e_disp_ha", "e_solv_ha") and value == 0.0:
            continue
        table.add_row(label, f"{value * HARTREE_TO_KCAL_MOL:.2f}",
                      f"{value * HARTREE_TO_EV:.4f}")
    return table


def conventions_text(doc) -> str:
    """Method, ETS error and conventions of one decomposition, a few short lines."""
    ets = doc.terms.ets_error_ha * HARTREE_TO_KCAL_MOL
    lines = [doc.method, f"ETS sum - E_orb = {ets:+.2f} kcal/mol (transition-state error)",
             doc.basis_convention, doc.spin_convention, f"solvent: {doc.solvent_convention}"]
    return "\n".join(lines)


def pairs_table(doc, n_pairs: int) -> Table:
    """Rich table of the leading NOCV pairs (by energy)."""
    from rich.markup import escape

    from superatom.schemas.eda import pair_route

    table = Table(title="leading NOCV pairs (ETS energies)")
    table.caption = escape("[elements]: no net charge between fragments; the elements it moves")
    for column in ("k", "spin", "nu (e)", "kcal/mol", "eV", "from -> to", "charge moved (e)"):
        table.add_column(column, justify="left" if column in ("spin", "from -> to")
                         else "right")
    for pair in sorted(doc.pairs, key=lambda p: p.e_ha)[:n_pairs]:
        moved = max((v for v in pair.charge_flow.values()), default=0.0)
        table.add_row(str(pair.k), pair.spin, f"{pair.nu:.3f}",
                      f"{pair.e_ha * HARTREE_TO_KCAL_MOL:.2f}", f"{pair.e_ha * HARTREE_TO_EV:.3f}",
                      escape(pair_route(pair)), f"{moved:.3f}")
    return table


def show_eda(doc, n_pairs: int, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    """Print one EDA document: JSON (kcal/mol keys) or the two tables."""
    if as_json:
        print_json({**doc.summary(n_pairs), **(extra or {})})
        return
    console.print(terms_table(doc))
    console.print(conventions_text(doc), highlight=False, markup=False)
    console.print(pairs_table(doc, n_pairs))


def find_eda(store, uuid: str):
    """The stored EDA of ``uuid``: an EDA document itself, or the newest one of an interaction
    or assembly result (matched by input hashes, so reused results find it too)."""
    from superatom.db.query import resolve_uuid
    from superatom.schemas.eda import EDADoc
    from superatom.schemas.registry import doc_type_of

    full = resolve_uuid(uuid, store)
    store.connect()
    output = store.query_one({"uuid": full}, properties=["output"])["output"]
    kind = doc_type_of(output)
    if kind == "eda":
        return EDADoc.model_validate(output)
    hashes = output.get("input_hashes") or [None] if kind == "interaction" else [
        output.get("input_hash")]
    candidates = store.query({"output.doc_type": "eda",
                              "output.assembly_input_hash": hashes[-1]},
                             properties=["output"], sort={"completed_at": -1})
    fragments = set(hashes[:-1])
    found = next((c for c in candidates if not fragments or fragments == set(
        c["output"].get("fragment_input_hashes", {}).values())), None)
    if hashes[-1] is None or found is None:
        raise InputError(f"no energy decomposition stored for '{uuid}': run 'superatom eda "
                         "FILE' or an interaction flow with the DFT tier")
    return EDADoc.model_validate(found["output"])


def write_pair_cubes(doc, result, assembly, settings, folder: Path, n_pairs: int) -> list[Path]:
    """Deformation-density cubes of the leading pairs (e/Bohr^3), one per pair."""
    from superatom.analysis.eda import pair_density_matrix
    from superatom.engine import write_density_cube

    folder.mkdir(parents=True, exist_ok=True)
    channels = {c.spin: c for c in result.channels}
    paths = []
    for pair in sorted(doc.pairs, key=lambda p: p.e_ha)[:n_pairs]:
        channel = channels[pair.spin]
        raw = channel.pairs()[pair.k - 1]
        path = folder / f"nocv_{pair.spin}_{pair.k}.cube"
        write_density_cube(assembly, settings, pair_density_matrix(channel, raw), str(path))
        paths.append(path)
    return paths


def run_eda_flow(molecule, preset: str, overrides: dict, db: str | None, force: bool,
                 name: str | None, charges: dict[str, int], mults: dict[str, int]):
    """Fragment and assembly frontier jobs plus the decomposition, through jobflow into the
    store. Returns the stored EDA document, its job uuid, a loader of the frontier documents
    (arrays included) and the settings."""
    import warnings

    from jobflow import run_locally

    from superatom.db import load_result, open_store
    from superatom.db.store import require_writable
    from superatom.schemas.eda import EDADoc
    from superatom.workflows.frontier import FrontierOrbitalMaker
    from superatom.workflows.interaction import InteractionFlowMaker

    require_writable(db)
    maker = FrontierOrbitalMaker(preset=preset, settings_overrides=overrides, reuse=not force)
    flow = InteractionFlowMaker(frontier_maker=maker, eda=True,
                                metadata={"name": name} if name else {}).make(
        molecule, charges or None, mults or None)
    store = open_store(db)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_locally(flow, store=store, log=False, raise_immediately=True)
    by_name = {job.name: job for job in flow.jobs}
    eda_job = by_name["energy decomposition"]
    doc = EDADoc.model_validate(store.query_one({"uuid": eda_job.uuid})["output"])

    def frontier() -> list:  # fragments' then the assembly's documents, arrays included
        return [load_result(j.uuid, store=store) for j in flow.jobs
                if j.name.startswith("frontier ")]

    return doc, eda_job.uuid, frontier, maker.settings


def _split_error(err: InputError) -> InputError:
    text = str(err).replace("give fragment_charges, e.g.", "give --fragment-charge NAME=Q for")
    text = text.replace("fix fragment_charges/fragment_multiplicities",
                        "fix --fragment-charge/--fragment-multiplicity")
    return InputError(text)


def register(app: typer.Typer) -> None:
    """Add the ``eda`` command to ``app``."""

    @app.command("eda")
    @handle_errors
    def eda(
        file: Path = typer.Argument(..., help="Extended XYZ with a per-atom 'fragment' column "
                                    "(charge= and multiplicity= in the header)."),
        charge: int | None = charge_option(),
        multiplicity: int | None = multiplicity_option(),
        preset: str = preset_option(),
        set_: list[str] = set_option(),
        fragment_charge: list[str] = typer.Option(
            None, "--fragment-charge", help="Charge of one fragment, NAME=Q (repeat; default: "
            "from the fragments' composition where unambiguous)."),
        fragment_multiplicity: list[str] = typer.Option(
            None, "--fragment-multiplicity", help="Multiplicity of one fragment, NAME=M "
            "(repeat; default: lowest the electron count allows)."),
        pairs: int = typer.Option(6, "--pairs", help="Leading NOCV pairs to show."),
        cubes: Path | None = typer.Option(
            None, "--cubes", help="Folder for deformation-density cubes of the shown pairs."),
        name: str | None = typer.Option(None, "--name", help="Label stored with the result."),
        db: str | None = db_option(),
        force: bool = typer.Option(False, "--force", help="Recompute even if stored."),
        force_size: bool = typer.Option(False, "--force-size",
                                        help="Run even if the size estimate exceeds this "
                                        "machine."),
        as_json: bool = json_option(),
    ) -> None:
        """Electrostatic, Pauli and orbital-interaction energies between the fragments, and
        the NOCV channels with their ETS energies (kcal/mol and eV)."""
        from superatom.calc_settings import load_preset, parse_overrides
        from superatom.cli.run import check_size
        from superatom.names import check_name
        from superatom.structures.io import read_molecule
        from superatom.workflows.fragments import split_fragments

        if name is not None:
            name = check_name(name, "--name")
        if pairs < 1:
            raise InputError(f"--pairs {pairs} must be at least 1")
        overrides = parse_overrides(set_)
        settings = load_preset(preset, **overrides)
        molecule = read_molecule(file, charge=charge, multiplicity=multiplicity)
        charges = parse_assignments(fragment_charge, "--fragment-charge")
        mults = parse_assignments(fragment_multiplicity, "--fragment-multiplicity")
        try:
            split_fragments(molecule, charges or None, mults or None)
        except InputError as err:
            raise _split_error(err) from None
        if not force_size:
            check_size(molecule, settings)
        doc, uuid, frontier, settings = run_eda_flow(molecule, preset, overrides, db, force,
                                                     name, charges, mults)
        written: list[str] = []
        if cubes is not None:
            from superatom.workflows.eda import eda_of_documents, stored_partition

            docs = frontier()
            result = eda_of_documents(docs[:-1], docs[-1], settings)
            assembly = stored_partition(docs[:-1], docs[-1])[0]
            written = [str(p) for p in write_pair_cubes(doc, result, assembly, settings,
                                                        cubes, pairs)]
        show_eda(doc, pairs, as_json, {"uuid": uuid, "cubes": written})
        if not as_json:
            console.print(f"uuid: {uuid}", highlight=False, markup=False)
            for path in written:
                console.print(f"cube: {path}", highlight=False, markup=False)

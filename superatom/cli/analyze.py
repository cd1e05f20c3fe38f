"""``superatom analyze UUID`` and ``superatom compare UUID_MONOMER... UUID_ASSEMBLY``.

Both read stored results (document + arrays) and print tables, or JSON with ``--json``.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from superatom.cli.common import (
    cell,
    console,
    db_option,
    emit_rows,
    err_console,
    handle_errors,
    json_option,
    open_read_store,
    png_path,
    print_json,
    stdout_is_terminal,
)
from superatom.errors import InputError

WHAT = ("composition", "superatom", "dos", "export", "optical", "eda")
METHODS = ("mulliken", "lowdin", "scpa")


def _top(weights: dict[str, float], n: int = 3) -> str:
    items = sorted(weights.items(), key=lambda kv: -kv[1])[:n]
    return " ".join(f"{k}:{v:.2f}" for k, v in items if abs(v) >= 0.005)


def _orbital_list(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [item.strip() for item in text.split(",") if item.strip()]


def _out_dir(out: Path | None, uuid: str) -> Path:
    folder = out if out is not None else Path(f"analysis-{uuid[:8]}")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {folder} is a file: give a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _check_numbers(lmax: int, sigma: float, nstates: int) -> None:
    """One-line errors for option values no analysis can use."""
    if lmax < 0:
        raise InputError(f"--lmax {lmax} is negative: give 0 or more (e.g. 8)")
    if not sigma > 0:
        raise InputError(f"--sigma {sigma} eV must be positive (e.g. 0.1)")
    if nstates < 1:
        raise InputError(f"--nstates {nstates} must be at least 1 (e.g. 5)")


def _composition(doc, method: str, orbitals, as_json: bool, as_csv: bool = False) -> None:
    from superatom.analysis.composition import orbital_composition
    from superatom.analysis.docdata import doc_data
    from superatom.analysis.export import orbital_index

    picks = None
    if orbitals:
        data = doc_data(doc)
        picks = [orbital_index(data, o, data.channels[0].spin if not data.restricted else None)
                 for o in orbitals]
    res = orbital_composition(doc, method=method, orbitals=picks)
    if as_json:
        print_json(res.model_dump())
        return
    rows = [{"orbital": o.label, "spin": o.spin, "energy_ev": o.energy_ev,
             "occupation": o.occupation, "fragments": _top(o.fragment),
             "elements": _top(o.element), "l": _top(o.angular),
             "participation_ratio": o.participation_ratio} for o in res.orbitals]
    emit_rows(rows, list(rows[0]) if rows else ["orbital"], as_csv=as_csv,
              title=f"{res.name}: {method} composition (eV)",
              headers={"energy_ev": "E", "occupation": "occ", "participation_ratio": "PR"})


def _superatom(doc, orbitals, fragment, lmax, out, as_json, uuid) -> None:
    from superatom.analysis.angular import angular_character, fragment_spheres
    from superatom.analysis.docdata import doc_data
    from superatom.analysis.export import orbital_index
    from superatom.analysis.plots import plot_angular, save_figure

    data = doc_data(doc)
    centre = radius = None
    if fragment:
        labels = data.fragments or data.elements
        centre, radius = fragment_spheres(data.molecule, labels, [fragment])[fragment]
    results = []
    for chan in data.channels:
        spin = None if chan.spin == "restricted" else chan.spin
        picks = None
        if orbitals:
            picks = [orbital_index(data, o, spin) for o in orbitals]
        results.append(angular_character(doc, orbitals=picks, centre=centre, radius=radius,
                                         lmax=lmax, spin=spin, label=fragment or "centre"))
    if out is not None:
        folder = _out_dir(out, uuid)
        for res in results:
            save_figure(plot_angular(res), folder / f"angular_{res.orbitals[0].spin}.png")
    if as_json:
        print_json([r.model_dump() for r in results])
        return
    for res in results:
        letters = list(res.orbitals[0].weights) if res.orbitals else []
        table = Table(title=f"{res.name}: angular character about {res.label} "
                            f"(R = {res.radius_angstrom:.1f} A)")
        for column in ("orbital", "E (eV)", "char.", *letters, "norm in"):
            table.add_column(column)
        for o in res.orbitals:
            table.add_row(o.label, f"{o.energy_ev:.3f}", o.character,
                          *[f"{o.weights[k]:.2f}" for k in letters], f"{o.norm_inside:.3f}")
        console.print(table)


def _dos(doc, method, sigma, out, as_json, uuid) -> None:
    from superatom.analysis.dos import d_band_centre, density_of_states, write_dos_csv
    from superatom.analysis.plots import plot_dos, save_figure

    res = density_of_states(doc, sigma_ev=sigma, method=method)
    try:
        d_centre = d_band_centre(doc, method=method)
    except InputError:
        d_centre = None
    folder = _out_dir(out, uuid)
    partition = "fragment" if "fragment" in res.pdos else "element"
    png = save_figure(plot_dos(res, partition), folder / "dos.png")
    csv = write_dos_csv(res, folder / "dos.csv")
    summary = {"homo_ev": res.homo_ev, "lumo_ev": res.lumo_ev, "sigma_ev": sigma,
               "d_band_centre_ev": d_centre, "png": str(png), "csv": str(csv)}
    if as_json:
        print_json(summary)
        return
    for key, value in summary.items():
        console.print(f"{key:18s} {cell(value)}", highlight=False)


def _export(doc, orbitals, out, as_json, uuid) -> None:
    from superatom.analysis.export import export_orbitals

    paths = export_orbitals(doc, _out_dir(out, uuid), orbitals or ["HOMO", "LUMO"])
    if as_json:
        print_json([str(p) for p in paths])
        return
    for path in paths:
        console.print(str(path), highlight=False)


def _optical(doc, store, nstates: int, measured: float | None, as_json: bool,
             as_csv: bool = False) -> None:
    """TDA excitations of ``doc``, stored in ``store`` (the connected store it came from)."""
    from superatom.analysis.docdata import settings_of
    from superatom.analysis.optical import optical_gap
    from superatom.workflows.tda import TdaMaker

    maker = TdaMaker(settings=settings_of(doc), nstates=nstates, ground_state_uuid=doc.job_uuid,
                     metadata={"name": doc.name, "campaign": doc.campaign,
                               "system_class": doc.system_class, "n_units": doc.n_units})
    job = maker.make(doc.to_molecule())
    tda_doc = job.run(store=store).output  # stored like any other result
    res = optical_gap(tda_doc, measured_gap_ev=measured)
    if as_json:
        print_json({**res.model_dump(mode="json"), "uuid": job.uuid,
                    "reused_from": tda_doc.reused_from})
        return
    rows = [{"state": s.index, "energy_ev": s.energy_ev, "wavelength_nm": s.wavelength_nm,
             "oscillator_strength": s.oscillator_strength} for s in res.states]
    emit_rows(rows, ["state", "energy_ev", "wavelength_nm", "oscillator_strength"],
              as_csv=as_csv, title=f"{res.name}: TDA excitations [{res.method}]",
              headers={"energy_ev": "E (eV)", "wavelength_nm": "lambda (nm)",
                       "oscillator_strength": "f"})
    if as_csv:
        return
    out = console if stdout_is_terminal() else err_console  # a pipe gets only the table
    out.print(f"optical gap {res.optical_gap_ev:.3f} eV (first bright "
              f"{cell(res.first_bright_ev)} eV), Kohn-Sham gap {cell(res.ks_gap_ev)} eV",
              highlight=False)
    out.print(f"stored as TDA result {job.uuid}"
              + (f" (reused {tda_doc.reused_from})" if tda_doc.reused_from else ""),
              highlight=False)


def _summary_table(res) -> Table:
    table = Table(title=f"{' + '.join(res.monomers)} -> {res.assembly}")
    table.add_column("quantity")
    for s in res.summary:
        table.add_column(s.spin)
    rows = [
        ("HOMO splitting (eV)", "homo_splitting_ev"),
        ("LUMO splitting (eV)", "lumo_splitting_ev"),
        ("HOMO centroid shift (eV)", "homo_centroid_shift_ev"),
        ("LUMO centroid shift (eV)", "lumo_centroid_shift_ev"),
        ("HOMO shift (eV)", "homo_shift_ev"),
        ("LUMO shift (eV)", "lumo_shift_ev"),
        ("gap monomer (eV)", "gap_monomer_ev"),
        ("gap assembly (eV)", "gap_assembly_ev"),
        ("gap change (eV)", "gap_change_ev"),
        ("FO J_eff HOMO (eV)", "fo_homo_coupling_ev"),
        ("FO J_eff LUMO (eV)", "fo_lumo_coupling_ev"),
        ("FO splitting HOMO (eV)", "fo_homo_splitting_ev"),
        ("FO splitting LUMO (eV)", "fo_lumo_splitting_ev"),
        ("HOMO participation ratio", "homo_participation_ratio"),
        ("LUMO participation ratio", "lumo_participation_ratio"),
    ]
    for title, key in rows:
        table.add_row(title, *[cell(getattr(s, key)) for s in res.summary])
    table.add_row("HOMO on fragments", *[_top(s.homo_fragment_weights) for s in res.summary])
    table.add_row("LUMO on fragments", *[_top(s.lumo_fragment_weights) for s in res.summary])
    return table


def register(app: typer.Typer) -> None:
    """Add the ``analyze`` and ``compare`` commands to ``app``."""

    @app.command("analyze")
    @handle_errors
    def analyze(
        uuid: str = typer.Argument(..., help="Job uuid (or a unique prefix) of a stored result."),
        what: str = typer.Option("composition", "--what",
                                 help="composition | superatom | dos | export | optical | eda "
                                 "(eda: of an interaction, assembly or EDA uuid)"),
        method: str = typer.Option("mulliken", "--method", help="mulliken | lowdin | scpa"),
        orbitals: str | None = typer.Option(
            None, "--orbitals", help="Comma list, e.g. HOMO-1,HOMO,LUMO or 12,13."),
        fragment: str | None = typer.Option(
            None, "--fragment", help="superatom: centre on this fragment (default: all atoms)."),
        lmax: int = typer.Option(12, "--lmax", help="superatom: highest l (the rest is 'l>lmax')."),
        sigma: float = typer.Option(0.1, "--sigma", help="dos: Gaussian width in eV."),
        nstates: int = typer.Option(5, "--nstates", help="optical: TDA states to compute."),
        measured: float | None = typer.Option(
            None, "--measured", help="optical: measured optical gap (eV) to compare with."),
        out: Path | None = typer.Option(None, "--output", "-o", "--out",
                                        help="Folder for files (PNG, SVG, CSV, cube)."),
        as_json: bool = json_option(),
        as_csv: bool = typer.Option(False, "--csv",
                                    help="composition, optical: the table as CSV."),
        db: str | None = db_option(),
    ) -> None:
        """Composition, superatom character, DOS, cube/molden export or TDA optical gap."""
        if what not in WHAT:
            raise InputError(f"--what '{what}' unknown: use one of {', '.join(WHAT)}")
        if method not in METHODS:
            raise InputError(f"--method '{method}' unknown: use one of {', '.join(METHODS)}")
        from superatom.db import load_result

        _check_numbers(lmax=lmax, sigma=sigma, nstates=nstates)
        store = open_read_store(db)
        if what == "eda":
            from superatom.cli.eda import find_eda, show_eda

            show_eda(find_eda(store, uuid), 6, as_json)
            return
        doc = load_result(uuid, store=store)
        if fragment is not None and fragment not in (doc.fragments or []):
            known = ", ".join(doc.fragments) or "none in this result"
            raise InputError(f"--fragment '{fragment}' is not a fragment of this result "
                             f"(fragments: {known})")
        picks = _orbital_list(orbitals)
        if what == "composition":
            _composition(doc, method, picks, as_json, as_csv)
        elif what == "superatom":
            _superatom(doc, picks, fragment, lmax, out, as_json, uuid)
        elif what == "dos":
            _dos(doc, method, sigma, out, as_json, uuid)
        elif what == "optical":
            _optical(doc, store, nstates, measured, as_json, as_csv)
        else:
            _export(doc, picks, out, as_json, uuid)

    @app.command("compare")
    @handle_errors
    def compare(
        uuids: list[str] = typer.Argument(
            ..., help="Monomer uuids, then the assembly uuid last (a monomer may repeat)."),
        method: str = typer.Option("mulliken", "--method", help="mulliken | lowdin | scpa"),
        png: Path | None = typer.Option(None, "--png",
                                        help="Write the correlation diagram (300 dpi PNG)."),
        svg: Path | None = typer.Option(None, "--svg", help="... and/or as vector SVG."),
        as_json: bool = json_option(),
        db: str | None = db_option(),
    ) -> None:
        """Monomer -> assembly interaction: splittings, shifts, gap change, FO couplings."""
        from superatom.analysis.interaction import analyze_interaction
        from superatom.db import load_result

        if len(uuids) < 2:
            raise InputError("give at least one monomer uuid and then the assembly uuid")
        if method not in METHODS:
            raise InputError(f"--method '{method}' unknown: use one of {', '.join(METHODS)}")
        store = open_read_store(db)
        docs = {u: load_result(u, store=store) for u in dict.fromkeys(uuids)}
        res = analyze_interaction([docs[u] for u in uuids[:-1]], docs[uuids[-1]], method=method)
        figures = [p for p in (png_path(png), png_path(svg, "--svg")) if p is not None]
        for path in figures:
            from superatom.analysis.plots import plot_correlation_diagram, save_figure

            for k, spin in enumerate(res.spins):
                target = path if len(res.spins) == 1 else path.with_stem(f"{path.stem}_{spin}")
                save_figure(plot_correlation_diagram(res, spin=k), target)
        if as_json:
            print_json(res.model_dump())
            return
        console.print(_summary_table(res))
        for chan in res.fragment_orbitals.channels:
            table = Table(title=f"fragment-orbital couplings ({chan.spin})")
            for column in ("pair", "FO", "S", "J (eV)", "J_eff (eV)", "splitting (eV)"):
                table.add_column(column)
            for c in chan.couplings:
                table.add_row(f"{c.monomer_a} / {c.monomer_b}", c.label_a, f"{c.overlap:.4f}",
                              f"{c.coupling_ev:.4f}", f"{c.effective_coupling_ev:.4f}",
                              f"{c.predicted_splitting_ev:.4f}")
            console.print(table)
        for path in figures:
            console.print(f"correlation diagram: {path}", highlight=False)

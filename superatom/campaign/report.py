"""Campaign report from the store alone: summary tables (CSV + Markdown) and plots.

Examples
--------
>>> import tempfile
>>> from superatom.db import open_store
>>> collect_campaign(open_store(tempfile.mkdtemp()), "nothing")["systems"]
[]
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from jobflow import JobStore

from superatom.analysis.chain import ChainScalingResult, chain_warnings
from superatom.analysis.plots import CHAIN_TWO_POINT_WARNING
from superatom.db.query import newest_by
from superatom.schemas.registry import doc_type_of

SYSTEM_COLUMNS = ["name", "system_class", "role", "n_units", "formula", "charge",
                  "multiplicity", "method", "homo_ev", "lumo_ev", "gap_ev", "uuid"]


def collect_campaign(store: JobStore, campaign: str) -> dict[str, list[dict]]:
    """Newest stored system, interaction and chain documents of a campaign."""
    store.connect()
    raw = list(store.query({"output.campaign": campaign},
                           properties=["uuid", "output", "completed_at"],
                           sort={"completed_at": -1}))
    systems, interactions, chains, edas = [], [], [], []
    for doc in raw:
        out = doc["output"]
        out.pop("orbitals", None)
        kind = doc_type_of(out)
        if kind == "interaction":
            interactions.append({"uuid": doc["uuid"], **out})
        elif kind == "chain_scaling":
            chains.append({"uuid": doc["uuid"], **out})
        elif kind == "eda":
            edas.append({"uuid": doc["uuid"], **out})
        elif kind in ("frontier_orbitals", "xtb_frontier"):  # not TDA excitations
            row = {"uuid": doc["uuid"], **out}
            row["role"] = (out.get("tags") or {}).get("role", "system")
            systems.append(row)
    return {
        "systems": sorted(newest_by(systems, ("name", "method")),
                          key=lambda r: (r.get("system_class") or "", r.get("name") or "")),
        "interactions": newest_by(interactions, ("name", "method")),
        "chains": newest_by(chains, ("name", "method")),
        "edas": newest_by(edas, ("name", "method")),
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


COLUMN_TITLES = {
    "name": "name", "system_class": "class", "role": "role", "n_units": "n",
    "formula": "formula", "charge": "charge", "multiplicity": "2S+1", "method": "method",
    "homo_ev": "HOMO (eV)", "lumo_ev": "LUMO (eV)", "gap_ev": "gap (eV)",
    "homo_monomer_ev": "highest monomer HOMO (eV)", "homo_reference": "HOMO reference",
    "homo_assembly_ev": "assembly HOMO (eV)", "scf_guess": "SCF guess", "gaps_ev": "gaps (eV)",
}


def column_title(key: str) -> str:
    """Table header of a report column (CSV files keep the keys).

    Examples
    --------
    >>> column_title("homo_ev"), column_title("gap_change_ev"), column_title("tau_homo_ev")
    ('HOMO (eV)', 'gap change (eV)', 'tau homo (eV)')
    """
    from superatom.schemas.interaction import QUANTITIES, quantity_label

    if key in COLUMN_TITLES:
        return COLUMN_TITLES[key]
    if key in QUANTITIES:
        return quantity_label(key)
    words = key.removesuffix("_ev").replace("_", " ")
    return f"{words} (eV)" if key.endswith("_ev") else words


def plural(count: int, noun: str) -> str:
    """``1 interaction``, ``2 interactions``, ``1 chain series``.

    Examples
    --------
    >>> plural(1, "interaction"), plural(2, "system"), plural(3, "chain series")
    ('1 interaction', '2 systems', '3 chain series')
    """
    return f"{count} {noun}" if count == 1 or noun.endswith("series") else f"{count} {noun}s"


def markdown_text(text: str, cell: bool = False) -> str:
    """``text`` shown as written in Markdown: HTML characters escaped (a system name
    ``<img onerror=...>`` stays text), and in a table cell ``|`` too (no extra column).

    Examples
    --------
    >>> print(markdown_text("<b>a|b</b>", cell=True))
    &lt;b&gt;a\\|b&lt;/b&gt;
    """
    from html import escape

    text = escape(text, quote=False)
    return text.replace("|", "\\|") if cell else text


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    """A GitHub-flavoured Markdown table of ``rows``."""
    lines = ["| " + " | ".join(markdown_text(column_title(c), cell=True) for c in columns) + " |",
             "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(markdown_text(_fmt(row.get(c)), cell=True)
                                       for c in columns) + " |")
    return "\n".join(lines)


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _interaction_row(doc: dict) -> dict:
    summary = (doc["analysis"].get("summary") or [{}])[0] if not doc["analysis"].get(
        "level_only") else doc["analysis"]
    homo_m = [h for h in doc["homo_monomers_ev"] if h is not None]
    gaps = [g for g in doc["gap_monomers_ev"] if g is not None]
    levels = {"gap_monomer_ev": min(gaps) if gaps else None,
              "gap_assembly_ev": doc["gap_assembly_ev"]}
    return {
        "name": doc["name"], "method": doc["method"], "formula": doc["assembly_formula"],
        "homo_monomer_ev": max(homo_m) if homo_m else None,
        "homo_reference": summary.get("homo_reference"),
        "homo_assembly_ev": doc["homo_assembly_ev"],
        **{key: summary.get(key, levels.get(key)) for key in INTERACTION_COLUMNS},
        "scf_guess": doc["scf_guess"], "uuid": doc["uuid"],
    }


def eda_row(doc: dict) -> dict:
    """One report row of a stored EDA document (kcal/mol)."""
    from superatom import HARTREE_TO_KCAL_MOL
    from superatom.schemas.eda import pair_route

    terms = doc["terms"]
    row = {"name": doc["name"], "method": doc["method"].removeprefix("EDA/ETS-NOCV "),
           **{f"{key.removesuffix('_ha')}_kcal_mol": terms.get(key, 0.0) * HARTREE_TO_KCAL_MOL
              for key in ("e_int_ha", "e_elstat_ha", "e_pauli_ha", "e_orb_ha", "e_orb_ets_ha")}}
    pairs = sorted(doc.get("pairs") or [], key=lambda p: p["e_ha"])
    if pairs:
        top = pairs[0]
        row["pair1_kcal_mol"] = top["e_ha"] * HARTREE_TO_KCAL_MOL
        row["pair1_route"] = pair_route(top)
    row["uuid"] = doc["uuid"]
    return row


INTERACTION_COLUMNS = ("homo_shift_ev", "lumo_shift_ev", "gap_monomer_ev", "gap_assembly_ev",
                       "gap_change_ev", "homo_splitting_ev", "fo_homo_splitting_ev",
                       "lumo_splitting_ev", "fo_lumo_splitting_ev", "fo_homo_coupling_ev",
                       "homo_participation_ratio")


def interaction_notes(doc: dict) -> list[str]:
    """The stated reasons why numbers of one interaction that look alike differ."""
    if doc["analysis"].get("level_only"):
        return []
    return [f"{doc['name']}: {note}" for s in doc["analysis"].get("summary") or []
            for note in s.get("notes") or []]


def interaction_definitions() -> str:
    """One paragraph defining every interaction quantity of the report's table."""
    from superatom.schemas.interaction import QUANTITIES

    return "Definitions: " + "; ".join(f"{QUANTITIES[k][0]} = {QUANTITIES[k][1]}"
                                       for k in INTERACTION_COLUMNS) + "."


def _chain_row(doc: dict) -> dict:
    fit = doc["fit"]
    return {"name": doc["name"], "method": doc["method"],
            "n_units": " ".join(str(n) for n in doc["n_units"]),
            "gaps_ev": " ".join(_fmt(g) for g in doc["gap_ev"]),
            **{k: v for k, v in fit.items() if not isinstance(v, list | dict)},
            "uuid": doc["uuid"]}


def _display_rows(rows: list[dict]) -> list[dict]:
    """Rows with formulas as chemists write them (Hill order, [PW12O40]3-), the stored
    formula beside as ``formula_stored``."""
    from superatom.structures.notation import with_display_formula

    return [{**with_display_formula(row), "formula_stored": row.get("formula")} for row in rows]


def _short_methods(rows: list[dict]) -> list[dict]:
    """Rows with the short method label (``PBE0/def2-svp PCM``) for the page; CSVs keep the
    full method string."""
    from superatom.schemas.levels import short_method

    return [{**row, "method": short_method(row.get("method"))} for row in rows]


def _csv_columns(columns: list[str]) -> list[str]:
    """``columns`` with ``formula_stored`` right after ``formula``."""
    out = []
    for column in columns:
        out += [column, "formula_stored"] if column == "formula" else [column]
    return out


def write_report(store: JobStore, campaign: str, out_dir: str | Path,
                 dos: bool = True, data: dict[str, list[dict]] | None = None) -> dict[str, Any]:
    """Write the campaign report: CSV tables, ``summary.md``, a self-contained
    ``report.html`` and figures (300 dpi PNG + SVG): the level ladder of all systems,
    correlation diagrams, DOS/PDOS per DFT system (with the curves as CSV), interaction level
    shifts, energy decompositions (terms and leading NOCV pairs) and chain fits.

    ``data`` is what :func:`collect_campaign` returned for this campaign, when the caller
    has it already; otherwise it is collected here.

    Returns the collected documents, the list of files written and the warnings.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if data is None:
        data = collect_campaign(store, campaign)
    files = []
    _write_csv(out / "summary.csv", _display_rows(data["systems"]),
               _csv_columns(SYSTEM_COLUMNS))
    files.append(out / "summary.csv")
    inter_rows = [_interaction_row(d) for d in data["interactions"]]
    chain_rows = [_chain_row(d) for d in data["chains"]]
    if inter_rows:
        _write_csv(out / "interactions.csv", _display_rows(inter_rows),
                   _csv_columns(list(inter_rows[0])))
        files.append(out / "interactions.csv")
    if chain_rows:
        columns = list(dict.fromkeys(k for row in chain_rows for k in row))
        _write_csv(out / "chains.csv", chain_rows, columns)
        files.append(out / "chains.csv")
    figures = _plots(data, out, store if dos else None)
    files += [f for group in figures.values() for f in group]
    warnings = [f"chain '{d['name']}': {CHAIN_TWO_POINT_WARNING.replace(chr(10), ' ')}"
                for d in data["chains"] if len(set(d["n_units"])) <= 2]
    warnings += [f"chain '{d['name']}': {w}" for d in data["chains"]
                 for w in chain_warnings(ChainScalingResult(**d["fit"]))]
    blocks: list[tuple[str, Any]] = [
        ("h1", f"Campaign `{campaign}`"),
        ("p", f"{plural(len(data['systems']), 'system')}, "
              f"{plural(len(data['interactions']), 'interaction')}, "
              f"{plural(len(data['chains']), 'chain series')}. Energies in eV."),
        ("p", run_stamp(data)),
        ("h2", "Frontier levels per system and assembly level"),
        ("table", (_short_methods(_display_rows(data["systems"])), SYSTEM_COLUMNS[:-1])),
    ]
    blocks += [("figure", f) for f in figures.get("ladder", [])]
    if inter_rows:
        blocks += [("h2", "Interactions (monomer -> assembly)"),
                   ("table", (_short_methods(_display_rows(inter_rows)),
                              list(inter_rows[0])[:-1])),
                   ("p", interaction_definitions())]
        blocks += [("p", f"Note: {n}") for d in data["interactions"] for n in interaction_notes(d)]
        blocks += [("figure", f) for key in ("correlation", "shifts") for f in figures[key]]
    eda_rows = [eda_row(d) for d in data.get("edas", [])]
    if eda_rows:
        blocks += [("h2", "Energy decomposition (EDA/ETS-NOCV, kcal/mol)"),
                   ("p", "E_int = elstat + Pauli + orb (+ disp, solvation); fragments in their "
                         "own atoms' basis; pair1 is the strongest NOCV channel and the "
                         "fragments it moves charge from and to."),
                   ("table", (eda_rows, list(eda_rows[0])[:-1]))]
        blocks += [("figure", f) for f in figures["eda"]]
    if chain_rows:
        columns = [c for c in dict.fromkeys(k for row in chain_rows for k in row) if c != "uuid"]
        blocks += [("h2", "Chain scaling"), ("table", (chain_rows, columns))]
        blocks += [("p", f"Warning: {w}") for w in warnings]
        blocks += [("figure", f) for f in figures["chain"]]
    if figures.get("dos"):
        blocks += [("h2", "Density of states (Gaussian 0.1 eV; curves in dos_*.csv)"),
                   ("p", "PDOS curves split each orbital by Lowdin populations, which are never "
                         "negative (Mulliken shares can be, for diffuse basis functions).")]
        blocks += [("figure", f) for f in figures["dos"]]
    unbound = [r["name"] for r in data["systems"]
               if (r.get("homo_ev") or 0) > 0 and (r.get("charge") or 0) < 0
               and (r.get("settings") or {}).get("solvent", "none") == "none"]
    blocks += [("p", f"Note: {n}") for n in valence_notes(store if dos else None,
                                                          data["systems"])]
    if unbound:
        blocks += [("p", f"Note: {', '.join(unbound)} have a positive (unbound) HOMO: highly "
                         "charged anions in vacuum. Compare levels only within one method; for "
                         "absolute levels use the DFT tier with a continuum solvent (preset "
                         "'screening', C-PCM).")]
    captions = figure_captions(data)
    (out / "summary.md").write_text(render_markdown(blocks, captions))
    (out / "report.html").write_text(render_html(blocks, f"Campaign {campaign}", captions))
    files += [out / "summary.md", out / "report.html"]
    return {"data": data, "files": [str(f) for f in files], "warnings": warnings}


def run_stamp(data: dict[str, list[dict]]) -> str:
    """When the campaign's calculations were computed and with which codes (from the
    documents, so a report rebuilt from the store is the same file, also after a rerun that
    redid the analyses)."""
    docs = [d for group in data.values() for d in group]
    # the calculations' dates: analyses and fits are redone from them on every run
    dates = sorted(str(d["created_at"])[:16].replace("T", " ") for d in data.get("systems", [])
                   if d.get("created_at"))
    versions: dict[str, set[str]] = {}
    for doc in docs:
        for code, version in (doc.get("versions") or {}).items():
            versions.setdefault(code, set()).add(str(version))
    codes = ", ".join(f"{code} {'/'.join(sorted(v))}" for code, v in sorted(versions.items()))
    when = f"computed {dates[0]} to {dates[-1]} UTC" if dates else "no results stored"
    return f"Results {when}. Codes: {codes or 'not recorded'}."


def figure_captions(data: dict[str, list[dict]]) -> dict[str, str]:
    """Caption of every per-item figure, by file stem, with the item's own name and method."""
    from superatom.schemas.levels import short_method

    out = {}
    for kind, prefix, text in (("interactions", "correlation_", "Orbital correlation diagram"),
                               ("chains", "chain_", "Chain scaling fit"),
                               ("systems", "dos_", "Density of states (Lowdin PDOS)")):
        for doc in data.get(kind, []):
            out[f"{prefix}{_slug(doc['name'])}"] = (
                f"{text}: {doc['name']} [{short_method(doc.get('method'))}]")
    return out


def figure_caption(path: Path, captions: dict[str, str] | None = None) -> str:
    """Caption of a report figure: from ``captions`` (by file stem), else from its file name.

    Examples
    --------
    >>> figure_caption(Path("correlation_MoO3_2.svg"))
    'Orbital correlation diagram: MoO3_2'
    >>> figure_caption(Path("levels.svg"))
    'Frontier levels of every system'
    """
    kinds = {"levels": "Frontier levels of every system",
             "level_shifts": "HOMO/LUMO of the monomers and the assembly per interaction"}
    prefixes = {"correlation_": "Orbital correlation diagram", "chain_": "Chain scaling fit",
                "dos_": "Density of states"}
    stem = path.stem
    if captions and stem in captions:
        return captions[stem]
    if stem in kinds:
        return kinds[stem]
    if stem.startswith("levels_"):
        return f"Frontier levels, {stem.removeprefix('levels_')} tier"
    for prefix, text in prefixes.items():
        if stem.startswith(prefix):
            return f"{text}: {stem.removeprefix(prefix)}"
    return stem


def render_markdown(blocks: list[tuple[str, Any]],
                    captions: dict[str, str] | None = None) -> str:
    """Markdown of report blocks (``h1``, ``h2``, ``p``, ``table``, ``figure``)."""
    lines: list[str] = []
    for kind, value in blocks:
        if kind == "h1":
            lines += [f"# {markdown_text(value)}", ""]
        elif kind == "h2":
            lines += [f"## {markdown_text(value)}", ""]
        elif kind == "p":
            lines += [markdown_text(value), ""]
        elif kind == "table":
            lines += [markdown_table(*value), ""]
        elif kind == "figure" and value.suffix == ".png":
            lines += [f"![{value.stem}]({value.name}) ([SVG]({value.with_suffix('.svg').name}))",
                      f"*{figure_caption(value, captions)}*", ""]
    return "\n".join(lines).rstrip() + "\n"


def render_html(blocks: list[tuple[str, Any]], title: str,
                captions: dict[str, str] | None = None) -> str:
    """One self-contained HTML page (figures embedded as SVG) of the report blocks."""
    from html import escape

    body = []
    for kind, value in blocks:
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{escape(value.replace('`', ''))}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{escape(value)}</p>")
        elif kind == "table":
            rows, columns = value
            head = "".join(f"<th>{escape(column_title(c))}</th>" for c in columns)
            cells = ["<tr>" + "".join(f"<td>{escape(_fmt(r.get(c)))}</td>" for c in columns)
                     + "</tr>" for r in rows]
            body.append(f"<div class='wide'><table><tr>{head}</tr>{''.join(cells)}"
                        "</table></div>")
        elif kind == "figure" and value.suffix == ".svg":
            svg = value.read_text()
            body.append(f"<figure>{svg[svg.find('<svg'):]}<figcaption>"
                        f"{escape(figure_caption(value, captions))}"
                        "</figcaption></figure>")
    style = ("body{font-family:sans-serif;max-width:1160px;margin:auto;padding:0 8px}"
             ".wide{overflow-x:auto;max-width:100%}"
             "table{border-collapse:collapse;font-size:12px}"
             "th{max-width:7em;white-space:normal;vertical-align:bottom}"
             "td,th{border:1px solid #ccc;padding:2px 5px;text-align:right}"
             "figure svg{max-width:100%;height:auto}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


def _plots(data: dict[str, list[dict]], out: Path,
           store: JobStore | None) -> dict[str, list[Path]]:
    """All report figures, each as 300 dpi PNG and SVG, by kind."""
    from superatom.analysis.chain import ChainScalingResult
    from superatom.analysis.interaction import InteractionResult
    from superatom.analysis.plots import (
        plot_chain,
        plot_correlation_diagram,
        plot_eda,
        plot_level_ladders,
        plot_level_shifts,
        save_png_svg,
    )

    figures: dict[str, list[Path]] = {"ladder": [], "correlation": [], "shifts": [],
                                      "chain": [], "dos": [], "eda": []}
    if data["systems"]:
        rows = [{**row, "label": row["name"] if row["formula"] in (row["name"], None)
                 else f"{row['name']}\n{row['formula']}"}
                for row in _display_rows(_distinct(data["systems"]))]
        ax = plot_level_ladders(rows)
        ax.figure.suptitle("frontier levels by method and system class", fontsize=10)
        figures["ladder"] = save_png_svg(ax, out / "levels")
    for doc in data["interactions"]:
        if doc["analysis"].get("level_only"):
            continue
        ax = plot_correlation_diagram(InteractionResult(**doc["analysis"]))
        ax.set_title(f"{doc['name']}  [{doc['method']}]")
        figures["correlation"] += save_png_svg(ax, out / f"correlation_{_slug(doc['name'])}")
    if data["interactions"]:
        figures["shifts"] = save_png_svg(plot_level_shifts(data["interactions"]),
                                         out / "level_shifts")
    for doc in data.get("edas", []):
        figures["eda"] += save_png_svg(plot_eda(doc), out / f"eda_{_slug(doc['name'])}")
    for doc in data["chains"]:
        ax = plot_chain(ChainScalingResult(**doc["fit"]))
        ax.set_title(f"{doc['name']}  [{doc['method']}]")
        figures["chain"] += save_png_svg(ax, out / f"chain_{_slug(doc['name'])}")
    if store is not None:
        for row in _distinct(data["systems"]):
            figures["dos"] += _dos_figure(store, row, out)
    return figures


def _distinct(rows: list[dict]) -> list[dict]:
    """One row per calculation: the same input (e.g. a chain member that is also a system)
    appears once."""
    return newest_by(rows, ("input_hash",)) if all("input_hash" in r for r in rows) else rows


def _dos_figure(store: JobStore, row: dict, out: Path) -> list[Path]:
    """DOS/PDOS of one DFT system (fragment PDOS, else element) as PNG, SVG and CSV."""
    from superatom.analysis.dos import density_of_states, write_dos_csv
    from superatom.analysis.plots import plot_dos, save_png_svg
    from superatom.db.query import load_result

    if doc_type_of(row) != "frontier_orbitals":
        return []
    doc = load_result(row["uuid"], store=store)
    if doc.orbitals is None:
        return []
    res = density_of_states(doc, sigma_ev=0.1, method="lowdin")  # never negative
    ax = plot_dos(res)
    ax.set_title(f"{row['name']}  [{row.get('method', '')}]", fontsize=9, pad=14)
    stem = out / f"dos_{_slug(row['name'])}"
    return [*save_png_svg(ax, stem), write_dos_csv(res, stem.with_suffix(".csv"))]


def valence_notes(store: JobStore | None, systems: list[dict]) -> list[str]:
    """One line per DFT system whose formal LUMO is not a valence (metal d) level."""
    from superatom.analysis.valence import valence_frontier
    from superatom.db.query import load_result

    notes = []
    for row in _distinct(systems) if store is not None else []:
        if doc_type_of(row) != "frontier_orbitals":
            continue
        doc = load_result(row["uuid"], store=store)
        if doc.orbitals is None:
            continue
        res = valence_frontier(doc)
        if not res.formal_lumo_valence:
            notes.append(res.summary() + ". The gap column is the formal HOMO-LUMO gap; the "
                         "O 2p -> metal d gap is the valence gap.")
    return notes


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)

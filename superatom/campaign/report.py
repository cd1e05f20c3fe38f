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

SYSTEM_COLUMNS = ["name", "system_class", "role", "n_units", "formula", "charge",
                  "multiplicity", "method", "homo_ev", "lumo_ev", "gap_ev", "uuid"]


def _newest_by(rows: list[dict], key: tuple[str, ...]) -> list[dict]:
    seen: dict[tuple, dict] = {}
    for row in rows:  # rows arrive newest first
        seen.setdefault(tuple(row.get(k) for k in key), row)
    return list(seen.values())


def collect_campaign(store: JobStore, campaign: str) -> dict[str, list[dict]]:
    """Newest stored system, interaction and chain documents of a campaign."""
    store.connect()
    raw = list(store.query({"output.campaign": campaign},
                           properties=["uuid", "output", "completed_at"],
                           sort={"completed_at": -1}))
    systems, interactions, chains = [], [], []
    for doc in raw:
        out = doc["output"]
        out.pop("orbitals", None)
        kind = out.get("doc_type")
        if kind == "interaction":
            interactions.append({"uuid": doc["uuid"], **out})
        elif kind == "chain_scaling":
            chains.append({"uuid": doc["uuid"], **out})
        elif "homo_ev" in out:
            row = {"uuid": doc["uuid"], **out}
            row["role"] = (out.get("tags") or {}).get("role", "system")
            systems.append(row)
    return {
        "systems": sorted(_newest_by(systems, ("name", "method")),
                          key=lambda r: (r.get("system_class") or "", r.get("name") or "")),
        "interactions": _newest_by(interactions, ("name", "method")),
        "chains": _newest_by(chains, ("name", "method")),
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    """A GitHub-flavoured Markdown table of ``rows``."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c)) for c in columns) + " |")
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
    return {
        "name": doc["name"], "method": doc["method"], "formula": doc["assembly_formula"],
        "homo_monomer_ev": max(homo_m) if homo_m else None,
        "homo_assembly_ev": doc["homo_assembly_ev"],
        "gap_monomer_ev": min(gaps) if gaps else None, "gap_assembly_ev": doc["gap_assembly_ev"],
        "homo_shift_ev": summary.get("homo_shift_ev"),
        "gap_change_ev": summary.get("gap_change_ev"),
        "homo_splitting_ev": summary.get("homo_splitting_ev"),
        "lumo_splitting_ev": summary.get("lumo_splitting_ev"),
        "homo_participation_ratio": summary.get("homo_participation_ratio"),
        "fo_homo_coupling_ev": summary.get("fo_homo_coupling_ev"),
        "scf_guess": doc["scf_guess"], "uuid": doc["uuid"],
    }


def _chain_row(doc: dict) -> dict:
    fit = doc["fit"]
    return {"name": doc["name"], "method": doc["method"],
            "n_units": " ".join(str(n) for n in doc["n_units"]),
            "gaps_ev": " ".join(_fmt(g) for g in doc["gap_ev"]),
            **{k: v for k, v in fit.items() if not isinstance(v, list | dict)},
            "uuid": doc["uuid"]}


def write_report(store: JobStore, campaign: str, out_dir: str | Path) -> dict[str, Any]:
    """Write ``summary.csv``, ``summary.md``, ``interactions.csv``, ``chains.csv`` and plots.

    Returns the collected documents and the list of files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = collect_campaign(store, campaign)
    files = []
    _write_csv(out / "summary.csv", data["systems"], SYSTEM_COLUMNS)
    files.append(out / "summary.csv")
    inter_rows = [_interaction_row(d) for d in data["interactions"]]
    chain_rows = [_chain_row(d) for d in data["chains"]]
    if inter_rows:
        _write_csv(out / "interactions.csv", inter_rows, list(inter_rows[0]))
        files.append(out / "interactions.csv")
    if chain_rows:
        columns = list(dict.fromkeys(k for row in chain_rows for k in row))
        _write_csv(out / "chains.csv", chain_rows, columns)
        files.append(out / "chains.csv")
    files += _plots(data, out)
    md = [f"# Campaign `{campaign}`", "",
          f"{len(data['systems'])} systems, {len(data['interactions'])} interactions, "
          f"{len(data['chains'])} chain series. Energies in eV.", "",
          "## Frontier levels per system and assembly level", "",
          markdown_table(data["systems"], SYSTEM_COLUMNS[:-1])]
    if inter_rows:
        md += ["", "## Interactions (monomer -> assembly)", "",
               markdown_table(inter_rows, list(inter_rows[0])[:-1])]
    if chain_rows:
        columns = [c for c in dict.fromkeys(k for row in chain_rows for k in row) if c != "uuid"]
        md += ["", "## Chain scaling", "", markdown_table(chain_rows, columns)]
    unbound = [r["name"] for r in data["systems"]
               if (r.get("homo_ev") or 0) > 0 and (r.get("charge") or 0) < 0
               and (r.get("settings") or {}).get("solvent", "none") == "none"]
    if unbound:
        md += ["", f"Note: {', '.join(unbound)} have a positive (unbound) HOMO: highly charged "
               "anions in vacuum. Compare levels only within one method; for absolute levels "
               "use the DFT tier with a continuum solvent (preset 'screening', C-PCM)."]
    pictures = [f for f in files if f.suffix == ".png"]
    if pictures:
        md += ["", "## Plots", ""] + [f"![{p.stem}]({p.name})" for p in pictures]
    (out / "summary.md").write_text("\n".join(md) + "\n")
    files.append(out / "summary.md")
    return {"data": data, "files": [str(f) for f in files]}


def _plots(data: dict[str, list[dict]], out: Path) -> list[Path]:
    """Correlation diagrams of DFT interactions and the chain-scaling plots."""
    from superatom.analysis.chain import ChainScalingResult
    from superatom.analysis.interaction import InteractionResult
    from superatom.analysis.plots import plot_chain, plot_correlation_diagram, save_figure

    written = []
    for doc in data["interactions"]:
        if doc["analysis"].get("level_only"):
            continue
        ax = plot_correlation_diagram(InteractionResult(**doc["analysis"]))
        ax.set_title(f"{doc['name']}  [{doc['method']}]")
        written.append(save_figure(ax, out / f"correlation_{_slug(doc['name'])}.png", dpi=120))
    for doc in data["chains"]:
        ax = plot_chain(ChainScalingResult(**doc["fit"]))
        ax.set_title(f"{doc['name']}  [{doc['method']}]")
        written.append(save_figure(ax, out / f"chain_{_slug(doc['name'])}.png", dpi=120))
    return written


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)

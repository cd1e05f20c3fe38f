"""The campaign report (Markdown + self-contained HTML, 300 dpi PNG + SVG figures), the
figures themselves, structure pictures, formula notation and the plain-function API."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from ase import Atoms
from matplotlib.collections import PolyCollection
from PIL import Image
from typer.testing import CliRunner

from superatom.analysis.chain import chain_scaling
from superatom.analysis.plots import plot_chain, plot_level_ladder
from superatom.calc_settings import load_preset
from superatom.cli.main import app
from superatom.errors import InputError
from superatom.structures.notation import display_formula
from superatom.structures.registry import build_structure
from superatom.structures.render import bonds, coordination_polyhedra, render_png
from superatom.workflows.frontier import compute_frontier
from tests.molecules import water
from tests.test_engine import direct_pyscf

runner = CliRunner()
CAMPAIGN = """
name: pictures
preset: fast
settings: {device: cpu}
systems:
  - {name: water, file: water.xyz, system_class: molecule}
  - {name: water-dimer, file: water_dimer.xyz, system_class: dimer}
  - {name: h2-1, file: h2_1.xyz, n_units: 1, system_class: h-chain}
  - {name: h2-2, file: h2_2.xyz, n_units: 2, system_class: h-chain}
interactions:
  - {name: water-dimer, system: water-dimer}
chains:
  - {name: h2-pair, members: [h2-1, h2-2], system_class: h-chain}
"""


def h2_chain(n: int) -> str:
    lines = [f"H 0 0 {1.8 * k:.3f}\nH 0 0 {1.8 * k + 0.74:.3f}" for k in range(n)]
    return f"{2 * n}\ncharge=0 multiplicity=1\n" + "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from pathlib import Path

    folder = tmp_path_factory.mktemp("report")
    data = Path(__file__).parent / "data"
    for name in ("water.xyz", "water_dimer.xyz"):
        (folder / name).write_text((data / name).read_text())
    for n in (1, 2):
        (folder / f"h2_{n}.xyz").write_text(h2_chain(n))
    (folder / "campaign.yaml").write_text(CAMPAIGN)
    result = runner.invoke(app, ["screen", str(folder / "campaign.yaml"), "-d",
                                 str(folder / "db"), "-o", str(folder / "out"), "--json"])
    assert result.exit_code == 0, result.output
    return folder / "out", json.loads(result.stdout)


def test_report_has_markdown_html_and_every_figure_as_png_and_svg(report):
    out, summary = report
    assert summary["failed"] == []
    for stem in ("levels", "correlation_water-dimer", "level_shifts", "chain_h2-pair",
                 "dos_water", "dos_water-dimer"):
        assert (out / f"{stem}.png").exists() and (out / f"{stem}.svg").exists(), stem
    for png in out.glob("*.png"):
        with Image.open(png) as image:
            assert image.format == "PNG" and min(image.info["dpi"]) >= 299.5, png.name
    for svg in out.glob("*.svg"):
        text = svg.read_text()
        assert text.lstrip().startswith("<?xml") and "<path" in text, svg.name  # vector
    markdown = (out / "summary.md").read_text()
    assert "![levels](levels.png)" in markdown and "(levels.svg)" in markdown
    html = (out / "report.html").read_text()
    assert html.count("<svg") == len(list(out.glob("*.svg")))
    assert not re.findall(r'(?:src|href)="(?!#)', html)  # nothing outside the file
    assert "<table>" in html and "water-dimer" in html


def test_two_point_chain_fit_is_flagged(report):
    out, _ = report
    markdown = (out / "summary.md").read_text()
    assert "Warning: chain 'h2-pair': fit through only two chain lengths" in markdown
    assert [w.split(":")[0] for w in report[1]["warnings"]] == ["chain 'h2-pair'"]
    result = plot_chain(chain_scaling([1, 2], [-12.0, -10.0], [2.5, 1.9]))
    assert any("only two chain lengths" in t.get_text() for t in result.texts)
    assert not [c for c in result.collections if isinstance(c, PolyCollection)]
    three = plot_chain(chain_scaling([1, 2, 3], [-12.0, -10.0, -9.1], [2.5, 1.9, 1.6]))
    assert not three.texts  # no warning, but fit bands: HOMO, LUMO and the gap's own
    assert len([c for c in three.collections if isinstance(c, PolyCollection)]) == 3
    assert "cos" in three.get_legend().get_title().get_text()  # the fit form is stated


def test_non_monotonic_three_point_chain_is_flagged():
    from superatom.analysis.chain import chain_warnings

    # LUMO goes down then up: a three-point series the tight-binding form does not follow
    res = chain_scaling([1, 2, 3], [-9.13, -8.90, -8.75], [-3.77, -4.87, -4.20])
    warnings = chain_warnings(res)
    assert [w.split(" ")[0] for w in warnings] == ["LUMO", "gap"]
    ax = plot_chain(res)
    flagged = " ".join(t.get_text().replace("\n", " ") for t in ax.texts)
    assert "LUMO not monotonic in n" in flagged and "extrapolation from n <= 3" in flagged
    assert not chain_warnings(chain_scaling([1, 2, 3], [-12.0, -10.0, -9.1], [2.5, 1.9, 1.6]))


def test_dos_curves_are_stored_and_partitions_add_up(report):
    out, _ = report
    table = np.genfromtxt(out / "dos_water-dimer.csv", delimiter=",", names=True)
    names = table.dtype.names
    assert names[:2] == ("energy_ev", "total")
    fragments = [n for n in names if n.startswith("fragment")]
    assert len(fragments) == 2  # W1 and W2
    fragment_sum = sum(table[n] for n in fragments)
    assert np.allclose(fragment_sum, table["total"], atol=1e-4 * table["total"].max())


def test_level_ladder_groups_by_class_and_annotates_gaps():
    systems = [
        {"name": "a", "system_class": "x", "homo_ev": -7.0, "lumo_ev": -1.0, "gap_ev": 6.0,
         "orbital_energies_ev": [-9.0, -7.0, -1.0, 0.5], "occupations": [2, 2, 0, 0]},
        {"name": "b", "system_class": "y", "homo_ev": -6.0, "lumo_ev": -3.5, "gap_ev": 2.5},
        {"name": "c", "system_class": "x", "homo_ev": -5.0, "lumo_ev": -2.0, "gap_ev": 3.0},
    ]
    ax = plot_level_ladder(systems, label_key="name")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "c", "b"]  # class x first
    texts = {t.get_text() for t in ax.texts}
    assert {"6.00", "3.00", "2.50"} <= texts and {"x", "y"} <= texts
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["occupied", "virtual"]


def test_correlation_diagram_has_fragment_and_occupation_legend(report):
    from superatom.analysis.interaction import InteractionResult
    from superatom.analysis.plots import plot_correlation_diagram
    from superatom.db import open_store

    out, _ = report
    store = open_store(out.parent / "db")
    store.connect()
    doc = store.query_one({"output.doc_type": "interaction"})["output"]
    ax = plot_correlation_diagram(InteractionResult(**doc["analysis"]))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "occupied" in legend and "virtual" in legend
    assert any(t.startswith("overlap $|\\langle") for t in legend)  # mathtext, not raw
    bar = next(a for a in ax.figure.axes if a is not ax)  # the share colour bar
    ticks = [t.get_text() for t in bar.get_yticklabels()]
    assert ticks == ["on W1", "shared", "on W2"]
    assert "share" in bar.get_ylabel()
    # fragment results named "assembly:fragment" are shown by their fragment name
    assert ax.get_xticklabels()[0].get_text() == "W1"


def test_pom_and_hill_notation():
    keggin = build_structure("keggin")
    assert display_formula(keggin.composition.formula, keggin.charge) == "[PW12O40]3-"
    assert display_formula("H4C1", 0) == "CH4"
    assert display_formula("H1O1", -1) == "[HO]-"


def test_keggin_picture_shows_twelve_wo6_octahedra(tmp_path):
    keggin = build_structure("keggin")
    cages = coordination_polyhedra(keggin)
    symbols = [s.specie.symbol for s in keggin]
    assert len(cages) == 12 and {symbols[m] for m in cages} == {"W"}
    assert all(len(oxygens) == 6 for oxygens in cages.values())
    assert len(bonds(water())) == 2
    png = tmp_path / "keggin.png"
    render_png(keggin, png)
    with Image.open(png) as image:
        assert min(image.info["dpi"]) >= 299.5 and image.size[0] >= 1500
    render_png(keggin, tmp_path / "k.svg", style="ball-and-stick")
    assert "<path" in (tmp_path / "k.svg").read_text()
    with pytest.raises(InputError, match="unknown picture style"):
        render_png(keggin, tmp_path / "x.png", style="wireframe")


def test_plain_functions_take_atoms_molecules_and_preset_names():
    reference = direct_pyscf(water())
    mol = water()
    atoms = Atoms([s.specie.symbol for s in mol], positions=mol.cart_coords)
    from_atoms = compute_frontier(atoms, "fast")
    from_settings = compute_frontier(mol, load_preset("fast", device="cpu"))
    for doc in (from_atoms, from_settings):
        assert doc.e_tot_ha == pytest.approx(reference.e_tot, abs=1e-6)
    with pytest.raises(InputError, match="expected a pymatgen Molecule or an ASE Atoms"):
        compute_frontier("water.xyz", "fast")
    with pytest.raises(InputError, match="settings must be a CalcSettings, a preset name"):
        compute_frontier(mol, 3)
    with pytest.raises(InputError, match="unknown preset"):
        compute_frontier(mol, "best")


def test_report_tables_use_one_formula_notation_and_readable_headers(report):
    import csv

    out, _ = report
    with (out / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    water = next(r for r in rows if r["name"] == "water")
    assert water["formula"] == display_formula(water["formula_stored"], 0) == "H2O"
    assert water["formula_stored"] != water["formula"]  # the stored one, beside
    html = (out / "report.html").read_text()
    headers = re.findall(r"<th>([^<]*)</th>", html)
    assert "HOMO (eV)" in headers and "HOMO splitting (eV)" in headers
    assert not [h for h in headers if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", h)]  # no keys
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", html)
    assert captions and not [c for c in captions if c.startswith(("correlation_", "dos_"))]
    assert any(c.startswith("Orbital correlation diagram: water-dimer [") for c in captions)
    assert any(c.startswith("Density of states (Lowdin PDOS): water [") for c in captions)
    assert "1 interaction," in html and "1 interactions" not in html
    assert "Codes: " in html and "pyscf" in html and "Results computed 20" in html
    assert "Definitions: HOMO shift = assembly HOMO - highest monomer HOMO" in html
    assert "overflow-x:auto" in html


def test_level_ladder_never_mixes_methods_on_one_axis():
    from superatom.analysis.plots import plot_level_ladders

    systems = [
        {"name": "PW12", "system_class": "pom", "method": "GFN2-xTB (gbsa water)",
         "homo_ev": -15.9, "lumo_ev": -12.7, "gap_ev": 3.2},
        {"name": "MoO4", "system_class": "oxo", "method": "RKS-PBE0/def2-svp DF C-PCM(eps=78.36)",
         "homo_ev": -6.1, "lumo_ev": 0.8, "gap_ev": 6.9},
        {"name": "W6O19", "system_class": "pom", "method": "GFN2-xTB (gbsa water)",
         "homo_ev": -15.0, "lumo_ev": -11.3, "gap_ev": 3.7},
    ]
    ax = plot_level_ladders(systems, label_key="name")
    panels = ax.figure.axes
    assert len(panels) == 2
    for panel in panels:
        method = panel.get_title().split("  ")[0]
        ticks = [t.get_text() for t in panel.get_xticklabels()]
        expected = [s["name"] for s in systems if s["method"] == method]
        assert [t.split("\n")[0] for t in ticks] == expected  # only its own method's systems
        short = "GFN2-xTB" if "xTB" in method else "PBE0/def2-svp PCM"
        assert all(t.endswith(short) for t in ticks)  # method named under each system
        low, high = panel.get_ylim()
        assert all(low < s["homo_ev"] < high for s in systems if s["method"] == method)


def test_rerun_prints_the_plan_as_tsv_and_says_what_it_recomputed(report):
    out, _ = report
    folder = out.parent
    result = runner.invoke(app, ["screen", str(folder / "campaign.yaml"), "-d",
                                 str(folder / "db"), "-o", str(folder / "again")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = lines[0].split("\t")
    assert header[:3] == ["kind", "name", "tier"] and "│" not in result.stdout
    rows = [line.split("\t") for line in lines[1:] if line.count("\t") == len(header) - 1]
    assert {r[header.index("name")] for r in rows} >= {"water", "water-dimer", "h2-pair"}
    counts = next(line for line in lines if " computed" in line and " reused" in line)
    # the SCFs are reused; the analyses are redone, and the line says so and why
    assert "interaction analysis" in counts and "chain scaling fit" in counts
    assert "analyses are redone from the stored results" in counts
    assert "no stored result" not in counts


def test_level_shifts_say_which_monomer_level_is_the_reference():
    from superatom.analysis.plots import plot_level_shifts

    ax = plot_level_shifts([{"name": "AB", "homo_monomers_ev": [-6.0, -6.4],
                             "lumo_monomers_ev": [-3.0, -2.5], "homo_assembly_ev": -5.6,
                             "lumo_assembly_ev": -3.2}])
    assert "highest HOMO" in ax.get_xticklabels()[0].get_text()
    shifts = sorted(t.get_text() for t in ax.texts)
    assert shifts == ["+0.40", "-0.20"]  # against -6.0 (highest) and -3.0 (lowest)
    assert ax.get_xlim()[1] > 1.35 + 0.5  # the labels right of the assembly level fit

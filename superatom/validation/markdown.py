"""The tables of ``docs/validation.md``, rendered from stored validation rows.

Each level's table sits between ``<!-- validation-table LEVEL -->`` and
``<!-- end validation-table -->``; :func:`write_docs` replaces only what lies between them
and writes the rows it shows beside the page (``validation_rows.jsonl``), the full record
(settings, input hashes, versions) behind every number. Items without a row are
``not run``.

Examples
--------
>>> from superatom.validation.references import reference
>>> from superatom.validation.suite import Outcome
>>> row = Outcome(reference("dft-oh-detachment"), 1.67, "pass", "Delta-SCF 1.67 eV", 2.0,
...               compute_s=3.4, machine={"cpu": "Xeon", "usable_cores": 2, "device": "cpu"},
...               finished_at="2026-12-01T23:00:00+00:00")
>>> line = level_table("quick", {"dft-oh-detachment": row}).splitlines()[-1]
>>> "| 1.670 eV (Delta-SCF 1.67 eV) | pass | 3.4 s | Xeon, 2 cores, cpu, 2026-12-01 |" in line
True
"""

from __future__ import annotations

import re
from pathlib import Path

from superatom.validation.references import REFERENCES
from superatom.validation.rows import ROWS_FILE, write_rows
from superatom.validation.suite import Outcome, reference_text

__all__ = ["level_table", "render_page", "summary_line", "write_docs"]

_COLUMNS = ("item", "compared", "method", "reference", "tolerance (why)", "computed",
            "result", "wall time", "machine")
_BLOCK = re.compile(r"(<!-- validation-table (quick|full) -->\n).*?(<!-- end validation-table -->)",
                    re.S)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def duration(seconds: float | None) -> str:
    """``0.4 s``, ``42 s``, ``5 min 15 s`` or ``2 h 03 min``; ``-`` when unknown.

    >>> duration(0.42), duration(315.2), duration(7400), duration(None)
    ('0.4 s', '5 min 15 s', '2 h 03 min', '-')
    """
    if seconds is None:
        return "-"
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _machine(row: Outcome) -> str:
    host = row.machine
    cores = host.get("usable_cores") or host.get("cores")
    parts = [host.get("cpu") or "?", f"{cores} cores" if cores else None,
             host.get("gpu") or host.get("device"), (row.finished_at or "")[:10] or None]
    return ", ".join(p for p in parts if p)


def level_table(level: str, rows: dict[str, Outcome]) -> str:
    """The markdown table of one level's items (``rows``: outcome by key)."""
    lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    for ref in (r for r in REFERENCES if r.level == level):
        row = rows.get(ref.key)
        measured = row is not None and row.status != "not run"
        computed = "-"
        if measured and row.computed is not None:
            computed = f"{row.computed:.3f} {ref.unit} ({row.detail})"
        elif measured:
            computed = row.detail
        cells = [ref.key, ref.title, ref.method,
                 f"{reference_text(ref)}{'' if ref.kind == 'order' else ' ' + ref.unit}: "
                 f"{ref.source}", ref.why_tolerance, computed,
                 row.status if measured else "not run",
                 duration(row.compute_s) if measured else "-",
                 _machine(row) if measured else "-"]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def summary_line(level: str, rows: dict[str, Outcome]) -> str:
    """``**5 of 7 pass**, 1 fail, 1 not run`` for one level."""
    refs = [r for r in REFERENCES if r.level == level]
    counts: dict[str, int] = {}
    for ref in refs:
        status = rows[ref.key].status if ref.key in rows else "not run"
        counts[status] = counts.get(status, 0) + 1
    rest = [f"{n} {s}" for s, n in counts.items() if s != "pass"]
    return ", ".join([f"**{counts.get('pass', 0)} of {len(refs)} pass**", *rest])


def render_page(text: str, rows: dict[str, Outcome]) -> str:
    """``text`` with each level's block replaced by its summary and table."""
    if not _BLOCK.search(text):
        from superatom.errors import InputError

        raise InputError("the page has no '<!-- validation-table quick -->' ... "
                         "'<!-- end validation-table -->' block to fill")
    return _BLOCK.sub(lambda m: f"{m[1]}{summary_line(m[2], rows)}\n\n"
                      f"{level_table(m[2], rows)}\n\n{m[3]}", text)


def write_docs(path: str | Path, rows: dict[str, Outcome]) -> Path:
    """Rewrite the tables of the page ``path`` from ``rows`` and write the rows it shows to
    ``validation_rows.jsonl`` beside it; returns the rows file."""
    path = Path(path)
    path.write_text(render_page(path.read_text(encoding="utf-8"), rows), encoding="utf-8")
    record = path.with_name(ROWS_FILE)
    write_rows(record, [rows[r.key].record() for r in REFERENCES if r.key in rows])
    return record

"""The package's layering: subpackages import downward only, and only the engine talks to
PySCF, GPU4PySCF and tblite. Read from the source (AST), so lazy imports inside functions
count as much as top-level ones."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "superatom"

# lowest first; a module may import its own layer and any layer before it
LAYERS = [
    {"__init__", "errors", "yamlfile", "names"},
    {"calc_settings"},
    {"structures"},
    {"schemas"},
    {"engine"},
    {"analysis"},
    {"db"},
    {"workflows"},
    {"campaign"},
    {"validation"},
    {"hpc"},
    {"cli"},
]
ENGINE_ONLY = ("pyscf", "gpu4pyscf", "tblite", "cupy")


def _layer_of(part: str) -> int:
    for rank, names in enumerate(LAYERS):
        if part in names:
            return rank
    raise AssertionError(f"superatom.{part} is in no layer: add it to LAYERS")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "superatom":
                found += [(node.lineno, f"superatom.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        part = relative.parts[0].removesuffix(".py")
        yield path, part


def test_every_module_is_in_a_layer():
    for _, part in _modules():
        _layer_of(part)


@pytest.mark.parametrize("path,part", list(_modules()), ids=lambda v: str(v))
def test_imports_point_downward(path, part):
    own = _layer_of(part)
    upward = []
    for line, name in _imports(path):
        pieces = name.split(".")
        if pieces[0] != "superatom" or len(pieces) < 2:
            continue
        target = pieces[1]
        if target in {"HARTREE_TO_EV", "HARTREE_TO_KCAL_MOL", "BOHR_TO_ANGSTROM", "__version__"}:
            target = "__init__"
        if _layer_of(target) > own:
            upward.append(f"{path.name}:{line} imports {name}")
    assert not upward, f"superatom.{part} imports a higher layer: {upward}"


def test_only_the_engine_imports_quantum_chemistry_codes():
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line} {name}"
        for path, part in _modules()
        if part != "engine"
        for line, name in _imports(path)
        if name.split(".")[0] in ENGINE_ONLY
    ]
    assert not offenders, offenders


def test_analysis_does_not_import_workflows_or_campaigns():
    for path, part in _modules():
        if part != "analysis":
            continue
        for _, name in _imports(path):
            assert not name.startswith(("superatom.workflows", "superatom.campaign")), (path, name)


def test_no_test_support_ships_in_the_package():
    assert not (PACKAGE / "hpc" / "slurm_local.py").exists()
    for path, _ in _modules():
        assert "pytest" not in {name.split(".")[0] for _, name in _imports(path)}, path

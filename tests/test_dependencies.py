"""Dependencies sized to use: every package the hub's code imports is declared in
pyproject.toml (one another package happens to bring may be dropped by it, and then a
fresh install breaks); matplotlib, the monthly chart's only need, is the optional extra
``govhub[reports]`` and is imported inside the function that draws, never at import
time of a module."""

from __future__ import annotations

import ast
import gc
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_PACKAGES = ["gateway", "schema", "resolvers", "levels", "auth"]
FIRST_PARTY = {*RUNTIME_PACKAGES, "bench", "tests", "__future__"}
# the extras a module may import from, lazily, and the modules allowed to
OPTIONAL = {"reports": {"gateway/report.py"}}


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _project() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _parse(source: str) -> ast.Module:
    """``ast.parse`` with the collector paused: on CPython 3.11 a collection that runs
    finalizers of earlier tests' objects in the middle of building the tree can make it
    fail with "AST constructor recursion depth mismatch" (a SystemError of the
    interpreter, not of the file)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(source)
    finally:
        if enabled:
            gc.enable()


def imports() -> dict[str, dict[str, bool]]:
    """Top-level module → {file: imported at module level?} for every absolute import of
    the runtime packages."""
    found: dict[str, dict[str, bool]] = {}
    for package in RUNTIME_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            tree = _parse(path.read_text(encoding="utf-8"))
            top_level = {id(node) for node in tree.body}
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    module = name.split(".")[0]
                    if module in sys.stdlib_module_names or module in FIRST_PARTY:
                        continue
                    where = found.setdefault(module, {})
                    file = path.relative_to(ROOT).as_posix()
                    where[file] = where.get(file, False) or id(node) in top_level
    return found


def distributions(module: str) -> set[str]:
    return {_name(d) for d in importlib.metadata.packages_distributions().get(module, [])}


def test_every_module_the_hub_imports_is_a_declared_dependency() -> None:
    project = _project()
    declared = {_name(r) for r in project["dependencies"]}  # type: ignore[union-attr]
    extras: dict[str, list[str]] = project["optional-dependencies"]  # type: ignore[assignment]
    optional = {extra: {_name(r) for r in extras[extra]} for extra in OPTIONAL}
    undeclared = []
    for module, files in imports().items():
        names = distributions(module)
        assert names, f"{module} (imported by {sorted(files)}) is not installed"
        if names & declared:
            continue
        extra = next((e for e, reqs in optional.items() if names & reqs), None)
        if extra is None:
            undeclared.append(f"{module} ({'/'.join(sorted(names))}): {sorted(files)}")
            continue
        # an optional package: only where allowed, and only inside a function
        assert set(files) <= OPTIONAL[extra], f"{module} imported by {sorted(files)}"
        assert not any(files.values()), f"{module} imported at module level: {files}"
    assert undeclared == [], "imported but not in pyproject's dependencies"


def test_matplotlib_is_the_reports_extra_only() -> None:
    project = _project()
    assert "matplotlib" not in {_name(r) for r in project["dependencies"]}  # type: ignore[union-attr]
    extras: dict[str, list[str]] = project["optional-dependencies"]  # type: ignore[assignment]
    assert {_name(r) for r in extras["reports"]} == {"matplotlib"}
    # the tests draw the chart: the dev extra installs it
    assert "govhub[reports]" in extras["dev"]

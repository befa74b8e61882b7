"""The import graph of fieldapp/ and sync/ (issue 15): no import cycle among their modules
(read by grimp, which import-linter runs on; imports inside functions count too), and no
private name (a leading underscore) taken from another of their modules."""
from __future__ import annotations

import ast
import pathlib

import pytest

from tests.support.helpers import ROOT

PACKAGES = ("fieldapp", "sync")


def cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts with more than one module (or a module importing
    itself): each is an import cycle. Tarjan's algorithm, without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(imports):
        if start in index:
            continue
        work = [(start, iter(sorted(imports[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in imports:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(imports[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                part = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    part.append(member)
                    if member == node:
                        break
                if len(part) > 1 or node in imports[node]:
                    found.append(sorted(part))
    return found


def test_cycles_finds_a_cycle_and_only_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"c"}}) == [["c"]]
    assert cycles({"a": {"b", "x"}, "b": set()}) == []


def test_no_import_cycle():
    grimp = pytest.importorskip("grimp", reason="pip install -r requirements-dev.txt")
    graph = grimp.build_graph(*PACKAGES)
    imports = {module: set(graph.find_modules_directly_imported_by(module))
               for module in graph.modules}
    assert imports["fieldapp.faces.dispatch"]  # the graph is read (else this proves nothing)
    assert cycles(imports) == [], "break these import cycles"


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def private_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """`from <ours> import _name`, and `<alias of ours>._name` where the alias was imported
    from one of our modules (dunder names aside)."""
    tree = ast.parse(source)
    ours, found = {}, []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[:len(package.split(".")) - node.level + 1],
                                 *([base] if base else [])])
            if base.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"from {base} import {alias.name}")
                ours[alias.asname or alias.name] = base
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    ours[alias.asname or alias.name.split(".")[0]] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id in ours and node.attr.startswith("_") and \
                not node.attr.startswith("__"):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_private_imports_are_found():
    source = ("from fieldapp.jobs import service as jobs\nfrom .models import _hidden\n"
              "from flask import _request_ctx\nimport sync.engine\n"
              "jobs._existing()\nsync._x\nself._y\njobs.__name__\n")
    assert sorted(private_imports(source, "fieldapp.parts.service")) == [
        "from fieldapp.parts.models import _hidden", "jobs._existing", "sync._x"]


def test_no_private_name_imported_across_modules():
    found = []
    for package in PACKAGES:
        for path in sorted(pathlib.Path(ROOT, package).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            for what in private_imports(source, _module_name(path), path.name == "__init__.py"):
                found.append(f"{path.relative_to(ROOT)}: {what}")
    assert not found, f"make these names public, or keep their use in their module: {found}"

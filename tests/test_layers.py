"""The layers (issue 15) hold: the import-linter contracts in pyproject.toml (core <- domains
<- sync <- faces; no face imports another face; the core imports no Flask) are kept, and no
import is written inside a function without a comment saying why."""
from __future__ import annotations

import ast
import os
import pathlib

import pytest

from tests.support.helpers import ROOT


def test_import_contracts_are_kept(capsys):
    pytest.importorskip("importlinter", reason="pip install -r requirements-dev.txt")
    from importlinter.cli import lint_imports  # why: only when import-linter is installed

    kept = lint_imports(config_filename=os.path.join(ROOT, "pyproject.toml"), no_cache=True)
    assert kept == 0, capsys.readouterr().out


def test_no_import_inside_a_function_without_a_reason():
    unexplained = []
    for path in sorted([*pathlib.Path(ROOT, "fieldapp").rglob("*.py"),
                        *pathlib.Path(ROOT, "sync").rglob("*.py")]):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for function in ast.walk(ast.parse(source)):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and \
                        "# why" not in " ".join(lines[node.lineno - 1:node.end_lineno]):
                    unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not unexplained, ("hoist these imports to the top, or say why on the line "
                             f"(`# why: ...`): {unexplained}")

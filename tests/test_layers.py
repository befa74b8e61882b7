"""The layers (issue 15) hold: the import-linter contracts in pyproject.toml (core <- domains
<- sync <- faces; no face imports another face; the core imports no Flask) are kept."""
from __future__ import annotations

import os

import pytest

from tests.support.helpers import ROOT


def test_import_contracts_are_kept(capsys):
    pytest.importorskip("importlinter", reason="pip install -r requirements-dev.txt")
    from importlinter.cli import lint_imports  # why: only when import-linter is installed

    kept = lint_imports(config_filename=os.path.join(ROOT, "pyproject.toml"), no_cache=True)
    assert kept == 0, capsys.readouterr().out

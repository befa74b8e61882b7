"""Lets `python3 bench/<script>.py` just work: a bench script started by a Python that is not
the project's runs itself again with the project's `.venv/bin/python` (made by `make
install`), or, when there is none and the app's packages are missing, says what to do.

Standard library only: it runs before anything else is importable."""
from __future__ import annotations

import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
VENV_PYTHON = os.path.join(VENV, "bin", "python")
# Set on the re-run, so a broken venv can never make the script start itself forever.
_AGAIN = "FIELDAPP_BENCH_REEXEC"


def _running_in(venv: str) -> bool:
    return os.path.realpath(sys.prefix) == os.path.realpath(venv)


def use_project_python() -> None:
    """Call first thing in a bench script's `__main__`, before any third-party import."""
    if _running_in(VENV):
        return
    if os.path.exists(VENV_PYTHON) and not os.environ.get(_AGAIN):
        os.environ[_AGAIN] = "1"
        script = os.path.abspath(sys.argv[0])
        os.execv(VENV_PYTHON, [VENV_PYTHON, script, *sys.argv[1:]])
    if any(importlib.util.find_spec(name) is None for name in ("flask", "sqlalchemy", "PIL")):
        sys.exit(f"{sys.executable} lacks the app's packages and {VENV_PYTHON} does not exist:"
                 f" run `make install` in {ROOT} first (or use a Python with"
                 " requirements.txt installed).")

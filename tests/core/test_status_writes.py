"""Only the state machine changes a job's status: every write of a `status` attribute in
fieldapp/ and sync/ is found by reading the code (AST), and the only write to a job's is in
`fieldapp.jobs.service.transition`, which checks the move against fieldapp/core/states.py."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# (file, function) where a job's status is written: the transition function itself.
JOB_STATUS_WRITER = ("fieldapp/jobs/service.py", "transition")
# Other tables with a `status` of their own (each with its own rules), by the name the code
# gives the row: a notification delivery, a take-back, a parts request, a complaint; and a
# DomainError's HTTP status.
OTHER_STATUS = {
    ("fieldapp/core/errors.py", "self"),
    ("fieldapp/notifications/service.py", "delivery"),
    ("fieldapp/parts/service.py", "takeback"),
    ("fieldapp/parts/service.py", "request"),
    ("fieldapp/complaints/service.py", "complaint"),
}


def status_writes(source: str, path: str) -> list[tuple[str, str, str, int]]:
    """(path, function, what, line) for every write of a `status` attribute, every
    `setattr(..., "status", ...)`, every Job(...) not created in states.INITIAL and every
    UPDATE/INSERT of Job naming a status."""
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                else function
            targets = []
            if isinstance(child, ast.Assign):
                targets = child.targets
            elif isinstance(child, (ast.AugAssign, ast.AnnAssign)):
                targets = [child.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute) and part.attr == "status" and \
                            isinstance(part.ctx, ast.Store):
                        found.append((path, name, ast.unparse(part.value), child.lineno))
            if isinstance(child, ast.Call):
                func = child.func
                callee = func.id if isinstance(func, ast.Name) else \
                    func.attr if isinstance(func, ast.Attribute) else ""
                named = child.args[1] if callee == "setattr" and len(child.args) > 1 else None
                # a literal other than "status", or an f-string with literal text, is safe
                if named is not None and not (
                        isinstance(named, ast.Constant) and named.value != "status") and not (
                        isinstance(named, ast.JoinedStr)
                        and any(isinstance(v, ast.Constant) for v in named.values)):
                    found.append((path, name, "setattr", child.lineno))
                status = [k for k in child.keywords if k.arg == "status"]
                if callee == "Job" and status and \
                        ast.unparse(status[0].value) != "states.INITIAL":
                    found.append((path, name, "Job(status=...)", child.lineno))
                if callee == "values" and (status or any(k.arg is None for k in child.keywords)
                                           or child.args) and \
                        any(f"{verb}(Job)" in ast.unparse(child) for verb in ("update", "insert")):
                    found.append((path, name, "values(status=...) on Job", child.lineno))
            visit(child, name)

    visit(ast.parse(source), "<module>")
    return found


def test_only_the_transition_function_writes_a_jobs_status():
    writers = []
    for folder in ("fieldapp", "sync"):
        for file in sorted((ROOT / folder).rglob("*.py")):
            path = file.relative_to(ROOT).as_posix()
            writers += status_writes(file.read_text(encoding="utf-8"), path)
    strays = [w for w in writers
              if (w[0], w[1]) != JOB_STATUS_WRITER and (w[0], w[2]) not in OTHER_STATUS]
    assert not strays, f"a status written outside jobs.service.transition: {strays}"
    # The scan sees the one real writer (else it proves nothing).
    assert [w for w in writers if (w[0], w[1]) == JOB_STATUS_WRITER and w[2] == "job"]


def test_the_scan_catches_each_way_of_writing_a_status():
    source = '''
def bypass(job, session):
    job.status = "scheduled"
    job.status, job.note = "new", None
    setattr(job, "status", "new")
    setattr(job, field, "new")
    setattr(form, f"{name}__unit", None)
    Job(ref="x", status="scheduled")
    session.execute(update(Job).where(Job.id == 1).values(status="new"))

def fine(job):
    Job(ref="x", status=states.INITIAL)
    return job.status == "new"
'''
    found = status_writes(source, "x.py")
    assert [(w[1], w[2]) for w in found] == [
        ("bypass", "job"), ("bypass", "job"), ("bypass", "setattr"), ("bypass", "setattr"),
        ("bypass", "Job(status=...)"), ("bypass", "values(status=...) on Job")]

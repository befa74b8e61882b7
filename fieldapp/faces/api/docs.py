"""A readable API reference at /api/v1/docs, rendered on the server from the OpenAPI spec
(no CDN, no inline script: it works offline and under the strict CSP)."""
from flask import Blueprint, current_app, render_template

bp = Blueprint("api_docs", __name__, template_folder="templates")


@bp.route("/api/v1/docs")
def reference():
    spec = current_app.extensions["fieldapp.faces.api"].spec.to_dict()
    operations = []
    for path, methods in sorted(spec.get("paths", {}).items()):
        for method, op in methods.items():
            if method not in ("get", "post", "put", "patch", "delete", "head"):
                continue
            operations.append({"path": path, "method": method.upper(), "op": op,
                               "tag": (op.get("tags") or ["other"])[0]})
    return render_template("api_docs.html", spec=spec, operations=operations)

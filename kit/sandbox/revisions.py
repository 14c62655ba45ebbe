"""The revisions pushed to an application, and which one ``deploy latest|previous`` means."""

from __future__ import annotations

from kit.errors import UsageError
from kit.sandbox.layout import AppLayout, Layout
from kit.sandbox.state import list_deployments, load_app


def revisions(app: AppLayout) -> list[str]:
    """Uploaded revisions, oldest first."""
    if not app.revisions.is_dir():
        return []
    return [p.name for p in sorted(app.revisions.iterdir(), key=lambda p: p.stat().st_mtime)]


def resolve_revision(layout: Layout, app_name: str, ref: str) -> str:
    """``latest``, ``previous`` (deployed before the current one) or a revision name."""
    app = layout.app(app_name)
    known = revisions(app)
    if ref == "latest":
        if not known:
            raise UsageError(f'"{app_name}" has no revisions yet; run dotkit push')
        return known[-1]
    if ref == "previous":
        current = load_app(layout, app_name).revision
        deployed = [r.revision for r in list_deployments(app) if r.status == "deployed"]
        earlier = [r for r in deployed if r is not None and r != current]
        if not earlier:
            raise UsageError("there is no previous revision to go back to")
        return earlier[-1]
    if ref not in known:
        raise UsageError(f"there is no revision {ref!r}; dotkit revisions lists them")
    return ref

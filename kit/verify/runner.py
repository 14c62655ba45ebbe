"""Reading the app once and running every check over it."""

from pathlib import Path

from kit.appfs import list_app_files
from kit.errors import UsageError
from kit.findings import Finding, sorted_findings
from kit.paths import cache_dir
from kit.verify.model import App, Rule

UPLOAD_IGNORE_FILES = (".gitignore", ".dotcloudignore")


def _wanted(rules: tuple[Rule, ...], selected: set[str] | None, ignored: set[str] | None) -> bool:
    return any(
        (selected is None or r.slug in selected) and (ignored is None or r.slug not in ignored)
        for r in rules
    )


def verify_app(
    root: Path,
    *,
    select: set[str] | None = None,
    ignore: set[str] | None = None,
    use_cache: bool = True,
    jobs: int | None = None,
) -> list[Finding]:
    """Every finding for the app at ``root``, filtered and sorted by file and position."""
    if not root.exists():
        raise UsageError(f"{root} does not exist")
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder; give the app's root folder")
    from kit.verify import buildfile, code, project, supervisor

    try:
        files = tuple(list_app_files(root, ignore_files=UPLOAD_IGNORE_FILES))
    except OSError as exc:
        raise UsageError(f"cannot read {root}: {exc.strerror or exc}") from None
    services, findings = buildfile.check_build_file(root, files)
    app = App(root, files, services)
    if _wanted(supervisor.RULES, select, ignore):
        findings += supervisor.check_supervisor(app)
    if _wanted(code.RULES, select, ignore):
        cache_path = cache_dir() / "js-analysis.sqlite3" if use_cache else None
        findings += code.check_code(app, cache_path=cache_path, jobs=jobs)
    if _wanted(project.RULES, select, ignore):
        findings += project.check_project(app)
    kept = [
        f
        for f in findings
        if (select is None or f.rule in select) and (ignore is None or f.rule not in ignore)
    ]
    return sorted_findings(kept)

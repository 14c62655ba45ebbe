"""Reading the app once and running every check over it.

With the cache on, a run starts from the app's memo (:mod:`kit.verify.fast.memo`): the
listing, the file checks' results and the JavaScript stat index of the last run,
each reused only when what it was made from is unchanged. A re-run after an edit
to one JavaScript file stats the files and reads that one.

In the verify server (:mod:`kit.verifyd.server`) a :class:`Tracker` keeps the memo
in memory and says what changed since the last run, from inotify: then not even
the stat calls are needed for what it saw unchanged.
"""

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, Protocol

from kit.appfs import Listing, listing_still_true, scan_app
from kit.errors import UsageError
from kit.findings import Finding, sorted_findings
from kit.paths import cache_dir
from kit.platform.facts import UPLOAD_IGNORE_FILES
from kit.verify.disk import Disk, still_true
from kit.verify.fast.jscache import IndexEntry
from kit.verify.fast.memo import FileChecks, Memo, files_digest, load, memo_path, save
from kit.verify.model import Rule, Target

JS_CACHE_NAME = "js-analysis.sqlite3"


class Changes(NamedTuple):
    """What a watcher saw change in an app since its last run."""

    folders: bool  # an entry was added, removed or renamed somewhere in the tree
    files: frozenset[str]  # files written to or touched, relative to the root


class Tracker(Protocol):
    """What a long-lived process knows about an app between two runs."""

    def memo(self, root: Path) -> Memo | None:
        """The memo the last run here left, kept in memory."""

    def changes(self, root: Path) -> Changes | None:
        """Everything that changed since that run; None when that is not known."""

    def finished(self, root: Path, memo: Memo) -> None:
        """Keep ``memo`` and watch what it lists from now on."""

    def later(self, job: Callable[[], None]) -> None:
        """Run ``job`` once the run's answer is out (writing the memo can wait)."""


# The key under which a long-lived process hands its tracker to the CLI's context.
VERIFY_TRACKER = "verify_tracker"


def _wanted(
    rules: Callable[[], tuple[Rule, ...]], selected: set[str] | None, ignored: set[str] | None
) -> bool:
    if selected is None and ignored is None:
        return True  # without importing the check's module
    return any(
        (selected is None or r.slug in selected) and (ignored is None or r.slug not in ignored)
        for r in rules()
    )


def _supervisor_rules() -> tuple[Rule, ...]:
    from kit.verify.supervisor import RULES

    return RULES


def _project_rules() -> tuple[Rule, ...]:
    from kit.verify.project import RULES

    return RULES


def _code_rules() -> tuple[Rule, ...]:
    from kit.verify.code import RULES

    return RULES


def _supervisor(app: Target) -> list[Finding]:
    from kit.verify.supervisor import check_supervisor

    return check_supervisor(app)


def _project_files(app: Target) -> list[Finding]:
    from kit.verify.project import check_project_files

    return check_project_files(app)


def verify_app(
    root: Path,
    *,
    select: set[str] | None = None,
    ignore: set[str] | None = None,
    use_cache: bool = True,
    jobs: int | None = None,
    tracker: Tracker | None = None,
) -> list[Finding]:
    """Every finding for the app at ``root``, filtered and sorted by file and position.

    ``tracker``: what a long-lived process (the verify server) knows of the app
    since its last run; without one, the memo on disk.
    """
    if not root.exists():
        raise UsageError(f"{root} does not exist")
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder; give the app's root folder")
    cache = cache_dir() if use_cache else None
    where = memo_path(cache, root) if cache is not None else None
    tracker = tracker if where is not None else None
    last = tracker.memo(root) if tracker is not None else None
    if last is None and where is not None:
        last = load(where, root)
    changes = tracker.changes(root) if tracker is not None and last is not None else None

    listing = _listing(root, last, changes)
    checks = _file_checks(root, listing, last)
    disk = Disk(root)
    app = Target(root, listing.files, checks.services, listing.links, disk)
    for name, rules, check in (
        ("supervisor", _supervisor_rules, _supervisor),
        ("project", _project_rules, _project_files),
    ):
        if name not in checks.results and _wanted(rules, select, ignore):
            checks.results[name] = check(app)
    checks.answers.update(disk.answers)
    findings = [f for found in checks.results.values() for f in found]

    if _wanted(_project_rules, select, ignore):
        from kit.verify.project import check_project_git

        findings += check_project_git(app)
    index: dict[str, IndexEntry] = dict(last.js_index) if last is not None else {}
    if _wanted(_code_rules, select, ignore):
        from kit.verify.code import check_code

        js_cache = cache / JS_CACHE_NAME if cache is not None else None
        changed = changes.files if changes is not None and last is not None else None
        findings += check_code(app, cache_path=js_cache, index=index, changed=changed, jobs=jobs)
    if where is not None:
        memo = Memo(listing, checks, index)
        if tracker is not None:
            tracker.finished(root, memo)
            if memo != last:
                tracker.later(lambda: save(where, root, memo))
        elif memo != last:
            save(where, root, memo)
    kept = [
        f
        for f in findings
        if (select is None or f.rule in select) and (ignore is None or f.rule not in ignore)
    ]
    return sorted_findings(kept)


def _listing(root: Path, last: Memo | None, changes: Changes | None) -> Listing:
    if last is not None and changes is not None:
        ignore_files = {path for path, *_ in last.listing.ignore_files}
        if not changes.folders and not changes.files & ignore_files:
            return last.listing  # the watcher saw no entry come or go
    elif last is not None and listing_still_true(root, last.listing):
        return last.listing
    try:
        return scan_app(root, ignore_files=UPLOAD_IGNORE_FILES)
    except OSError as exc:
        raise UsageError(f"cannot read {root}: {exc.strerror or exc}") from None


def _file_checks(root: Path, listing: Listing, last: Memo | None) -> FileChecks:
    """The last run's file checks if nothing they looked at changed, else the build file's."""
    digest = files_digest(listing)
    if last is not None and last.checks is not None:
        before = last.checks
        if before.files_digest == digest and still_true(root, before.answers):
            return before._replace(answers=dict(before.answers), results=dict(before.results))
    from kit.verify.buildfile import check_build_file

    disk = Disk(root)
    services, findings = check_build_file(root, listing.files, disk=disk)
    return FileChecks(digest, disk.answers, services, {"buildfile": findings})

"""One push at a time per application."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator

from kit.errors import UsageError
from kit.sandbox.layout import AppLayout


@contextlib.contextmanager
def push_lock(app: AppLayout) -> Iterator[None]:
    """Held while a push (or anything that must not overlap one) runs; refuses at once
    when another holds it."""
    app.root.mkdir(parents=True, exist_ok=True)
    with open(app.root / "push.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f'another push to "{app.name}" is running; wait for it (dotkit dlogs latest)'
            ) from None
        yield

"""Unpacking a customer's archive without trusting it.

Everything in the archive is judged from its headers before anything is
written: names (no absolute paths, no ``..``), kinds (files, folders and links
only, no devices), where links lead, how many entries there are, how big they
say they are and how hard they are compressed. The limits are enforced again
while writing, because headers can lie. Links are made last, after every
file, so nothing is ever written through one; each must then resolve inside
the folder. On any refusal the folder is removed: nothing of the archive stays.
"""

import shutil
from pathlib import Path

from kit.errors import OperationFailed
from kit.repro.archive.entries import DEFAULT_LIMITS, SUFFIXES, ArchiveRefused, Limits
from kit.repro.archive.tars import unpack_tar
from kit.repro.archive.zips import unpack_zip

__all__ = [
    "DEFAULT_LIMITS",
    "SUFFIXES",
    "ArchiveRefused",
    "Limits",
    "archive_stem",
    "is_archive",
    "unpack",
]


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


def archive_stem(path: Path) -> str:
    """``customer-app`` for ``customer-app.tar.gz``."""
    lower = path.name.lower()
    for suffix in SUFFIXES:
        if lower.endswith(suffix):
            return path.name[: -len(suffix)]
    return path.name


def unpack(archive: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Unpack ``archive`` into the new folder ``dest``, or raise :class:`ArchiveRefused`."""
    label = archive.name
    if not archive.is_file():
        raise ArchiveRefused(f"cannot unpack {label}: it is not a file")
    dest.mkdir(parents=True)
    try:
        if archive.name.lower().endswith(".zip"):
            unpack_zip(archive, dest, limits, label)
        else:
            unpack_tar(archive, dest, limits, label)
    except OSError as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise OperationFailed(f"cannot unpack {label} into {dest}: {exc}") from None
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise

"""The filesystem side of an app: which files belong to it, and writing a new tree.

This package is one of the few places that touch the disk: listing an app
(:mod:`kit.appfs.listing`), and the one writer of a converted app
(:mod:`kit.appfs.write`) with the record it keeps in the output
(:mod:`kit.appfs.manifest`).
"""

from kit.appfs.listing import (
    ALWAYS_SKIPPED,
    RACY_WINDOW_NS,
    SCRIPT_SUFFIXES,
    GearLocation,
    Listing,
    find_gears,
    list_app_files,
    listing_still_true,
    read_bytes,
    scan_app,
)
from kit.appfs.manifest import MANIFEST, read_manifest
from kit.appfs.write import WriteOutcome, check_destination, write_tree

__all__ = [
    "ALWAYS_SKIPPED",
    "MANIFEST",
    "RACY_WINDOW_NS",
    "SCRIPT_SUFFIXES",
    "GearLocation",
    "Listing",
    "WriteOutcome",
    "check_destination",
    "find_gears",
    "list_app_files",
    "listing_still_true",
    "read_bytes",
    "read_manifest",
    "scan_app",
    "write_tree",
]

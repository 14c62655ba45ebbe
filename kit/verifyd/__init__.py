"""The verify server: a background process that keeps verify's memos in memory
and learns of changes from inotify; the ``dotkit`` entry point hands it plain
``dotkit verify`` commands. It runs the CLI, so it sits at the CLI's level."""

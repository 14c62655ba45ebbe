"""Converting a nodeSocket app into a dotCloud app.

The Gears are read from disk by :mod:`kit.convert.gears` (the one door both
``dotkit convert`` and ``dotkit repro`` use); :func:`kit.convert.app.convert_app`
turns them, in memory, into the build file, one ``supervisord.conf`` per Gear,
optional code edits and a report row per source key.
"""

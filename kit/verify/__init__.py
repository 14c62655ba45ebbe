"""``dotkit verify``: a dotCloud app checked against the platform's rules.

Each check module declares its rules (``RULES``) and a check function; the
runner in :mod:`kit.verify.runner` reads the app once, runs every check and
returns findings sorted by file and position.
"""

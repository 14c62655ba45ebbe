"""The Node.js a service runs: the platform's versions as official builds from the npm registry.

One fetcher for the whole kit: the sandbox runs these builds, and the platform
image (:mod:`kit.engine.image`) carries them. It imports only the bottom layer.

* :mod:`.versions` (pure): ``config: node_version`` -> the build to run, and why.
* :mod:`.fetch`: download, verify and cache a build; :func:`.fetch.ensure_node`.
* :mod:`.registry`: which registry, the release list, and the network's failures.
* :mod:`.archive` (pure checks): integrity strings and safe unpacking.
* :mod:`.gypi`: the build settings node-gyp needs for old builds.
* :mod:`.npm`: ``npm install`` for an old build, and findings about the installed tree.
* :mod:`.semver` (pure): npm's version ranges, for ``engines.node``.
"""

"""The dotCloud platform as the kit knows it: one home for every fact.

File names, service types, Node.js versions, ports, environment key names,
limits (:mod:`kit.platform.facts`), the naming rules (:mod:`kit.platform.names`),
the environment keys the platform sets (:mod:`kit.platform.envkeys`) and the
typed services of a ``dotcloud.yml`` (:mod:`kit.platform.model`). Convert,
verify, the sandbox and repro import these; nothing else defines them.
"""

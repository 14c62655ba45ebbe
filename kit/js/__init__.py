"""JavaScript, parsed with tree-sitter: what an app's code listens on, connects
to and writes (:mod:`kit.js.analysis`), and edits at syntax nodes (:mod:`kit.js.fix`)."""

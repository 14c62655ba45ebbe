"""The kit on real apps it did not write: each published app of the corpus, fetched
from the npm registry at test time, converted with --fix and verified, must give the
findings kept in tests/corpus/expected/ (rewrite them with
``.venv/bin/python -m testing.corpus --update`` after a deliberate change)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testing import corpus

ENTRIES = corpus.load_manifest()


def test_the_corpus_is_real_apps_not_committed_code() -> None:
    assert len(ENTRIES) >= 12
    assert len({e.name for e in ENTRIES}) == len(ENTRIES)
    for entry in ENTRIES:
        assert entry.version[0].isdigit(), entry  # an exact version, never a range
        assert corpus.expected_path(entry).is_file(), entry.name
    kept = sorted(p.name for p in corpus.CORPUS.rglob("*") if p.is_file())
    assert all(name.endswith((".json", ".py")) for name in kept), kept


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus")


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_real_app(entry: corpus.Entry, work: Path) -> None:
    try:
        outcome = corpus.run(entry, work)
    except corpus.Unavailable as exc:
        pytest.skip(f"{entry.package}@{entry.version}: {exc}")
    expected = json.loads(corpus.expected_path(entry).read_text(encoding="utf-8"))
    expected.pop("app")
    assert corpus.observed(outcome) == expected, corpus.summary_row(entry, outcome)
    if entry.torque is not None:
        assert outcome.convert_code == 0, outcome.convert
        assert (outcome.out / "dotcloud.yml").is_file()
        assert not list(outcome.out.rglob(".torque"))

"""The tutorial notebooks: every claim of the porting guide demonstrated, outputs stored.

nbval runs the notebooks themselves (scripts/notebooks.sh); these tests check what
can be checked without running them: the claims list, the shape of each notebook
(what you will learn, a recap, a link to the next one), the links, and the
sanitizer that lets the stored outputs keep their real values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kit.commands.doctor import NOT_FAITHFUL_ALWAYS, NOT_FAITHFUL_PROCESS
from kit.verify.catalog import all_rules

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DOCS = ROOT / "docs"
CLAIM = re.compile(r"^\s*#\s*claim:\s*(\S+)\s*$", re.MULTILINE)
SEQUENCE = [
    "00-quickstart.ipynb",
    "01-translating-terms.ipynb",
    "02-some-differences.ipynb",
    "03-preparing-the-code.ipynb",
    "04-torque-to-dotcloud-yml.ipynb",
    "05-ports.ipynb",
    "06-create-push-logs.ipynb",
    "07-support.ipynb",
]
TUTORIALS = SEQUENCE[1:]
# Pages the docs site generates (docs_hooks): links to them are fine although no file exists.
GENERATED = re.compile(r"^(terms|claims|reference/cli|notebooks/index|rules/index|api/index)\.md$")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _claims() -> list[dict[str, Any]]:
    data = yaml.safe_load((NOTEBOOKS / "claims.yml").read_text(encoding="utf-8"))
    return list(data["claims"])


def _cells(name: str) -> list[dict[str, Any]]:
    notebook = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    return list(notebook["cells"])


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def _source(cell: dict[str, Any]) -> str:
    return _text(cell.get("source", ""))


def _demonstrated() -> dict[str, set[str]]:
    """Claim id -> the notebooks with a code cell that names it."""
    found: dict[str, set[str]] = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in _cells(path.name):
            if cell["cell_type"] == "code":
                for claim in CLAIM.findall(_source(cell)):
                    found.setdefault(claim, set()).add(path.name)
    return found


def _outputs_text(cell: dict[str, Any]) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(_text(output["text"]))
        for mime in ("text/plain", "text/html"):
            if mime in output.get("data", {}):
                parts.append(_text(output["data"][mime]))
    return "".join(parts)


# --- The claims list ---------------------------------------------------------------------------


def test_the_notebooks_are_the_sequence() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == SEQUENCE


def test_claims_are_well_formed() -> None:
    claims = _claims()
    ids = [c["id"] for c in claims]
    assert len(ids) == len(set(ids)), "duplicate claim ids"
    rules = {r.slug for r in all_rules()}
    for claim in claims:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", claim["id"]), claim
        assert claim["notebook"] in TUTORIALS, claim
        assert claim["statement"].strip(), claim
        assert claim["section"].strip(), claim
        assert claim["sandbox"] in ("same", "differs"), claim
        page = claim["docs"].split("#")[0]
        assert (DOCS / page).is_file() or GENERATED.match(page), claim
        assert set(claim.get("rules", [])) <= rules, claim
        if claim["sandbox"] == "differs":
            assert claim.get("note", "").strip(), f"{claim['id']}: say how the sandbox differs"
            assert ("doctor" in claim) != ("outside" in claim), f"{claim['id']}: doctor or outside"
        else:
            assert not {"note", "doctor", "outside"} & set(claim), claim


def test_every_difference_a_claim_names_is_one_doctor_lists() -> None:
    """A claim's note about the sandbox goes stale when the sandbox catches up: the
    `doctor` words must still be in the kit's own list of what is not faithful."""
    listed = " | ".join(NOT_FAITHFUL_ALWAYS + NOT_FAITHFUL_PROCESS)
    stale = [c["id"] for c in _claims() if "doctor" in c and c["doctor"] not in listed]
    assert stale == [], f"dotkit doctor no longer lists these differences: {stale}"


def test_every_claim_is_demonstrated_in_its_notebook() -> None:
    demonstrated = _demonstrated()
    missing = [
        f"{c['id']} (expected in {c['notebook']})"
        for c in _claims()
        if c["notebook"] not in demonstrated.get(c["id"], set())
    ]
    assert missing == []


def test_every_claim_a_cell_names_is_listed() -> None:
    listed = {c["id"] for c in _claims()}
    assert sorted(set(_demonstrated()) - listed) == []


# --- Each notebook -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", SEQUENCE)
def test_a_notebook_opens_with_what_you_will_learn(name: str) -> None:
    first = _source(_cells(name)[0])
    assert first.startswith("# "), "the first cell is the title"
    for part in ("**What you will learn:**", "**What you need:**", "**Time:**"):
        assert part in first, part


@pytest.mark.parametrize("name", SEQUENCE)
def test_a_notebook_closes_with_a_recap_and_the_next_step(name: str) -> None:
    cells = _cells(name)
    markdown = [_source(c) for c in cells if c["cell_type"] == "markdown"]
    code = [_source(c) for c in cells if c["cell_type"] == "code"]
    assert any("recap(" in c for c in code) or any("## What you saw" in m for m in markdown)
    last = markdown[-1]
    assert last.startswith("**Next:**"), "the last cell says where to go next"
    index = SEQUENCE.index(name)
    if index + 1 < len(SEQUENCE):
        assert f"]({SEQUENCE[index + 1]})" in last, "it links to the next notebook"


@pytest.mark.parametrize("name", SEQUENCE)
def test_a_notebook_links_to_the_guide(name: str) -> None:
    text = "".join(_source(c) for c in _cells(name) if c["cell_type"] == "markdown")
    assert "](../docs/guide.md#" in text


@pytest.mark.parametrize("name", SEQUENCE)
def test_every_section_links_to_the_docs(name: str) -> None:
    """Each section says where the docs (the guide, a rule, the playbook) explain it."""
    bare = [
        _source(c).splitlines()[0]
        for c in _cells(name)
        if c["cell_type"] == "markdown"
        and _source(c).startswith("## ")
        and not _source(c).startswith("## What ")  # the recap links each claim itself
        and "](../docs/" not in _source(c)
    ]
    assert bare == []


@pytest.mark.parametrize("name", SEQUENCE)
def test_every_link_of_a_notebook_leads_somewhere(name: str) -> None:
    """Links are written as paths in the repository (the site's hook rewrites them)."""
    rules = {r.slug for r in all_rules()}
    broken = []
    for cell in _cells(name):
        text = _source(cell) if cell["cell_type"] == "markdown" else _outputs_text(cell)
        for target in LINK.findall(text) + re.findall(r'href="([^"]+)"', text):
            path = target.split("#")[0]
            if re.match(r"^[a-z]+:", target) or not path:
                continue
            if path.startswith("../docs/"):
                page = path.removeprefix("../docs/")
                rule = re.fullmatch(r"rules/([a-z0-9-]+)\.md", page)
                ok = (DOCS / page).is_file() or bool(GENERATED.match(page))
                ok = ok or (rule is not None and rule[1] in rules)
            else:
                ok = (NOTEBOOKS / path).is_file()
            if not ok:
                broken.append(target)
    assert broken == []


@pytest.mark.parametrize("name", SEQUENCE)
def test_a_notebook_is_stored_run_and_cleans_up(name: str) -> None:
    cells = _cells(name)
    code = [c for c in cells if c["cell_type"] == "code"]
    # nbval compares the stored outputs, so every code cell must have been run, in order.
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        tags = cell.get("metadata", {}).get("tags", [])
        assert "nbval-skip" not in tags, _source(cell)
        assert "nbval-ignore-output" not in tags, _source(cell)
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert errors == [], _source(cell)
    assert "Sandbox(" in _source(code[0])
    assert _source(code[-1]).strip() == "box.close()"
    closed = _outputs_text(code[-1])
    assert "processes left behind: 0" in closed
    assert "temporary DOTKIT_HOME removed: yes" in closed


# --- The sanitizer -----------------------------------------------------------------------------


def _sanitize_pairs() -> list[tuple[str, str]]:
    """The pairs as nbval reads them (nbval's own regular expression)."""
    text = (NOTEBOOKS / "sanitize.cfg").read_text(encoding="utf-8")
    return re.findall("^regex: (.*)$\n^replace: (.*)$", text, flags=re.MULTILINE)


def sanitize(text: str) -> str:
    for regex, replace in _sanitize_pairs():
        text = re.sub(regex, replace, text)
    return text


def test_sanitize_file_pairs_every_regex_with_a_replacement() -> None:
    lines = (NOTEBOOKS / "sanitize.cfg").read_text(encoding="utf-8").splitlines()
    regexes = [line for line in lines if line.startswith("regex: ")]
    assert len(_sanitize_pairs()) == len(regexes), "a regex without its replace line"
    assert len(set(regexes)) == len(regexes), "nbval keeps one pair per regex"
    for regex, _ in _sanitize_pairs():
        re.compile(regex)


VOLATILE = {
    "a temporary folder": r"/tmp/",
    "a router port": r"127\.0\.0\.1:\d",
    "a clock time": r"\d\d:\d\d:\d\d[.,]\d",
    "a process id": r"\bpid \d",
    "an rsync revision": r"rsync-\d",
    "a git revision": r"git-[0-9a-f]{7}",
    "a duration": r"\b\d+\.\d+ ?s\b|\b\d+ ?ms\b",
    "a count of requests": r"\b[1-9]\d*( failed)? requests\b",
}


@pytest.mark.parametrize("name", SEQUENCE)
def test_stored_outputs_vary_only_where_the_sanitizer_masks(name: str) -> None:
    """The outputs keep their real values; nbval compares them after sanitize.cfg, so
    nothing that changes between runs may survive it."""
    for cell in _cells(name):
        if cell["cell_type"] != "code":
            continue
        clean = sanitize(_outputs_text(cell))
        left = {what for what, pattern in VOLATILE.items() if re.search(pattern, clean)}
        assert left == set(), f"{left} in the output of:\n{_source(cell)}"


def test_the_sanitizer_masks_each_kind_of_value() -> None:
    text = (
        "09:22:37.187214: ---> Pushed 13 files as revision git-22b93a8\n"
        "[gear1.0] Instance is responsive (http, 530 ms)\n"
        "gear1: http://127.0.0.1:56365/ at <2026-12-03 09:22:44,006> pid 4\n"
        "revision rsync-1796289257947 in /tmp/dotkit-nb-push-ab_1/work, /tmp/dotkit-0123456789\n"
        "PORT_SERVER = 42801, DOTCLOUD_CHAT_SERVER_PORT: 42801, assigned port 42801\n"
        "failed: 0 requests; answered: 412 requests in 2.84 s; listening on 8080\n"
        "router: 0 failed requests while switching; router: 19 failed requests\n"
    )
    assert sanitize(text) == (
        "---> Pushed 13 files as revision git-<sha>\n"
        "[gear1.0] Instance is responsive (http, <time>)\n"
        "gear1: http://127.0.0.1:<port>/ at <<date>> pid <pid>\n"
        "revision rsync-<ms> in <tmp>/work, <run>\n"
        "PORT_SERVER = <port>, DOTCLOUD_CHAT_SERVER_PORT: <port>, assigned port <port>\n"
        "failed: 0 requests; answered: <n> requests in <time>; listening on 8080\n"
        "router: 0 failed requests while switching; router: <n> failed requests\n"
    )


# --- What the notebooks and docs once got wrong (issue 16) -----------------------------------

# A rule whose finding may carry another severity than the catalogue's, as its
# explanation says: data-dir-with-instances is a warning with several instances and a
# note with one.
OTHER_SEVERITY = {"data-dir-with-instances": "info"}
FINDING_ROW = re.compile(r"^(error|warning|info) +([a-z0-9]+(?:-[a-z0-9]+)+) ", re.M)


def test_findings_shown_carry_the_catalogues_severity() -> None:
    rules = {r.slug: r for r in all_rules()}
    for slug in OTHER_SEVERITY:
        assert "a note" in rules[slug].explanation, f"{slug}: the rule page must say so"
    wrong = []
    for name in SEQUENCE:
        for cell in _cells(name):
            text = "".join(
                _text(o.get("data", {}).get("text/plain", "")) for o in cell.get("outputs", [])
            )
            for severity, slug in FINDING_ROW.findall(text):
                if slug in rules and severity not in (
                    rules[slug].severity,
                    OTHER_SEVERITY.get(slug),
                ):
                    wrong.append(f"{name}: {slug} shown as {severity}")
    assert wrong == []


def _everything_written() -> str:
    texts = [p.read_text(encoding="utf-8") for p in sorted(DOCS.rglob("*.md"))]
    texts.append((NOTEBOOKS / "claims.yml").read_text(encoding="utf-8"))
    for name in SEQUENCE:
        for cell in _cells(name):
            texts.append(_source(cell) if cell["cell_type"] == "markdown" else _outputs_text(cell))
    return "\n".join(texts)


@pytest.mark.parametrize(
    "wrong",
    [
        r"sets `?PORT_NODEJS",  # no source says the platform set it
        r"Debian package `?(mysqld|mongod)\b",  # neither package exists
        r"(rsync|--rsync)[^.\n]*(honou?rs?|respects?|reads?) `?\.gitignore",  # it read .dotcloudignore
        r"never receives a request",  # the push waits for an answer and never completes
    ],
)
def test_statements_corrected_stay_corrected(wrong: str) -> None:
    assert re.findall(wrong, _everything_written()) == []

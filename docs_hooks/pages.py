"""Markdown for the generated pages, rendered from the kit's live data.

Every function here takes values (the terms, the rules, the click tree) and
returns :class:`Page` objects; nothing touches the disk. ``site.py`` hands the
pages to MkDocs.
"""

from __future__ import annotations

import html
import importlib
import inspect
import json
import re
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import click

from kit.terms import Term
from kit.verify.model import Rule


@dataclass(frozen=True)
class Page:
    """One generated page: its path inside the docs tree, its nav title and its Markdown."""

    path: str
    title: str
    content: str


# --- Markdown helpers -------------------------------------------------------------------------

_CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)
_MD_SPECIAL = re.compile(r"([\\*_\[\]|])")


def md_text(text: str) -> str:
    """``text`` as Markdown prose: code spans kept, HTML and Markdown syntax escaped elsewhere.

    Help texts and rule explanations hold things like ``PORT_<NAME>``, which Markdown
    would otherwise read as an HTML tag.
    """
    out: list[str] = []
    pos = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_escape(text[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_escape(text[pos:]))
    return "".join(out)


def _escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def code_block(body: str, lang: str = "text", title: str | None = None) -> str:
    """A fenced block; the fence is longer than any run of backticks inside ``body``."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    attrs = f' title="{title}"' if title else ""
    return f"{fence}{lang}{attrs}\n{body.rstrip()}\n{fence}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("\n", " ") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _join(blocks: Iterable[str]) -> str:
    return "\n\n".join(block for block in blocks if block) + "\n"


# --- The terms table ---------------------------------------------------------------------------


def terms_page(terms: Sequence[Term]) -> Page:
    rows = [
        (f"**{md_text(t.nodesocket)}**", md_text(t.dotcloud), md_text(t.notes), md_text(t.section))
        for t in terms
    ]
    return Page(
        "terms.md",
        "Terms",
        _join(
            [
                "# nodeSocket terms, dotCloud terms",
                "Both platforms run Node.js, but they name their parts differently. Each row "
                "pairs a nodeSocket idea with the closest dotCloud one and says what changes "
                "when you move.",
                _table(["nodeSocket", "dotCloud", "What changes", "In the porting guide"], rows),
                '!!! info "One table, three places"\n'
                "    This page is built from `kit.terms.TERMS`. `dotkit terms` prints the same "
                "rows (`--format json` for programs), and the notebooks import them, so the "
                "three never disagree.",
                "Next: the [migration guide](guide.md) walks through each difference, and "
                "[`dotkit convert`](reference/cli.md#dotkit-convert) applies them to an app.",
            ]
        ),
    )


# --- The command line reference ----------------------------------------------------------------


def cli_page(group: click.Group, prog: str = "dotkit") -> Page:
    """Every command of the click tree, with its help, arguments and options."""
    root = click.Context(group, info_name=prog, **group.context_settings)
    blocks = [
        "# Command line reference",
        f"Every `{prog}` command, as the code defines it. The same text is in "
        f"`{prog} COMMAND --help`; `-h` and `--help` work on every command.",
        *_command_blocks(group, root, level=2),
    ]
    return Page("reference/cli.md", "Command line", _join(blocks))


def _command_blocks(cmd: click.Command, ctx: click.Context, level: int) -> Iterator[str]:
    yield f"{'#' * level} {ctx.command_path}"
    yield code_block(f"{ctx.command_path} {' '.join(cmd.collect_usage_pieces(ctx))}".rstrip())
    yield from help_blocks(cmd.help or "")
    help_option = cmd.get_help_option(ctx)
    params = [p for p in cmd.get_params(ctx) if p is not help_option]
    arguments = [p for p in params if isinstance(p, click.Argument)]
    options = [p for p in params if isinstance(p, click.Option)]
    if arguments:
        yield _table(
            ["Argument", "Required", "Repeats"],
            [
                (
                    f"`{a.make_metavar(ctx)}`",
                    "yes" if a.required else "no",
                    "yes" if a.nargs != 1 else "no",
                )
                for a in arguments
            ],
        )
    if options:
        yield _table(
            ["Option", "Value", "Default", "What it does"],
            [_option_row(o, ctx) for o in options],
        )
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                sub_ctx = click.Context(sub, info_name=name, parent=ctx, **sub.context_settings)
                yield from _command_blocks(sub, sub_ctx, level + 1 if level < 3 else level)


def _option_row(opt: click.Option, ctx: click.Context) -> tuple[str, str, str, str]:
    names = ", ".join(f"`{n}`" for n in [*opt.opts, *opt.secondary_opts])
    if opt.is_flag:
        value = "flag"
    elif isinstance(opt.type, click.Choice):
        value = " \\| ".join(f"`{c}`" for c in opt.type.choices)
    else:
        value = f"`{opt.make_metavar(ctx)}`"
    help_text = md_text(opt.help or "")
    if opt.envvar:
        envvars = [opt.envvar] if isinstance(opt.envvar, str) else list(opt.envvar)
        help_text += " (environment: " + ", ".join(f"`{e}`" for e in envvars) + ")"
    return names, value, _default(opt, ctx), help_text


def _default(opt: click.Option, ctx: click.Context) -> str:
    if isinstance(opt.show_default, str):
        return md_text(opt.show_default)
    if opt.is_flag:
        return ""
    value = opt.get_default(ctx, call=False)
    if value is None or callable(value) or value in ((), [], ""):
        return ""
    if type(value).__name__ == "Sentinel" or repr(value).startswith("<"):  # click's UNSET
        return ""
    return f"`{value}`"


def help_blocks(text: str) -> list[str]:
    """A click help text as Markdown.

    Click rewraps ordinary paragraphs and keeps two kinds as they are: those marked
    with a ``\\b`` line and indented ones. Those become code blocks here, with a
    heading line such as ``Examples:`` kept as prose.
    """
    text = inspect.cleandoc(text).split("\f")[0]
    blocks: list[str] = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = para.splitlines()
        if lines and lines[0].strip() == "\b":
            lines = lines[1:]
            if len(lines) > 1 and lines[0].rstrip().endswith(":") and not lines[0][:1].isspace():
                blocks.append(md_text(lines[0].strip()))
                lines = lines[1:]
            blocks.append(code_block(textwrap.dedent("\n".join(lines))))
        elif lines and all(line[:1].isspace() for line in lines):
            blocks.append(code_block(textwrap.dedent("\n".join(lines))))
        else:
            blocks.append(md_text(" ".join(line.strip() for line in lines)))
    return blocks


# --- The rule catalogue ------------------------------------------------------------------------

_LANGS = {
    ".yml": "yaml",
    ".yaml": "yaml",
    ".js": "javascript",
    ".json": "json",
    ".conf": "ini",
    ".gitmodules": "ini",
}
TAB_MARK = "→   "


def rule_pages(rules: Sequence[Rule], categories: Sequence[str]) -> list[Page]:
    """The catalogue's index, then one page per rule."""
    return [rules_index(rules, categories), *(rule_page(r) for r in rules)]


def rule_path(rule: Rule) -> str:
    return f"rules/{rule.slug}.md"


def rules_index(rules: Sequence[Rule], categories: Sequence[str]) -> Page:
    counts = {s: sum(r.severity == s for r in rules) for s in ("error", "warning", "info")}
    blocks = [
        "# Rule catalogue",
        f"`dotkit verify` checks a dotCloud app against {_count(len(rules), 'rule')}: "
        f"{_count(counts['error'], 'error')}, {_count(counts['warning'], 'warning')} and "
        f"{_count(counts['info'], 'note')}. An error makes `dotkit verify` exit with "
        "status 1; warnings and notes are reported and change nothing. Each page says "
        "why the rule exists and shows an example that fails it and the same example fixed.",
        code_block(
            "dotkit verify --select http-port-not-8080 APP   # one rule\n"
            "dotkit verify --select code APP                 # one category\n"
            "dotkit verify --ignore untracked-files APP      # all but one\n"
            "dotkit rules SLUG                               # a rule's page, in the terminal",
            "sh",
        ),
    ]
    for category in categories:
        chosen = [r for r in rules if r.category == category]
        if not chosen:
            continue
        blocks.append(f"## {category.capitalize()} rules")
        blocks.append(
            _table(
                ["Rule", "Severity", "What it catches"],
                [(f"[{r.slug}]({r.slug}.md)", r.severity, md_text(r.summary)) for r in chosen],
            )
        )
    return Page("rules/index.md", "Rule catalogue", _join(blocks))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def rule_page(rule: Rule) -> Page:
    severity_note = {
        "error": "an error: `dotkit verify` exits with status 1",
        "warning": "a warning: reported, the exit status is unchanged",
        "info": "a note: reported, the exit status is unchanged",
    }[rule.severity]
    blocks = [
        f"# {rule.slug}",
        f"**{md_text(rule.summary)}**",
        f"Category: *{rule.category}*. Severity: {severity_note}.",
        "## Why",
        md_text(rule.explanation),
        "## How to fix",
        "Change your files from what the failing example shows to what the passing "
        "example shows, then check again. Each finding names the file, line and column, "
        "and says what to change there.",
        "### Fails",
        *example_blocks(rule.bad),
        "### Passes",
        *example_blocks(rule.good),
        "### Check again",
        code_block(
            f"dotkit verify --select {rule.slug} APP   # only this rule\n"
            f"dotkit rules {rule.slug}                 # this page, in the terminal",
            "sh",
        ),
        "All rules: the [rule catalogue](index.md).",
    ]
    return Page(rule_path(rule), rule.slug, _join(blocks))


def split_example(example: str) -> tuple[str | None, str]:
    """``"path:\\ncontent"`` as ``(path, content)``; ``(None, text)`` when there is no path."""
    head, sep, body = example.partition(":\n")
    if not sep or "\n" in head:
        return None, example.strip()
    return head, body.rstrip("\n")


def example_blocks(example: str) -> list[str]:
    """A rule example: a titled code block, or a sentence when it describes a state."""
    if not example.strip():
        return ["(No example.)"]
    path, body = split_example(example)
    described = body.startswith("(") and body.endswith(")") and "\n" not in body
    if path is None:
        return [md_text(body)]
    if described:
        return [f"`{path}`: {md_text(body[1:-1])}."]
    if path == "(shell)":
        return [code_block(body, "console")]
    lang = _LANGS.get(PurePosixPath(path).suffix or PurePosixPath(path).name, "text")
    blocks = [code_block(body.replace("\t", TAB_MARK), lang, title=path)]
    if "\t" in body:
        blocks.append(f"`{TAB_MARK.strip()}` stands for a tab character.")
    return blocks


# --- The API reference -------------------------------------------------------------------------


def api_pages(modules: Sequence[str]) -> list[Page]:
    """An index and one mkdocstrings page per module; mkdocstrings reads the code itself."""
    rows = [(f"[`{m}`]({m}.md)", md_text(_first_line(m))) for m in modules]
    index = Page(
        "api/index.md",
        "Python API",
        _join(
            [
                "# Python API",
                "The kit's core is plain Python that takes and returns values: parse a "
                "`.torque`, convert an app in memory, render the files, check an app "
                "against the rules. These pages are read from the modules' docstrings and "
                "type hints at build time.",
                _table(["Module", "What it does"], rows),
            ]
        ),
    )
    pages = [
        Page(
            f"api/{m}.md",
            m,
            _join(
                [
                    f"# `{m}`",
                    f"::: {m}\n    options:\n      show_root_heading: false\n"
                    "      show_root_toc_entry: false",
                ]
            ),
        )
        for m in modules
    ]
    return [index, *pages]


def _first_line(module: str) -> str:
    doc = importlib.import_module(module).__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


# --- The notebooks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Notebook:
    path: Path
    title: str
    summary: str


def read_notebook(path: Path) -> Notebook:
    """The title (first ``#`` heading) and first paragraph of a stored notebook."""
    data = json.loads(path.read_text(encoding="utf-8"))
    title, summary = path.stem, ""
    for cell in data.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
        for para in paragraphs:
            if para.startswith("# ") and title == path.stem:
                title = para.splitlines()[0][2:].strip()
            elif not para.startswith("#") and not summary:
                summary = " ".join(para.split())
        if summary:
            break
    return Notebook(path, title, summary)


def notebooks_index(notebooks: Sequence[Notebook]) -> Page:
    blocks = [
        "# Notebooks",
        "The notebooks in `notebooks/` show the kit at work, step by step, with the "
        "output each cell gave when it last ran. The site shows those stored outputs; "
        "it does not run the notebooks. The test suite runs them again with nbval and "
        "fails when an output changes.",
    ]
    if notebooks:
        blocks.append(
            _table(
                ["Notebook", "What it shows"],
                [(f"[{md_text(n.title)}]({n.path.name})", md_text(n.summary)) for n in notebooks],
            )
        )
    else:
        blocks.append("There are no notebooks yet.")
    blocks.append(
        "To run one again and store its new outputs, from the repository after "
        "`scripts/setup.sh`: "
        "`.venv/bin/jupyter nbconvert --to notebook --execute --inplace notebooks/NAME.ipynb`."
    )
    return Page("notebooks/index.md", "Notebooks", _join(blocks))

"""Every rule the verifier knows, in one place: for `dotkit rules`, the docs and the runner."""

from difflib import get_close_matches

from kit.errors import UsageError
from kit.verify.model import Rule

CATEGORIES = ("build file", "supervisor", "code", "project")


def all_rules() -> tuple[Rule, ...]:
    from kit.verify import buildfile, code, project, supervisor

    return buildfile.RULES + supervisor.RULES + code.RULES + project.RULES


def get_rule(slug: str) -> Rule:
    rules = {rule.slug: rule for rule in all_rules()}
    if slug in rules:
        return rules[slug]
    close = get_close_matches(slug, list(rules), n=1)
    hint = f"; did you mean {close[0]}?" if close else "; `dotkit rules` lists them"
    raise UsageError(f"there is no rule {slug!r}{hint}")


def expand_selection(spec: str | None) -> set[str] | None:
    """``--select``/``--ignore`` values: slugs, slug prefixes (``yaml-``) or categories."""
    if not spec:
        return None
    rules = all_rules()
    chosen: set[str] = set()
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        matched = {
            r.slug
            for r in rules
            if r.slug == part
            or (part.endswith("-") and r.slug.startswith(part))
            or r.category == part
        }
        if not matched:
            get_rule(part)  # raises with a suggestion
        chosen |= matched
    return chosen

"""``--select`` / ``--ignore``: which rules' findings a lint run reports, on top of the policy.

The policy decides what each rule does; selection only narrows what is shown and counted, so a
rule the policy turns off stays off (``select_rules`` says which). Rules are named by name or
code (``restart-policy`` or ``JG101``), comma-separated or repeated. A finding that stands for
another rule's too (``Finding.merged``) answers to every one of its names.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace

from jobguard.core.model import Action, Finding
from jobguard.core.rule import Rule
from jobguard.lint.linter import LintResult
from jobguard.policy.model import Policy
from jobguard.rules import CATALOGUE, find_rule


class SelectionError(ValueError):
    """A rule name that no rule has."""


def parse_rules(values: Iterable[str], custom: Sequence[Rule] = ()) -> frozenset[str]:
    """Rule names for ``values`` (names or codes, comma-separated): the catalogue's, and the
    ``custom`` rules of the policy in force. Raises SelectionError."""
    names: set[str] = set()
    own = {r.name: r for r in custom} | {r.code.upper(): r for r in custom}
    for value in values:
        for item in (v.strip() for v in value.split(",")):
            if not item:
                continue
            rule = find_rule(item) or own.get(item) or own.get(item.upper())
            if rule is None:
                known = [r.name for r in (*CATALOGUE, *custom)]
                close = difflib.get_close_matches(item, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise SelectionError(f"unknown rule {item!r}{hint} (`jobguard rules` lists them)")
            names.add(rule.name)
    return frozenset(names)


def off_in_policy(names: Iterable[str], policy: Policy) -> list[str]:
    """Selected rules that report nothing because the policy turns them off."""
    off = []
    for name in sorted(names):
        rule = find_rule(name)
        if rule is not None and policy.settings(rule).action is Action.OFF:
            off.append(name)
    return off


def narrow(
    result: LintResult, select: Collection[str] | None, ignore: Collection[str]
) -> LintResult:
    """``result`` with only the findings of selected rules that are not ignored."""
    keep_all = select is None and not ignore
    if keep_all:
        return result

    def shown(rule: str) -> bool:
        return (select is None or rule in select) and rule not in ignore

    def kept(finding: Finding) -> bool:
        # A merged finding (restart-policy standing for api-restart-policy) answers to each of
        # its names: selecting one shows it, and only ignoring all of them hides it, so that
        # narrowing to the api rules never hides what the API server rejects.
        return any(shown(rule) for rule in finding.rules)

    files = []
    for fr in result.files:
        objects = tuple(
            replace(obj, findings=tuple(lf for lf in obj.findings if kept(lf.finding)))
            for obj in fr.objects
        )
        files.append(replace(fr, objects=objects))
    return replace(result, files=files)

"""``--fix`` changes only what it fixes, whatever the layout around it: every line of the
original survives byte for byte and in order (the fix only inserts lines, or rewrites the one
line of a value it changes), the result lints free of the fixed findings, and a second fix is a
no-op. Where a minimal edit is impossible, the file is left alone with a reason."""

from __future__ import annotations

import difflib
import json

import pytest
import yaml

from jobguard.lint.fix import plan_fix
from tests.helpers import lint_text

POD = "      containers:\n      - name: pi\n        image: perl\n"

LAYOUTS = {
    "multi-line flow list": (
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: pi}\nspec:\n  template:\n    spec:\n"
        "      containers:\n      - name: pi\n        image: perl\n"
        "        args: [\n          '-e',\n          'print 1'\n        ]\n"
    ),
    "comments at every position": (
        "# head comment\napiVersion: batch/v1  # trailing\nkind: Job\n# between keys\n"
        "metadata:\n  name: pi   # the name\nspec:\n  # before template\n  template:\n"
        "    spec:  # pod\n" + POD + "# tail comment\n"
    ),
    "key with a space before the colon": (
        "apiVersion : batch/v1\nkind : Job\nmetadata :\n  name : pi\nspec :\n  template :\n"
        "    spec :\n" + POD
    ),
    "trailing whitespace": (
        "apiVersion: batch/v1   \nkind: Job\nmetadata:\n  name: pi \nspec:\n  template:\n"
        "    spec:  \n" + POD
    ),
    "mixed list indentation": (
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: pi}\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: pi\n          image: perl\n"
        "      volumes:\n      - name: v\n        emptyDir: {}\n"
    ),
    "a bare dash line": (
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: pi}\nspec:\n  template:\n    spec:\n"
        "      containers:\n      -\n        name: pi\n        image: perl\n"
    ),
}
JSON_STYLE = (
    '{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi"},\n'
    ' "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}}}\n'
)


def fixed_text(text: str) -> tuple[str, str | None]:
    result = lint_text(text)
    plan = plan_fix(result, text.encode())
    return plan.fixed, plan.refused


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_the_original_lines_survive_and_the_fix_holds(name: str) -> None:
    text = LAYOUTS[name]
    fixed, refused = fixed_text(text)
    if refused is not None:
        # Allowed only as a whole-file refusal with a reason: nothing is written.
        assert fixed == text
        pytest.skip(f"left alone: {refused}")
    assert fixed != text
    diff = list(difflib.ndiff(text.splitlines(keepends=True), fixed.splitlines(keepends=True)))
    removed = [line[2:] for line in diff if line.startswith("- ")]
    # Only the safe fixes' fields are written; none of them replaces an existing line here.
    assert removed == [], "".join(removed)
    after = yaml.safe_load(fixed)
    assert after["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert isinstance(after["spec"]["ttlSecondsAfterFinished"], int)
    again, _ = fixed_text(fixed)
    assert again == fixed


def test_a_json_style_document_is_edited_in_its_own_style() -> None:
    fixed, refused = fixed_text(JSON_STYLE)
    assert refused is None
    first = JSON_STYLE.splitlines(keepends=True)[0]
    # The line without a fixed field is untouched; the edited one stays one flow line.
    assert fixed.startswith(first)
    assert len(fixed.splitlines()) == 2
    after = json.loads(fixed)  # still JSON, not YAML block style
    assert after["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert fixed_text(fixed)[0] == fixed

"""The JSON report is written by orjson where that gives Python's ``json`` text byte for byte,
and by ``json`` where it would not (floats, integers beyond 64 bits, lone surrogates)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jobguard.lint.linter import lint_paths
from jobguard.policy import load_policy
from jobguard.render import json_report

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _reference(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False)


def test_the_examples_report_is_byte_identical_to_json_dumps() -> None:
    result = lint_paths([str(EXAMPLES)], load_policy(()), jobs=1)
    doc = json_report.report_dict(result)
    assert doc["findings"]  # the examples have findings, with fixes and patches
    assert any(f["fix"] is not None for f in doc["findings"])
    assert json_report.render(result) == _reference(doc) + "\n"


def test_a_finding_orjson_cannot_write_like_json_is_written_by_json() -> None:
    result = lint_paths([str(EXAMPLES)], load_policy(()), jobs=1)
    patched = 0
    for i, fr in enumerate(result.files):
        objects = []
        for obj in fr.objects:
            located = []
            for lf in obj.findings:
                if lf.finding.fix is not None and patched < 2:
                    value: Any = 1e16 if patched == 0 else "lone \ud800 surrogate"
                    patch = ({"op": "add", "path": "/x", "value": value},)
                    lf = replace(lf, finding=replace(lf.finding, patch=patch))
                    patched += 1
                located.append(lf)
            objects.append(replace(obj, findings=tuple(located)))
        result.files[i] = replace(fr, objects=tuple(objects))
    assert patched == 2
    text = json_report.render(result)
    assert text == _reference(json_report.report_dict(result)) + "\n"
    assert '"value": 1e+16' in text  # Python's spelling; orjson writes 1e16


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too: orjson refuses them, json writes them
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),  # lone surrogates and control characters included
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=15,
)


@settings(max_examples=200, deadline=None)
@given(json_values, st.text())
def test_any_patch_value_and_message_give_json_dumps_text(value: Any, message: str) -> None:
    finding = {"message": message, "fix": {"patch": [{"op": "add", "path": "/a", "value": value}]}}
    doc = {"version": 1, "findings": [finding, {"message": "", "fix": None}], "summary": {}}
    assert json_report.dumps(doc) == _reference(doc)

"""Manifests are read as kubectl reads them: every row of the measured kubectl table.

kubectl converts YAML to JSON on the client (sigs.k8s.io/yaml, go-yaml v2) and the API server
judges that JSON. Each row below gives a plain scalar, what kubectl sends for it, and whether
the API server accepted it as a label value, as a container argument and as
``spec.backoffLimit`` (measured with kubectl v1.32.4 against a real kube-apiserver). kubectl
needs an API server's discovery even for ``--dry-run=client``, so the table is the oracle here.
"""

from __future__ import annotations

from typing import Any

import pytest

from jobguard.core.model import Category, Severity
from jobguard.lint.linter import FileResult, lint_bytes
from jobguard.policy import load_policy
from jobguard.yamlsource import parse_stream

NAN = "unsupported value"  # kubectl refuses the whole file

# scalar, what kubectl sends, label accepted, args accepted, backoffLimit accepted
TABLE: list[tuple[str, Any, bool, bool, bool]] = [
    ("2024-01-01", "2024-01-01", True, True, False),
    ("2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z", False, True, False),
    ("2024-13-45", "2024-13-45", True, True, False),
    ("10:30", "10:30", False, True, False),
    ("1e1", 10, False, False, True),
    ("1.5e3", 1500, False, False, True),
    ("1.0", 1, False, False, True),
    ("6.0", 6, False, False, True),
    ("yes", True, False, False, False),
    ("on", True, False, False, False),
    ("y", True, False, False, False),
    ("off", False, False, False, False),
    ("0o17", 15, False, False, True),
    ("017", 15, False, False, True),
    ("0x1F", 31, False, False, True),
    ("0b101", 5, False, False, True),
    ("1_000", 1000, False, False, True),
    ("+12", 12, False, False, True),
    ("~", None, True, True, True),
    ("=", "=", False, True, False),
]


def job(label: str = "ok", arg: str = "ok", backoff: str = "2") -> bytes:
    return f"""\
apiVersion: batch/v1
kind: Job
metadata:
  name: scalars
  labels:
    release: {label}
spec:
  backoffLimit: {backoff}
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
        args: [{arg}]
""".encode()


POLICY = load_policy()


def api_errors(result: FileResult) -> set[str]:
    return {
        lf.finding.field
        for obj in result.objects
        for lf in obj.findings
        if lf.finding.category is Category.API and lf.finding.severity is Severity.ERROR
    }


@pytest.mark.parametrize(("scalar", "sent", "label_ok", "args_ok", "backoff_ok"), TABLE)
def test_scalar_reads_as_kubectl_sends_it(
    scalar: str, sent: Any, label_ok: bool, args_ok: bool, backoff_ok: bool
) -> None:
    stream = parse_stream(f"value: {scalar}\nlist: [{scalar}]\n")
    assert stream.errors == []
    data = stream.documents[0].data
    assert data["value"] == sent and type(data["value"]) is type(sent)
    assert data["list"] == [sent] and type(data["list"][0]) is type(sent)


@pytest.mark.parametrize(("scalar", "sent", "label_ok", "args_ok", "backoff_ok"), TABLE)
def test_api_verdicts_match_the_server(
    scalar: str, sent: Any, label_ok: bool, args_ok: bool, backoff_ok: bool
) -> None:
    label = api_errors(lint_bytes("j.yaml", job(label=scalar), POLICY))
    args = api_errors(lint_bytes("j.yaml", job(arg=scalar), POLICY))
    backoff = api_errors(lint_bytes("j.yaml", job(backoff=scalar), POLICY))
    assert (label == set()) is label_ok, label
    # A type error names the label; a syntax error the labels (as the API server does).
    assert any(p.startswith("metadata.labels") for p in label) is not label_ok
    assert (args == set()) is args_ok, args
    assert ("spec.template.spec.containers[0].args[0]" in args) is not args_ok
    assert (backoff == set()) is backoff_ok, backoff
    assert ("spec.backoffLimit" in backoff) is not backoff_ok


@pytest.mark.parametrize("scalar", [".nan", ".inf", "-.inf", ".NaN", "+.Inf"])
def test_nan_and_infinity_make_the_file_unreadable(scalar: str) -> None:
    result = lint_bytes("j.yaml", job(label=scalar), POLICY)
    assert result.objects == ()
    [problem] = result.problems
    assert problem.severity is Severity.ERROR
    assert NAN in problem.message and scalar in problem.message
    assert problem.line == 6


def test_the_kubectl_reading_goes_further_than_the_table() -> None:
    data = (
        parse_stream(
            "short_no: n\nloud_no: NO\nyes_mixed: yEs\noctal_8: 08\ndot: .5\nbig: 1e400\nneg_hex: -0x1F\n"
            "merge: &base {a: 1}\nchild: {<<: *base, b: 2}\n"
        )
        .documents[0]
        .data
    )
    assert data == {
        "short_no": False,
        "loud_no": False,
        "yes_mixed": "yEs",
        "octal_8": 8,  # not octal: Go parses it as the float 8, JSON carries 8
        "dot": 0.5,
        "big": "1e400",  # out of float64 range: go-yaml keeps the text
        "neg_hex": -31,
        "merge": {"a": 1},
        "child": {"a": 1, "b": 2},
    }


def test_keys_become_json_strings_before_they_meet() -> None:
    # ``1`` and ``y`` (true) would be one Python key; they are "1" and "true" for kubectl.
    data = parse_stream("1: a\ny: b\n0x10: c\n").documents[0].data
    assert data == {"1": "a", "true": "b", "16": "c"}


def test_a_null_key_makes_the_file_unreadable() -> None:
    [error] = parse_stream("? ~\n: b\n").errors
    assert "unsupported map key" in error.message and error.line == 1

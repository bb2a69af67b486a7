"""``jobguard test PATH...``: run policy unit tests (see :mod:`jobguard.policytest`)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import click

EXIT_MISMATCH = 1
EXIT_USAGE = 2


def _table(cases: list[object], errors: list[tuple[str, str]]) -> str:
    from jobguard.policytest import Case

    rows = [("FILE", "RULE", "RESOURCE", "EXPECTED", "ACTUAL", "")]
    for case in cases:
        assert isinstance(case, Case)
        actual = case.actual
        if case.expected == case.actual and not case.ok:
            actual += " (message differs)"
        rows.append(
            (
                case.file,
                case.rule,
                case.resource,
                case.expected,
                actual,
                "ok" if case.ok else "MISMATCH",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[5] for r in rows
    ]
    lines = [line.rstrip() for line in lines]
    lines += [f"{file}: error: {message}" for file, message in errors]
    failed = sum(1 for c in cases if isinstance(c, Case) and not c.ok)
    lines.append(
        f"\n{len(cases)} results, {failed} mismatched"
        + (f", {len(errors)} test files could not run" if errors else "")
    )
    return "\n".join(lines)


def _junit(cases: list[object], errors: list[tuple[str, str]]) -> str:
    from jobguard.policytest import Case

    root = ET.Element("testsuites", name="jobguard test")
    suites: dict[str, ET.Element] = {}
    counts: dict[str, list[int]] = {}

    def suite(file: str) -> ET.Element:
        if file not in suites:
            suites[file] = ET.SubElement(root, "testsuite", name=file)
            counts[file] = [0, 0, 0]
        return suites[file]

    for case in cases:
        assert isinstance(case, Case)
        element = ET.SubElement(
            suite(case.file),
            "testcase",
            classname=case.test,
            name=f"{case.rule} {case.resource} {case.expected}",
        )
        counts[case.file][0] += 1
        if not case.ok:
            counts[case.file][1] += 1
            detail = f"expected {case.expected}, got {case.actual}"
            if case.expected_message is not None:
                detail += (
                    f"; expected message {case.expected_message!r}, got {list(case.messages)!r}"
                )
            failure = ET.SubElement(element, "failure", message=detail, type="mismatch")
            failure.text = detail
    for file, message in errors:
        element = ET.SubElement(suite(file), "testcase", classname=file, name="test file")
        counts[file][0] += 1
        counts[file][2] += 1
        ET.SubElement(element, "error", message=message, type="test-file").text = message
    for file, element in suites.items():
        tests, failures, errs = counts[file]
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("errors", str(errs))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


@click.command(short_help="Run policy unit tests: expected results per rule and resource.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "junit"]),
    default="text",
    show_default=True,
    help="junit: one testsuite per test file, one testcase per rule and resource.",
)
def test(paths: tuple[str, ...], fmt: str) -> None:
    """Run every test file (kind: Test) in PATHS (files or directories).

    Exit 0 when every result is as expected, 1 on a mismatch, 2 when a test file cannot run
    (its policy has errors, a resource is missing) or none is found.
    """
    from jobguard.policytest import TestFileError, discover, run_file

    files = discover(paths)
    if not files:
        click.echo("error: no test file (kind: Test) found", err=True)
        sys.exit(EXIT_USAGE)
    cases: list[object] = []
    errors: list[tuple[str, str]] = []
    for path in files:
        try:
            cases += run_file(path)
        except TestFileError as exc:
            errors.append((str(path), str(exc)))
    click.echo(_junit(cases, errors) if fmt == "junit" else _table(cases, errors))
    if errors:
        sys.exit(EXIT_USAGE)
    if any(not getattr(c, "ok", False) for c in cases):
        sys.exit(EXIT_MISMATCH)

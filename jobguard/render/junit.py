"""JUnit XML (Jenkins, GitLab, and every CI that shows test reports).

One ``testsuite`` per file, one ``testcase`` per Job/CronJob (``classname`` the file, ``name`` the
object). A finding that fails the run (at or above ``--fail-on``) is a ``failure`` of its object's
test case, one per finding; findings below the threshold are listed in the test case's
``system-out``, one line each, so the report carries every finding without failing a test over a
warning the exit code ignores. An input problem is an ``error`` of a test case named ``input``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Collection

from jobguard.core.model import Severity
from jobguard.lint.linter import FileResult, LintResult, LocatedFinding, ObjectResult

# Characters XML 1.0 cannot carry at all; manifest values quoted in messages may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _clean(root: ET.Element) -> None:
    for el in root.iter():
        if el.text:
            el.text = _NOT_XML.sub("\ufffd", el.text)
        for key, value in el.attrib.items():
            el.set(key, _NOT_XML.sub("\ufffd", value))


def object_name(obj: ObjectResult) -> str:
    where = f"{obj.namespace}/" if obj.namespace else ""
    return f"{obj.kind} {where}{obj.name or '<unnamed>'} (document {obj.document + 1})"


def finding_line(obj: ObjectResult, lf: LocatedFinding) -> str:
    f = lf.finding
    return f"{obj.file}:{lf.line}:{lf.column}: {f.severity.value} {f.code} {f.rule} {f.field}: {f.message}"


def _suite(fr: FileResult, failing: Collection[Severity]) -> ET.Element:
    suite = ET.Element("testsuite", name=fr.file)
    tests = failures = errors = 0
    problems = [p for p in fr.problems if p.severity is Severity.ERROR]
    if fr.problems:
        tests += 1
        case = ET.SubElement(suite, "testcase", classname=fr.file, name="input")
        for p in problems:
            errors += 1
            err = ET.SubElement(case, "error", message=p.message, type="input")
            err.text = f"{p.file}:{p.line}:{p.column}: {p.message}"
        notes = [p for p in fr.problems if p.severity is not Severity.ERROR]
        if notes:
            out = ET.SubElement(case, "system-out")
            out.text = "".join(
                f"{p.file}:{p.line}:{p.column}: {p.severity.value} input {p.message}\n"
                for p in notes
            )
    for obj in fr.objects:
        tests += 1
        case = ET.SubElement(suite, "testcase", classname=fr.file, name=object_name(obj))
        quiet = []
        for lf in obj.findings:
            f = lf.finding
            if f.severity in failing:
                failures += 1
                failure = ET.SubElement(
                    case, "failure", message=f"{f.field}: {f.message}", type=f"{f.code} {f.rule}"
                )
                failure.text = finding_line(obj, lf)
            else:
                quiet.append(finding_line(obj, lf))
        if quiet:
            ET.SubElement(case, "system-out").text = "".join(q + "\n" for q in quiet)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    return suite


def render(result: LintResult, *, failing: Collection[Severity] = (Severity.ERROR,)) -> str:
    root = ET.Element("testsuites", name="jobguard")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for fr in result.files:
        suite = _suite(fr, failing)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        root.append(suite)
    for key, value in totals.items():
        root.set(key, str(value))
    _clean(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

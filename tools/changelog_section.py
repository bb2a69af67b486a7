"""Print one version's section of CHANGELOG.md (Keep a Changelog form), for release notes.

    python tools/changelog_section.py 0.2.0 > notes.md

Exits 1 with a message when the changelog has no section for that version, so a release cannot
go out without notes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"
HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\]")


def section(text: str, version: str) -> str | None:
    """The body under ``## [version]`` up to the next version heading or link list, or None."""
    body: list[str] | None = None
    for line in text.splitlines():
        match = HEADING.match(line)
        if match:
            if body is not None:
                break
            if match.group("version") == version:
                body = []
            continue
        if body is not None:
            if line.startswith("[") and "]: " in line:  # the link references at the end
                break
            body.append(line)
    return None if body is None else "\n".join(body).strip() + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: changelog_section.py VERSION", file=sys.stderr)
        return 2
    found = section(CHANGELOG.read_text(encoding="utf-8"), argv[0])
    if found is None or not found.strip():
        print(f"CHANGELOG.md has no section for version {argv[0]}", file=sys.stderr)
        return 1
    sys.stdout.write(found)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Project configuration for ``jobguard lint``: ``.jobguard.yaml`` or ``[tool.jobguard]``.

``jobguard lint`` looks in the working directory and then each parent, up to the root of the git
repository it is in (or of the file system), for the first of ``.jobguard.yaml``,
``.jobguard.yml`` or a ``pyproject.toml`` with a ``[tool.jobguard]`` table. The nearest one is
used whole; they are not merged. ``--config FILE`` names one instead and ``--no-config`` uses
none. Keys (the same in both formats)::

    policy: [policies/team.yaml]       # policy files, layered left to right (or one string)
    exclude: ["charts/vendor", "*.rendered.yaml"]
    select: [restart-policy]            # rule names or codes
    ignore: [resources]
    fail-on: warning                    # error, warning or info
    format: text                        # text, json, sarif, junit, github
    baseline: .jobguard-baseline.json
    kubernetes-version: "1.34"
    respect-gitignore: true
    max-file-size: 16777216

Relative paths (policy files, the baseline, ``exclude`` globs) are relative to the folder of the
configuration file, so the same configuration works from any sub-folder. An option given on the
command line wins over the configuration; ``--policy`` (or the ``JOBGUARD_POLICY`` environment
variable) replaces the configuration's policy list. Unknown keys and wrong types are errors.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from jobguard.lint.walk import CONFIG_NAMES, Exclude

YAML_NAMES = CONFIG_NAMES
PYPROJECT = "pyproject.toml"
FAIL_ON = ("error", "warning", "info")
FORMATS = ("text", "json", "sarif", "junit", "github")

_LISTS = ("policy", "exclude", "select", "ignore")
_STRINGS = {"fail-on": FAIL_ON, "format": FORMATS, "baseline": None, "kubernetes-version": None}
_KEYS = (*_LISTS, *_STRINGS, "respect-gitignore", "max-file-size")


class ConfigError(Exception):
    """The configuration file cannot be used; the message names the file (and line, for YAML)."""


class _BadKey(ConfigError):
    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(message)


@dataclass(frozen=True)
class Config:
    """A project configuration; ``file`` is None when there is none."""

    file: Path | None = None
    policy: tuple[str, ...] = ()
    exclude: tuple[Exclude, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.file.parent if self.file is not None else Path.cwd()


def _has_tool_table(pyproject: Path) -> bool:
    try:
        return "jobguard" in _read_toml(pyproject).get("tool", {})
    except ConfigError:
        # A broken pyproject.toml that may not even be ours: name it only if it mentions us.
        text = pyproject.read_text(encoding="utf-8", errors="replace")
        return "[tool.jobguard]" in text


def find_config(start: Path | None = None) -> Path | None:
    """The nearest configuration file from ``start`` (the working directory) upwards."""
    folder = (start or Path.cwd()).resolve()
    for current in (folder, *folder.parents):
        for name in YAML_NAMES:
            if (current / name).is_file():
                return current / name
        pyproject = current / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
        if (current / ".git").exists():
            return None  # the repository root: a configuration above it is someone else's
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _yaml_lines(node: yaml.Node) -> dict[str, int]:
    """Line of each top-level key; raises ConfigError on a repeated key."""
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in lines:
                    raise ConfigError(
                        f"line {key.start_mark.line + 1}: repeated key {key.value!r} "
                        f"(first at line {lines[key.value]})"
                    )
                lines[key.value] = key.start_mark.line + 1
    return lines


def _read_yaml(path: Path) -> tuple[Any, dict[str, int]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: invalid YAML: {exc}") from None
    try:
        lines = _yaml_lines(node) if node is not None else {}
    except ConfigError as exc:
        raise ConfigError(f"{path}:{exc}") from None
    return data, lines


def _string_list(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _BadKey(key, f"{key}: must be a string or a list of strings")


def _check(body: Mapping[str, Any]) -> dict[str, Any]:
    """The options of a configuration table, type-checked (keys as written)."""
    options: dict[str, Any] = {}
    for key, value in body.items():
        key = str(key)
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key), _KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _BadKey(key, f"unknown key {key!r}{hint}; known: {', '.join(_KEYS)}")
        if key in _LISTS:
            options[key] = _string_list(value, key)
        elif key in _STRINGS:
            if not isinstance(value, str):
                raise _BadKey(key, f"{key}: must be a string")
            allowed = _STRINGS[key]
            if allowed is not None and value not in allowed:
                raise _BadKey(key, f"{key}: must be one of {', '.join(allowed)}, not {value!r}")
            options[key] = value
        elif key == "respect-gitignore":
            if not isinstance(value, bool):
                raise _BadKey(key, f"{key}: must be true or false")
            options[key] = value
        else:  # max-file-size
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise _BadKey(key, f"{key}: must be a positive number of bytes")
            options[key] = value
    return options


def _relative_to(folder: Path, value: str) -> str:
    if value.startswith("jobguard:"):
        return value  # a bundled policy
    return str(folder / value)


def load_config(path: Path) -> Config:
    """Read and check one configuration file. Raises ConfigError."""
    path = path.resolve() if path.exists() else path
    if path.name == PYPROJECT or path.suffix == ".toml":
        table = _read_toml(path).get("tool", {}).get("jobguard")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: no [tool.jobguard] table")
        body: dict[str, Any] = table
        lines: dict[str, int] = {}
    else:
        data, lines = _read_yaml(path)
        body = {} if data is None else data
        if not isinstance(body, dict):
            raise ConfigError(f"{path}: must be a mapping of options")
    try:
        options = _check(body)
    except _BadKey as exc:
        where = f":{lines[exc.key]}" if exc.key in lines else ""
        raise ConfigError(f"{path}{where}: {exc}") from None
    folder = path.parent
    if "baseline" in options:
        options["baseline"] = _relative_to(folder, options["baseline"])
    return Config(
        file=path,
        policy=tuple(_relative_to(folder, p) for p in options.pop("policy", ())),
        exclude=tuple(Exclude(g, folder) for g in options.pop("exclude", ())),
        options=options,
    )


def discover_config(start: Path | None = None) -> Config:
    """The nearest configuration, or an empty one. Raises ConfigError for a broken file."""
    found = find_config(start)
    return load_config(found) if found is not None else Config()

"""The error list every check adds to, the error that reports it, and the project's config namespace.

A stack's problems are collected, not raised one by one: `load_settings` (settings/__init__.py)
reports every problem at once, each line naming the full path of the value it blames
(`flask-k8s:app.replicas`), the value and what is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

PROJECT = "flask-k8s"
"""The project's name (Pulumi.yaml), the namespace of every config key."""

HIDDEN = "(not shown: the name looks secret)"
"""What a problem line shows instead of a value that may well be a secret."""


@dataclass
class Problems:
    """Problems found so far, one line each: `flask-k8s:<path> = <value>: <what is allowed>`."""

    lines: list[str] = field(default_factory=list)
    _blamed: set[str] = field(default_factory=set)

    def add(self, path: str, value: object, allowed: str, *, shown: str | None = None) -> None:
        """`shown` stands in the line for a value that must not be echoed."""
        # One message per path: a value already wrong says nothing more by failing more rules.
        if path not in self._blamed:
            self._blamed.add(path)
            self.lines.append(f"{PROJECT}:{path} = {shown or repr(value)}: {allowed}")

    def note(self, line: str) -> None:
        """A problem that must not echo its value (a secret)."""
        self.lines.append(line)

    def wrong(self, *paths: str) -> bool:
        """Whether the value at one of these paths (or an object holding it) was found wrong already.

        Its default stands in for it from then on, so a rule comparing with it would judge a value
        the stack never set: such a rule says nothing.
        """
        return any(path == b or path.startswith(f"{b}.") for path in paths for b in self._blamed)


class ConfigError(pulumi.RunError):
    """Bad stack configuration: printed by the engine as a plain message, without a traceback."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid stack configuration ({len(self.problems)} problem(s)):\n{lines}")

"""A generated block of a document: text between two marker lines, written by code, checked by a test.

components/README.md holds the library's API reference (devtools/release.py) and README.md the
configuration table (devtools/config_table.py). Both are kept the same way: the document holds
`start`, a newline, the generated text (ending in a newline) and `end`, and a unit test compares the
text between the markers with what the code renders now.
"""

from __future__ import annotations

from dataclasses import dataclass


class MarkerError(ValueError):
    """A document lacks a marker, has one twice, or has them in the wrong order."""


@dataclass(frozen=True)
class Markers:
    """The comment lines that open and close one generated block."""

    start: str
    """Opens the block (a line of its own)."""
    end: str
    """Closes the block (a line of its own)."""

    def _check(self, document: str, where: str) -> None:
        problems = [
            f"{marker!r} {'is missing' if count == 0 else f'appears {count} times'}"
            for marker in (self.start, self.end)
            if (count := document.count(marker)) != 1
        ]
        if not problems and document.index(self.end) < document.index(self.start):
            problems.append(f"{self.end!r} comes before {self.start!r}")
        if problems:
            raise MarkerError(f"{where} needs each marker once, start before end: " + "; ".join(problems))

    def block(self, document: str, where: str = "the document") -> str:
        """The text between the markers, as `replace` writes it. `where` names the document in the
        error raised when its markers are not there once each (MarkerError)."""
        self._check(document, where)
        return document.split(self.start, 1)[1].split(self.end, 1)[0].removeprefix("\n")

    def replace(self, document: str, text: str, where: str = "the document") -> str:
        """`document` with its block replaced by `text` (which gets a final newline if it lacks one)."""
        self._check(document, where)
        head, rest = document.split(self.start, 1)
        _, tail = rest.split(self.end, 1)
        body = text if text.endswith("\n") else f"{text}\n"
        return f"{head}{self.start}\n{body}{self.end}{tail}"

    def wrap(self, text: str) -> str:
        """The whole block, markers included, as it is pasted into a document."""
        return self.replace(f"{self.start}{self.end}", text)

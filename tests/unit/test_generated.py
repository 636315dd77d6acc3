"""devtools/generated.py: a generated block is found, replaced, and its missing markers are named."""

from __future__ import annotations

import pytest

from devtools.generated import MarkerError, Markers

MARKERS = Markers("<!-- x:start -->", "<!-- x:end -->")
DOCUMENT = "# Title\n\n<!-- x:start -->\nold\n<!-- x:end -->\n\nAfter.\n"


def test_the_block_is_the_text_between_the_markers() -> None:
    assert MARKERS.block(DOCUMENT) == "old\n"


def test_replace_keeps_the_rest_and_reads_back_what_it_wrote() -> None:
    replaced = MARKERS.replace(DOCUMENT, "new\nlines")
    assert replaced == "# Title\n\n<!-- x:start -->\nnew\nlines\n<!-- x:end -->\n\nAfter.\n"
    assert MARKERS.block(replaced) == "new\nlines\n"
    assert MARKERS.replace(replaced, "old\n") == DOCUMENT


def test_wrap_is_the_block_with_its_markers() -> None:
    assert MARKERS.wrap("a") == "<!-- x:start -->\na\n<!-- x:end -->"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("no markers", "'<!-- x:start -->' is missing; '<!-- x:end -->' is missing"),
        ("<!-- x:start -->\nonly the start\n", "'<!-- x:end -->' is missing"),
        (DOCUMENT + DOCUMENT, "'<!-- x:start -->' appears 2 times; '<!-- x:end -->' appears 2 times"),
        ("<!-- x:end -->\n<!-- x:start -->\n", "'<!-- x:end -->' comes before '<!-- x:start -->'"),
    ],
)
def test_a_document_without_its_markers_once_each_is_refused_by_name(document: str, expected: str) -> None:
    for call in (lambda: MARKERS.block(document, "notes.md"), lambda: MARKERS.replace(document, "x", "notes.md")):
        with pytest.raises(MarkerError) as refused:
            call()
        assert str(refused.value) == f"notes.md needs each marker once, start before end: {expected}"

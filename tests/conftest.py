"""Shared test set-up: the project root on sys.path and a guard against un-awaited Outputs."""

from __future__ import annotations

import sys
from pathlib import Path

import pulumi
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _no_truth_value(self: pulumi.Output) -> bool:  # type: ignore[type-arg]
    raise TypeError(
        "an Output was used as a truth value (e.g. `assert output`): resolve it with "
        "devtools.harness.resolve(), or assert on the Deployment that harness.run() returned"
    )


@pytest.fixture(autouse=True)
def _outputs_have_no_truth_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """`assert some_output` would otherwise pass whatever the value: make it fail loudly."""
    monkeypatch.setattr(pulumi.Output, "__bool__", _no_truth_value, raising=False)

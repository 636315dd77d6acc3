"""The test harness itself: mistakes that would make a test pass without checking must fail."""

from __future__ import annotations

import pulumi
import pulumi_command as command
import pytest

from devtools.harness import resolve, run


def test_an_output_cannot_be_asserted_without_resolving_it() -> None:
    outputs: dict[str, pulumi.Output[str]] = {}
    run(lambda: outputs.update(value=pulumi.Output.from_input("x")))
    with pytest.raises(TypeError, match="truth value"):
        assert outputs["value"]
    # Comparing an unresolved Output with a value is never equal, so that fails too.
    assert outputs["value"] != "x"
    assert resolve(outputs["value"]) == ("x", False)


def test_expected_errors_must_happen() -> None:
    with pytest.raises(AssertionError, match="did not raise ValueError"):
        run(lambda: None, expect_error=ValueError)


def test_program_errors_propagate() -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run(broken)


def test_secrets_within_finds_a_secret_anywhere_under_a_path() -> None:
    def program() -> None:
        command.local.Command("c", create="true", triggers=["plain", pulumi.Output.secret("hidden")])

    (cmd,) = run(program).resources
    assert cmd.secrets_within("triggers") == {"triggers.1"}
    assert cmd.secrets_within("triggers.1") == {"triggers.1"}
    assert cmd.secrets_within("triggers.0") == set()
    assert cmd.secrets_within("create") == set()

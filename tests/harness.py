"""The mock harness under its old name, for the unit tests that still import it from here.

The harness itself is devtools/harness.py (the benchmarks render the stacks' objects with it too, and
`benchmarks` may not import `tests`); import it from there. This name goes once no test uses it.
"""

from devtools.harness import (
    MOCK_KUBECONFIG,
    PROJECT,
    ROOT,
    Deployment,
    Registered,
    resolve,
    run,
    run_stack,
    stack_config,
)

__all__ = [
    "MOCK_KUBECONFIG",
    "PROJECT",
    "ROOT",
    "Deployment",
    "Registered",
    "resolve",
    "run",
    "run_stack",
    "stack_config",
]

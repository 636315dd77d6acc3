"""The stack's CrossGuard policy pack (`pulumi preview --policy-pack policy`).

A package so that tests can import `policy.rules` (the pure checks) and `policy.pack` (the
CrossGuard policies around them) from the repository root; `__main__.py` is what the CLI runs.
"""

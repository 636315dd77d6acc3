"""Development tooling shared by the tests, the benchmarks and the demo: none of it ships.

The product is `__main__.py`, `settings/`, `components/` (the library), `policy/` and `fleet/`; what
only the people working on it need (throwaway stacks, release tooling) lives here, so that `tests/`
and `benchmarks/` share it without importing each other.
"""

"""The fleet path: many apps as many small stacks, one per app and environment.

Product code, beside the program it drives (__main__.py, settings/, components/): `fleet/fleet.yaml`
lists the apps and environments; `spec.py` validates it and derives each stack's config; `run.py`
runs preview / up / refresh / cancel / destroy on the stacks concurrently through the Automation
API and sums them up; `python -m fleet` is its command line, and `python -m fleet matrix` feeds the
CI workflow's job matrix from the same file. Its tests and benchmark live with the others
(tests/unit, tests/e2e, benchmarks/fleet.py).
"""

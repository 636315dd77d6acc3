"""Speed and memory numbers, printed and never asserted (README: How fast), and the unit tests of
their own code (test_*.py here, run with the unit layer). Shares devtools/ with the tests; imports
nothing of tests/, which imports nothing of this."""

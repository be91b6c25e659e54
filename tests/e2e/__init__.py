"""End-to-end tests: the deployer CLI on a private emulator."""

import pytest

# Helpers holding assertions, rewritten so a failure shows its values.
pytest.register_assert_rewrite("tests.e2e.drill_checks")

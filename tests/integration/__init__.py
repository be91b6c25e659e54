"""Integration tests: stacks applied on the emulator with tftest."""

import pytest

# Helpers holding assertions, rewritten so a failure shows its values.
pytest.register_assert_rewrite("tests.integration.no_drift", "tests.integration.stacks")

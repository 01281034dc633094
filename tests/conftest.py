"""Fixtures that register test-only envs for the duration of one test."""

import fixture_envs
import pytest


@pytest.fixture
def registered_test_envs():
    """Register the test-only envs of ``fixture_envs``; yields their ids and removes them afterwards."""
    yield fixture_envs.register()
    fixture_envs.unregister()

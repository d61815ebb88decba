"""Fixtures shared across the suite."""

import pytest

from persona_lib.data.simulate import simulate
from persona_lib.data.simulate_config import load_preset


@pytest.fixture(scope="session")
def smoke_world():
    """The smoke preset's world, simulated once per test session (about a second)."""
    return simulate(load_preset("smoke"))

"""Fixtures of the planner's unit tests."""

from __future__ import annotations

import pytest
from k8s_vm_planner_helpers import make_env


@pytest.fixture
def env():
    return make_env()

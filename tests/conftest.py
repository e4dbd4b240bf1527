import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import pyjion_clr  # noqa: E402


@pytest.fixture(autouse=True)
def jit_off_between_tests():
    yield
    pyjion_clr.disable()
    pyjion_clr.config(threshold=pyjion_clr.DEFAULT_THRESHOLD)

#!/usr/bin/env python3
"""Runs the binding's pytest suite; exits 77 (meson's "skipped") when numpy or
pytest is not installed, so the rest of the test suite is not held hostage to
optional Python packages."""

import os
import sys

try:
    import numpy  # noqa: F401
    import pytest
except ImportError as e:
    print("skipping the Python binding tests: %s" % e)
    sys.exit(77)

here = os.path.dirname(os.path.abspath(__file__))
# No .pytest_cache or __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", here, here] + sys.argv[1:]))

"""Shared fixtures of the binding tests.

Environment (meson sets all of them): FACESWAP_LIBRARY (the built library),
FS_MODEL_DIR, FS_TESTDATA_DIR, FS_LAYOUT_PROBE (the built layout_probe) and
FS_SOURCE_ROOT. Without them the tests fall back to the source tree.
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)  # bindings/python
SOURCE_ROOT = os.environ.get("FS_SOURCE_ROOT") or os.path.dirname(os.path.dirname(PACKAGE_ROOT))

if PACKAGE_ROOT not in sys.path:
    sys.path.insert(0, PACKAGE_ROOT)


@pytest.fixture(scope="session")
def source_root():
    return SOURCE_ROOT


@pytest.fixture(scope="session")
def model_dir():
    return os.environ.get("FS_MODEL_DIR") or os.path.join(SOURCE_ROOT, "data", "models")


@pytest.fixture(scope="session")
def testdata():
    root = os.environ.get("FS_TESTDATA_DIR") or os.path.join(SOURCE_ROOT, "data", "testdata")

    def path(name):
        p = os.path.join(root, name)
        if not os.path.isfile(p):
            pytest.fail("missing test data %s: run scripts/fetch-data.sh" % p)
        return p
    return path


@pytest.fixture(scope="session")
def ctx(model_dir):
    import faceswap
    c = faceswap.Context(model_dir=model_dir)
    yield c
    c.close()


@pytest.fixture(scope="session")
def astronaut(testdata):
    import faceswap
    return faceswap.read_image(testdata("astronaut.png"))


@pytest.fixture(scope="session")
def detector(ctx):
    import faceswap
    return faceswap.Detector(ctx)


@pytest.fixture(scope="session")
def fitter(ctx):
    import faceswap
    return faceswap.Fitter(ctx)

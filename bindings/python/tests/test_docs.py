"""The Python examples of doc/python.md run as written (from the top of the tree)."""

import io
import os
import re
from contextlib import redirect_stdout

import pytest


def test_doc_examples_run(source_root, monkeypatch):
    doc = os.path.join(source_root, "doc", "python.md")
    if not os.path.isfile(doc):
        pytest.skip("no doc/python.md")
    blocks = re.findall(r"```python\n(.*?)```", open(doc).read(), flags=re.S)
    assert len(blocks) >= 5
    monkeypatch.chdir(source_root)
    namespace = {}
    out = io.StringIO()
    with redirect_stdout(out):
        for block in blocks:
            exec(compile(block, doc, "exec"), namespace)
    lines = out.getvalue().splitlines()
    # A few of the printed values the page promises.
    assert lines[0].startswith("1 Face(box=")
    assert lines[1] == "(478, 3) float32"
    assert "(1, 256)" in lines
    assert "-2 FS_ERR_OUT_OF_RANGE" in lines
    assert "-5 FS_ERR_NOT_FOUND" in lines
    assert lines[-1] == "True True"
    assert "FS_ERR_NO_FACE" in lines
    # The swap section: three faces swapped, the image changed.
    i = lines.index("3")
    assert lines[i + 1] == "True True"
    # Template and Video on Megamind.avi: every frame written, the files there.
    assert "270 True" in lines
    assert "270 True ['me.jpg', 'me.mp4', 'megamind.fst']" in lines
    assert "FS_ERR_VIDEO" in lines

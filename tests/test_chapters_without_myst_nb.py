"""The chapters' kernels under nbval cannot import myst-nb (root conftest.py)."""

import os
import subprocess
import sys

import pytest


def test_a_kernel_started_by_the_tests_cannot_import_myst_nb(pytestconfig):
    if not (pytestconfig.option.nbval or pytestconfig.option.nbval_lax):
        pytest.skip("chapters run without nbval")
    out = subprocess.run([sys.executable, "-c", "import myst_nb"], env=dict(os.environ),
                         capture_output=True, text=True)
    assert out.returncode == 1 and "blocked by the tests" in out.stderr

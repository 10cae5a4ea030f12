#!/usr/bin/env python3
"""tests/python/run_pytest.py — runs the Python package's tests with pytest (Debian's python3-pytest) under the
Khronos validation layer, and fails if any validation message appears on stderr (the library prints them as
"vkmm: validation ..."), also from the `vkmm` CLI runs the tests compare with."""

import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
try:
    import pytest  # noqa: F401
except ImportError:
    sys.exit(f"{sys.executable} has no pytest: install Debian's python3-pytest (./scripts/setup does)")

p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "console_output_style=classic", "-s",
                    *sys.argv[1:], here], stderr=subprocess.PIPE, text=True, errors="replace")
sys.stderr.write(p.stderr)
bad = [l for l in p.stderr.splitlines() if "vkmm: validation" in l]
if bad:
    sys.stderr.write(f"FAIL: {len(bad)} validation message(s), the first: {bad[0]}\n")
    sys.exit(1)
sys.exit(p.returncode)

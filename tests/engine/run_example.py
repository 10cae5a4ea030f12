#!/usr/bin/env python3
"""tests/engine/run_example.py — runs the README's C example on the bundled demo model: it must build (meson did
that), describe the example picture exactly as the README says (exit status 0, no validation message), and fail
cleanly on a missing file.

    run_example.py EXAMPLE MODEL.gguf MMPROJ.gguf IMAGE "expected description"
"""
import os, subprocess, sys, tempfile

example, model, mmproj, image, expected = sys.argv[1:6]
env = dict(os.environ, VKMM_VALIDATE="1")
r = subprocess.run([example, model, mmproj, image], capture_output=True, env=env, timeout=240)
out = r.stdout.decode(errors="replace")
print(out[:400])
if r.returncode != 0 or b"validation" in r.stderr:
    sys.exit("example failed: status %d\n%s" % (r.returncode, r.stderr.decode(errors="replace")))
if out.strip() != expected:
    sys.exit("example described %s as %r, expected %r" % (image, out.strip(), expected))
with tempfile.TemporaryDirectory() as d:
    missing = os.path.join(d, "missing.gguf")
    r = subprocess.run([example, missing, mmproj, image], capture_output=True, env=env, timeout=60)
    if r.returncode != 1 or b"missing.gguf" not in r.stderr:
        sys.exit("a missing model did not fail cleanly: status %d, %s" % (r.returncode, r.stderr))
print("README example: OK")

#!/usr/bin/env python3
"""tests/engine/run_example.py — runs the README's C example on a synthetic Gemma 3 pair: it must build (meson
did that), describe the image (some text, exit status 0), and fail cleanly on a missing file."""
import os, subprocess, sys, tempfile

example, vkmm, tokenizer, image = sys.argv[1:5]
with tempfile.TemporaryDirectory() as d:
    t, v = os.path.join(d, "t.gguf"), os.path.join(d, "v.gguf")
    subprocess.run([vkmm, "synth", "--arch", "gemma3", "--tokenizer", tokenizer, "-o", t, "--mmproj-out", v,
                    "--type", "q8_0"], check=True, capture_output=True)
    env = dict(os.environ, VKMM_VALIDATE="1")
    r = subprocess.run([example, t, v, image], capture_output=True, env=env, timeout=240)
    print(r.stdout.decode(errors="replace")[:200])
    if r.returncode != 0 or not r.stdout or b"validation" in r.stderr:
        sys.exit("example failed: status %d\n%s" % (r.returncode, r.stderr.decode(errors="replace")))
    r = subprocess.run([example, os.path.join(d, "missing.gguf"), v, image], capture_output=True, env=env, timeout=60)
    if r.returncode != 1 or b"missing.gguf" not in r.stderr:
        sys.exit("a missing model did not fail cleanly: status %d, %s" % (r.returncode, r.stderr))
print("README example: OK")

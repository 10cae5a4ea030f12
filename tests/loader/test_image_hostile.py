#!/usr/bin/env python3
"""tests/loader/test_image_hostile.py — runs `vkmm info --image` (or `--model-file`, `--audio`) on every hostile file of a
folder (scripts/make_hostile_inputs.py wrote them and expected.txt) and requires, for each: exit status 1
(never a signal, never a hang), nothing on stdout, exactly one line on stderr, naming the file, containing
the words expected.txt gives. Also checks that every file is listed, so a new file cannot slip through.

usage: test_image_hostile.py VKMM SUBCOMMAND FOLDER
A folder without expected.txt (the fuzz regressions) is held to less: status 0 or 1, never a signal or a hang,
and on failure one line naming the file.
"""
import os
import subprocess
import sys


def main():
    vkmm, sub, folder = sys.argv[1:4]
    expected = {}
    listed = os.path.exists(os.path.join(folder, "expected.txt"))
    if listed:
        with open(os.path.join(folder, "expected.txt"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                name, words = line.rstrip("\n").split("\t")
                expected[name] = words
    helpers = {"expected.txt", "exists.gguf", "README.md"}
    present = sorted(n for n in os.listdir(folder) if n not in helpers)
    failures = []
    if listed and sorted(expected) != present:
        failures.append("files and expected.txt disagree: only on disk %s, only listed %s" % (
            sorted(set(present) - set(expected)), sorted(set(expected) - set(present))))
    env = dict(os.environ, VKMM_LOG="warn")
    for name in present:
        path = os.path.join(folder, name)
        try:
            r = subprocess.run([vkmm] + sub.split() + [path], capture_output=True, timeout=30, env=env)
        except subprocess.TimeoutExpired:
            failures.append("%s: still running after 30 s" % name)
            continue
        err = r.stderr.decode("utf-8", "replace")
        # libmpg123 (under libsndfile's MP3 decoder) prints its own diagnostics and libsndfile gives no way to
        # quiet them; they are not vkmm's message
        lines = [l for l in err.splitlines() if not l.startswith("[src/libmpg123/")]
        words = expected.get(name, "")
        problems = []
        if r.returncode < 0:
            problems.append("killed by signal %d" % -r.returncode)
        elif r.returncode != 1 and (listed or r.returncode != 0):
            problems.append("exit status %d, want 1" % r.returncode)
        if r.returncode != 0:
            if r.stdout:
                problems.append("printed to stdout: %r" % r.stdout[:200])
            if len(lines) != 1:
                problems.append("%d lines on stderr, want 1" % len(lines))
            if path not in err:
                problems.append("message does not name the file")
        if listed and words != "-" and words not in err:
            problems.append("message lacks %r" % words)
        if problems:
            failures.append("%s: %s\n    stderr: %s" % (name, "; ".join(problems), err.strip()[:400]))
        else:
            print("ok   %-36s %s" % (name, lines[0][:160] if lines else "decoded"))
    for f in failures:
        print("FAIL " + f)
    print("%s: %d files, %d failures" % (sub, len(present), len(failures)))
    return 1 if failures or len(present) < (20 if listed else 1) else 0


if __name__ == "__main__":
    sys.exit(main())

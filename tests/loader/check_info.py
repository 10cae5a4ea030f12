#!/usr/bin/env python3
"""tests/loader/check_info.py — runs `vkmm info -m` (text and --json) on every hostile GGUF file and on valid
ones, and checks what a user sees: hostile files end with exit status exactly 1 and one stderr line
"vkmm info: FILE: ... (at byte N)" naming the expected problem and offset (never a signal, never output on
stdout); valid files give status 0, nothing on stderr, and JSON that parses.

usage: check_info.py VKMM HOSTILE_DIR VALID_FILE_OR_DIR...
"""
import json
import os
import signal
import subprocess
import sys

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg, file=sys.stderr)


def run(vkmm, args):
    p = subprocess.run([vkmm, "info"] + args, capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def describe_status(rc):
    if rc < 0:
        return "killed by signal %s" % signal.Signals(-rc).name
    return "exit status %d" % rc


def check_hostile(vkmm, path, phrase, at):
    for extra in ([], ["--json"]):
        rc, out, err = run(vkmm, ["-m", path] + extra)
        what = "%s %s" % (os.path.basename(path), " ".join(extra))
        if rc != 1:
            fail("%s: %s, expected exit status 1; stderr: %s" % (what, describe_status(rc), err.strip()))
            continue
        lines = err.splitlines()
        if len(lines) != 1 or not err.endswith("\n"):
            fail("%s: expected exactly one line on stderr, got %r" % (what, err))
            continue
        line = lines[0]
        prefix = "vkmm info: %s: " % path
        if not line.startswith(prefix):
            fail("%s: message does not start with %r: %s" % (what, prefix, line))
        if phrase not in line:
            fail("%s: message does not say %r: %s" % (what, phrase, line))
        if at != "-" and not line.endswith("(at byte %s)" % at):
            fail("%s: message does not end with '(at byte %s)': %s" % (what, at, line))
        if out:
            fail("%s: printed on stdout despite the error: %r" % (what, out[:200]))


def check_valid(vkmm, path):
    rc, out, err = run(vkmm, ["-m", path])
    name = os.path.basename(path)
    if rc != 0 or err:
        fail("%s: %s, stderr %r (expected 0 and nothing)" % (name, describe_status(rc), err))
    elif "architecture" not in out or "tensors" not in out:
        fail("%s: text output lacks the architecture or tensor lines: %r" % (name, out[:300]))
    rc, out, err = run(vkmm, ["-m", path, "--json"])
    if rc != 0 or err:
        fail("%s --json: %s, stderr %r" % (name, describe_status(rc), err))
        return
    try:
        doc = json.loads(out)
    except ValueError as e:
        fail("%s --json: not JSON (%s): %r" % (name, e, out[:300]))
        return
    for key in ("architecture", "hyperparameters", "tensors", "tokenizer", "chat_template", "version"):
        if key not in doc:
            fail("%s --json: no %r in %s" % (name, key, sorted(doc)))
    if os.path.getsize(path) != doc.get("size"):
        fail("%s --json: size %r, file has %d bytes" % (name, doc.get("size"), os.path.getsize(path)))


def check_usage(vkmm, hostile_dir):
    for args, want in (([], 2), (["--bogus"], 2), (["-m"], 2), (["-m", "x.gguf", "--nope"], 2)):
        rc, _, err = run(vkmm, args)
        if rc != want:
            fail("vkmm info %s: %s, expected %d (%s)" % (" ".join(args), describe_status(rc), want, err.strip()))
    missing = os.path.join(hostile_dir, "does-not-exist.gguf")
    rc, _, err = run(vkmm, ["-m", missing])
    if rc != 1 or missing not in err or len(err.splitlines()) != 1:
        fail("missing file: %s, stderr %r" % (describe_status(rc), err))
    rc, _, err = run(vkmm, ["-m", hostile_dir])
    if rc != 1 or "not a regular file" not in err:
        fail("a folder: %s, stderr %r" % (describe_status(rc), err))


def main():
    vkmm, hostile_dir = sys.argv[1], sys.argv[2]
    valid = []
    for arg in sys.argv[3:]:
        if os.path.isdir(arg):
            valid += sorted(os.path.join(arg, n) for n in os.listdir(arg) if n.endswith(".gguf"))
        else:
            valid.append(arg)
    listed = set()
    with open(os.path.join(hostile_dir, "expected.tsv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, phrase, at = line.rstrip("\n").split("\t")
            listed.add(name)
            check_hostile(vkmm, os.path.join(hostile_dir, name), phrase, at)
    on_disk = {n for n in os.listdir(hostile_dir) if n.endswith(".gguf")}
    if on_disk != listed:
        fail("expected.tsv and the folder disagree: %s" % sorted(on_disk ^ listed))
    if len(listed) < 50:
        fail("only %d hostile files" % len(listed))
    for path in valid:
        check_valid(vkmm, path)
    check_usage(vkmm, hostile_dir)
    print("%d hostile and %d valid files checked, %d failures" % (len(listed), len(valid), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

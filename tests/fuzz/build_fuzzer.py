#!/usr/bin/env python3
"""tests/fuzz/build_fuzzer.py — builds one libFuzzer binary with clang (the project compiler is gcc): compiles
each source on its own with the given flags, links them, and writes one depfile for meson so that editing
any header a fuzzer includes rebuilds it.

usage: build_fuzzer.py CLANG OUTPUT DEPFILE --cflags FLAG... --ldflags FLAG... --sources FILE...
"""
import os
import subprocess
import sys


def split_args(argv):
    groups = {"--cflags": [], "--ldflags": [], "--sources": []}
    current = None
    for a in argv:
        if a in groups:
            current = groups[a]
        elif current is None:
            sys.exit("build_fuzzer.py: unexpected argument %r" % a)
        else:
            current.append(a)
    return groups["--cflags"], groups["--ldflags"], groups["--sources"]


def read_deps(path):
    with open(path) as f:
        text = f.read().replace("\\\n", " ")
    _, _, deps = text.partition(": ")
    return deps.split()


def main():
    clang, output, depfile = sys.argv[1:4]
    cflags, ldflags, sources = split_args(sys.argv[4:])
    objdir = output + ".p"
    os.makedirs(objdir, exist_ok=True)
    objects, deps = [], []
    for i, src in enumerate(sources):
        obj = os.path.join(objdir, "%d-%s.o" % (i, os.path.basename(src)))
        subprocess.run([clang] + cflags + ["-MD", "-MF", obj + ".d", "-c", src, "-o", obj], check=True)
        objects.append(obj)
        deps += read_deps(obj + ".d")
    subprocess.run([clang] + cflags + objects + ["-o", output] + ldflags, check=True)
    with open(depfile, "w") as f:
        f.write("%s: %s\n" % (output.replace(" ", "\\ "), " ".join(sorted(set(d.replace(" ", "\\ ") for d in deps)))))


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as e:
        sys.exit(e.returncode or 1)

#!/usr/bin/env python3
"""tests/fuzz/run_fuzz_smoke.py — one fuzz-smoke test: replays every committed regression and seed input once,
then fuzzes for a bounded number of runs from the seeds, with a fixed seed so CI runs are repeatable. Any
crash, leak, sanitizer report or timeout fails the test; the input that caused it is kept under the build
folder (the message says where) and belongs in tests/fuzz/regressions/<target>/ once fixed.
The committed folders are only read: new corpus entries go to a temporary folder.

usage: run_fuzz_smoke.py FUZZER RUNS ARTIFACT_DIR CORPUS_DIR... [--regressions DIR]
  VKMM_FUZZ_SEED=N overrides the fixed seed; VKMM_FUZZ_RUNS=N the number of runs.
"""
import os
import subprocess
import sys
import tempfile

SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1:allocator_may_return_null=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
    # leaks inside system libraries (see the file) are not vkmm's; every other leak still fails
    "LSAN_OPTIONS": "suppressions=" + os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan.supp"),
}


def inputs_in(d):
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, n) for n in os.listdir(d)
                  if os.path.isfile(os.path.join(d, n)) and not n.startswith(("README", ".")))


def run(cmd, env):
    print("+ " + " ".join(cmd[:6]) + (" ... (%d more)" % (len(cmd) - 6) if len(cmd) > 6 else ""), flush=True)
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.decode("utf-8", "replace")
    return p.returncode, out


def main():
    args = sys.argv[1:]
    regressions = []
    if "--regressions" in args:
        i = args.index("--regressions")
        regressions = inputs_in(args[i + 1])
        del args[i:i + 2]
    fuzzer, runs, artifacts, corpora = args[0], int(os.environ.get("VKMM_FUZZ_RUNS", args[1])), args[2], args[3:]
    os.makedirs(artifacts, exist_ok=True)
    env = dict(os.environ, **SANITIZER_ENV)
    common = ["-timeout=10", "-rss_limit_mb=2048", "-malloc_limit_mb=1024", "-artifact_prefix=" + artifacts + "/"]

    # 1. every regression and seed once (libFuzzer runs files given as arguments one by one)
    seeds = regressions + [f for d in corpora for f in inputs_in(d)]
    if not seeds:
        print("no seed inputs in %s" % corpora)
        return 1
    for k in range(0, len(seeds), 200):
        rc, out = run([fuzzer] + common + seeds[k:k + 200], env)
        if rc != 0:
            print(out[-20000:])
            print("FAIL: a committed input crashes %s (see above)" % os.path.basename(fuzzer))
            return 1
    print("replayed %d regression and %d seed inputs" % (len(regressions), len(seeds) - len(regressions)))

    # 2. bounded fuzzing from the seeds into a scratch corpus
    seed = os.environ.get("VKMM_FUZZ_SEED", "1")
    with tempfile.TemporaryDirectory(prefix="vkmm-fuzz-") as scratch:
        rc, out = run([fuzzer] + common + ["-runs=%d" % runs, "-seed=" + seed, "-max_total_time=120",
                                           "-print_final_stats=1", scratch] + corpora, env)
    tail = out[-20000:]
    if rc != 0:
        print(tail)
        print("FAIL: %s found a problem (seed %s); the input is in %s/; once fixed, copy it to "
              "tests/fuzz/regressions/" % (os.path.basename(fuzzer), seed, artifacts))
        return 1
    print("\n".join([l for l in tail.splitlines() if l.startswith(("stat::", "Done", "#"))][-6:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

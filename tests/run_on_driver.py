#!/usr/bin/env python3
"""tests/run_on_driver.py — runs one test on a second Vulkan driver: the one the ICD file names, alone
(VK_DRIVER_FILES and VK_ICD_FILENAMES), with its unpacked libraries first on LD_LIBRARY_PATH. Before the test,
`vkmm devices --json` under the same environment must show exactly one device whose driver says `want` (e.g.
"Mesa 25."), so a test never passes on the system driver by mistake; the driver's line is printed for the log.

usage: run_on_driver.py VKMM ICD_JSON WANT -- TEST [ARGS...]
Without the driver (scripts/setup fetches it: scripts/fetch_mesa25.py) the test fails when CI=true and is skipped
(exit 77) otherwise.
"""
import json
import os
import subprocess
import sys


def main():
    sep = sys.argv.index("--")
    vkmm, icd, want = sys.argv[1:sep]
    cmd = sys.argv[sep + 1:]
    if not os.path.exists(icd):
        msg = "%s is missing: run scripts/setup (it fetches Mesa 25's lavapipe with scripts/fetch_mesa25.py)" % icd
        if os.environ.get("CI") == "true":
            print("FAIL: " + msg)
            return 1
        print("SKIP: " + msg)
        return 77
    with open(icd) as f:
        lib_dir = os.path.dirname(json.load(f)["ICD"]["library_path"])
    env = dict(os.environ, VK_DRIVER_FILES=icd, VK_ICD_FILENAMES=icd)
    env["LD_LIBRARY_PATH"] = lib_dir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    probe = subprocess.run([vkmm, "devices", "--json"], capture_output=True, text=True, env=env, timeout=120)
    try:
        devices = json.loads(probe.stdout)
        devices = devices.get("devices", devices) if isinstance(devices, dict) else devices
    except ValueError:
        print("FAIL: `vkmm devices --json` on %s printed no JSON (status %d):\n%s%s" % (icd, probe.returncode,
                                                                                      probe.stdout, probe.stderr))
        return 1
    drivers = ["%s: %s %s (%s)" % (d.get("name"), d.get("driver_name"), d.get("driver_version"), d.get("driver_info"))
               for d in devices]
    if len(devices) != 1 or want not in devices[0].get("driver_info", ""):
        print("FAIL: the test would not run on %s alone; the devices are: %s" % (want, drivers or "none"))
        return 1
    print("driver: " + drivers[0], flush=True)
    rc = subprocess.run(cmd, env=env).returncode
    if rc < 0:
        # Killed by a signal, not failed: once in CI (Mesa 25.0.7, LLVM 15) the Gemma 4 image test died 2.4 s in
        # with a stack-segment trap inside libstdc++ (the driver's LLVM), and passed on every rerun. Said loudly and
        # run once more; a second death, or any failure, stands.
        print("WARNING: %s died from signal %d on %s; running it once more" % (cmd[0], -rc, want), flush=True)
        rc = subprocess.run(cmd, env=env).returncode
    return rc


if __name__ == "__main__":
    sys.exit(main())

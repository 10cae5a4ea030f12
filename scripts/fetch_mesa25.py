#!/usr/bin/env python3
"""scripts/fetch_mesa25.py — a second Vulkan driver for the tests: Mesa 25's lavapipe from Debian's
bookworm-backports, unpacked into .deps/mesa25/ beside the system's Mesa 22, with an ICD file that names it. The
same SPIR-V through another driver's shader compiler catches what one driver forgives.

The packages come from the Debian mirror the machine's apt sources already use (sources.list, sources.list.d/*.list
and deb822 *.sources), through apt-get with a private sources list, state and cache under .deps/mesa25/apt: the
system's apt state and installed packages are not touched (apt-get download and dpkg-deb -x install nothing). Besides
mesa-vulkan-drivers, any dependency whose installed version is older than the package asks for, or that is not
installed, is fetched and unpacked beside it (the tests then find it through LD_LIBRARY_PATH).

usage: fetch_mesa25.py [DEST]      (DEST: .deps/mesa25 by default; nothing to do when DEST already holds it)
Writes DEST/lvp_icd.json, DEST/lib (the unpacked libraries) and DEST/VERSION (the Mesa package version).
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "mesa-vulkan-drivers"
WANT_MAJOR = "25."
MULTIARCH = "x86_64-linux-gnu"


def fail(msg):
    sys.exit("fetch_mesa25: " + msg)


def codename():
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"')
    fail("/etc/os-release names no VERSION_CODENAME")


def debian_mirrors(suite):
    """URIs of the apt sources that serve `suite` main (one-line and deb822 formats), in the order apt reads them."""
    found = []
    files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
    for path in files:
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                line = re.sub(r"\[[^\]]*\]", "", line.split("#", 1)[0]).split()
                if len(line) >= 4 and line[0] == "deb" and line[2] == suite and "main" in line[3:]:
                    found.append(line[1])
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path) as f:
            stanzas = f.read().split("\n\n")
        for st in stanzas:
            fields = {}
            for line in st.splitlines():
                if line.startswith("#") or ":" not in line or line[0].isspace():
                    continue
                k, v = line.split(":", 1)
                fields[k.strip().lower()] = v.split()
            if (fields.get("enabled", ["yes"])[0] != "no" and "deb" in fields.get("types", [])
                    and suite in fields.get("suites", []) and "main" in fields.get("components", [])):
                found.extend(fields.get("uris", []))
    return found


class Apt:
    """apt-get and apt-cache over a private sources list, state and cache."""

    def __init__(self, top, mirror, suite, keyring):
        self.top = top
        for d in ("lists/partial", "cache/archives/partial", "etc/preferences.d", "download"):
            os.makedirs(os.path.join(top, d), exist_ok=True)
        signed = "[signed-by=%s] " % keyring if keyring else ""
        with open(os.path.join(top, "etc", "sources.list"), "w") as f:
            f.write("deb %s%s %s main\ndeb %s%s %s-backports main\n" % (signed, mirror, suite, signed, mirror, suite))
        user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
        self.opts = [
            "-o", "Dir::State=" + top, "-o", "Dir::State::Lists=" + os.path.join(top, "lists"),
            "-o", "Dir::State::status=/var/lib/dpkg/status", "-o", "Dir::Cache=" + os.path.join(top, "cache"),
            "-o", "Dir::Etc::sourcelist=" + os.path.join(top, "etc", "sources.list"), "-o", "Dir::Etc::sourceparts=-",
            "-o", "Dir::Etc::preferencesparts=" + os.path.join(top, "etc", "preferences.d"),
            "-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=" + user, "-q",
        ]

    def run(self, tool, *args, cwd=None):
        r = subprocess.run([tool] + self.opts + list(args), capture_output=True, text=True, cwd=cwd)
        if r.returncode:
            fail("%s %s failed:\n%s%s" % (tool, " ".join(args), r.stdout, r.stderr))
        return r.stdout

    def versions(self, pkg):
        """(version, suite) pairs apt knows for pkg."""
        out, vers, ver = self.run("apt-cache", "policy", pkg), [], None
        for line in out.splitlines():
            m = re.match(r"\s+(?:\*\*\* )?(\S+) \d+$", line)
            if m:
                ver = m.group(1)
            elif ver and re.match(r"\s+\d+ http", line):
                vers.append((ver, line.split()[2].split("/")[0]))
        return vers


def installed_version(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status} ${Version}", pkg], capture_output=True, text=True)
    parts = r.stdout.split()
    return parts[3] if r.returncode == 0 and parts[:3] == ["install", "ok", "installed"] else None


def satisfies(version, op, want):
    ops = {">=": "ge", "<=": "le", ">>": "gt", "<<": "lt", "=": "eq"}
    return subprocess.run(["dpkg", "--compare-versions", version, ops[op], want]).returncode == 0


def depends(deb):
    """(package, op, version) for each first alternative of the .deb's Depends."""
    field = subprocess.run(["dpkg-deb", "-f", deb, "Depends"], capture_output=True, text=True).stdout
    out = []
    for dep in field.split(","):
        m = re.match(r"\s*([a-z0-9.+-]+)(?::\w+)?\s*(?:\(\s*([<>=]+)\s*([^)\s]+)\s*\))?", dep.split("|")[0])
        if m:
            out.append((m.group(1), m.group(2), m.group(3)))
    return out


def download(apt, pkg, suite, want=None):
    """Downloads the newest version of pkg that suite offers (and that satisfies want); returns the .deb path."""
    cands = [v for v, s in apt.versions(pkg) if s == suite and (not want or satisfies(v, *want))]
    if not cands:
        fail("%s is not in %s (needed: %s)" % (pkg, suite, " ".join(want) if want else "any version"))
    dl = os.path.join(apt.top, "download")
    apt.run("apt-get", "download", "%s=%s" % (pkg, cands[0]), cwd=dl)
    debs = [d for d in glob.glob(os.path.join(dl, pkg + "_*.deb"))]
    if not debs:
        fail("apt-get download %s left no .deb" % pkg)
    return max(debs, key=os.path.getmtime), cands[0]


def main():
    dest = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".deps", "mesa25"))
    icd = os.path.join(dest, "lvp_icd.json")
    if os.path.exists(icd):
        return 0
    suite = codename()
    mirrors = debian_mirrors(suite)
    if not mirrors:
        fail("no apt source serves %s main (looked in /etc/apt/sources.list and sources.list.d)" % suite)
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    tmp = dest + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    apt = Apt(os.path.join(tmp, "apt"), mirrors[0], suite, keyring if os.path.exists(keyring) else None)
    print("fetch_mesa25: %s-backports from %s" % (suite, mirrors[0]))
    apt.run("apt-get", "update")
    deb, version = download(apt, PACKAGE, suite + "-backports")
    if not version.startswith(WANT_MAJOR):
        fail("%s-backports has %s %s, not Mesa %sx" % (suite, PACKAGE, version, WANT_MAJOR))
    debs = [deb]
    for pkg, op, want in depends(deb):
        have = installed_version(pkg)
        if have and (not op or satisfies(have, op, want)):
            continue
        # missing, or older than mesa asks for: the newest that satisfies it, backports first
        for s in (suite + "-backports", suite):
            if any(sv == s and (not op or satisfies(v, op, want)) for v, sv in apt.versions(pkg)):
                debs.append(download(apt, pkg, s, (op, want) if op else None)[0])
                break
        else:
            fail("%s %s %s is not available" % (pkg, op or "", want or ""))
    unpacked = os.path.join(tmp, "root")
    for d in debs:
        print("fetch_mesa25: unpacking %s" % os.path.basename(d))
        subprocess.run(["dpkg-deb", "-x", d, unpacked], check=True)
    lib = os.path.join(unpacked, "usr", "lib", MULTIARCH)
    lvp = os.path.join(lib, "libvulkan_lvp.so")
    if not os.path.exists(lvp):
        fail("%s holds no libvulkan_lvp.so" % os.path.basename(deb))
    with open(os.path.join(unpacked, "usr", "share", "vulkan", "icd.d", "lvp_icd.json")) as f:
        api = json.load(f)["ICD"].get("api_version", "1.3.0")
    # everything the driver links must resolve, with the unpacked libraries first
    env = dict(os.environ, LD_LIBRARY_PATH=lib)
    r = subprocess.run(["ldd", "-r", lvp], capture_output=True, text=True, env=env)
    if r.returncode or "not found" in r.stdout or "undefined symbol" in r.stdout + r.stderr:
        fail("libvulkan_lvp.so does not link on this system:\n" + r.stdout + r.stderr)
    # the other drivers and layers of the package are not needed: only lavapipe and the libraries fetched for it
    for path in glob.glob(os.path.join(lib, "libvulkan_*.so")) + glob.glob(os.path.join(lib, "libVkLayer_*.so")):
        if path != lvp:
            os.remove(path)
    final_lib = os.path.join(dest, "lib")
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    shutil.move(lib, final_lib)
    with open(os.path.join(dest, "VERSION"), "w") as f:
        f.write(version + "\n")
    with open(icd + ".tmp", "w") as f:
        json.dump({"file_format_version": "1.0.0",
                   "ICD": {"library_path": os.path.join(final_lib, "libvulkan_lvp.so"), "api_version": api}}, f)
        f.write("\n")
    os.rename(icd + ".tmp", icd)
    shutil.rmtree(tmp, ignore_errors=True)
    print("fetch_mesa25: Mesa %s lavapipe in %s" % (version, dest))
    return 0


if __name__ == "__main__":
    sys.exit(main())

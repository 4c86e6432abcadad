#!/usr/bin/env python3
"""Installs the pinned npm `jose` for npm_jose_peer.mjs into a prefix outside the source tree.

usage: npm_setup.py PREFIX       prints the node_modules directory to hand over as $JOSE_NODE_MODULES

package.json and package-lock.json (next to this file) are copied into PREFIX and `npm ci --prefix PREFIX`
runs when PREFIX has no installed jose or its lock file differs from ours. Only the npm registry is
contacted, and only then. Importable: node_modules(prefix) does the same and raises on failure.
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFESTS = ("package.json", "package-lock.json")


def _same(a, b):
    try:
        with open(a, "rb") as fa, open(b, "rb") as fb:
            return fa.read() == fb.read()
    except FileNotFoundError:
        return False


def node_modules(prefix):
    prefix = os.path.abspath(prefix)
    modules = os.path.join(prefix, "node_modules")
    installed = os.path.exists(os.path.join(modules, "jose", "package.json"))
    if installed and all(_same(os.path.join(HERE, m), os.path.join(prefix, m)) for m in MANIFESTS):
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed")
    os.makedirs(prefix, exist_ok=True)
    for m in MANIFESTS:
        shutil.copyfile(os.path.join(HERE, m), os.path.join(prefix, m))
    r = subprocess.run([npm, "ci", "--prefix", prefix, "--no-audit", "--no-fund", "--ignore-scripts"],
                       capture_output=True, text=True, timeout=240)
    if r.returncode != 0:
        raise RuntimeError(f"npm ci --prefix {prefix} failed:\n{r.stdout}{r.stderr}")
    return modules


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[2])
    try:
        print(node_modules(sys.argv[1]))
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        sys.exit(str(e))

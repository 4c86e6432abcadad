"""Drives the three JOSE peers through their one command line (see peer_common.py).

Used by selfcheck.py and ../test_jose.py; plain standard library, any Python 3.11. The Python peers run under
SYSTEM_PYTHON (Debian's, which has python3-jwcrypto), the npm one under `node` with $JOSE_NODE_MODULES.
"""
import dataclasses
import itertools
import json
import os
import shutil
import subprocess

import npm_setup

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM_PYTHON = "/usr/bin/python3"
TIMEOUT = 60
UNSUPPORTED = 77

# TS-0003 8.5.3 allow-list.
JWS_ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]
JWE_ALGS = ["dir", "A128KW", "A192KW", "A256KW", "RSA-OAEP-256", "ECDH-ES+A128KW", "ECDH-ES+A192KW",
            "ECDH-ES+A256KW"]
JWE_ENCS = ["A128GCM", "A192GCM", "A256GCM"]
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth")
PRODUCE = {"jws": "sign", "jwe": "encrypt"}
CONSUME = {"jws": "verify", "jwe": "decrypt"}
# Two signers / recipients of different key types, for the JWK set cases.
MULTI = {"jws": ["ES256", "HS256"], "jwe": ["A128KW", "ECDH-ES+A128KW"]}
MULTI_ENC = "A128GCM"


@dataclasses.dataclass
class Run:
    argv: list
    rc: int
    out: bytes
    err: bytes

    @property
    def unsupported(self):
        return self.rc == UNSUPPORTED

    def log(self, label=""):
        label = label or os.path.basename(self.argv[1] if self.argv[1:2] and self.argv[1].endswith((".py", ".mjs"))
                                          else self.argv[0])
        out = self.out if len(self.out) <= 2000 else self.out[:2000] + b"...(%d bytes)" % len(self.out)
        return (f"--- {label}$ {' '.join(self.argv)}\n--- exit {self.rc}; stdout: {out!r}\n"
                f"--- stderr: {self.err.decode('utf-8', 'replace').rstrip()}")


def run(argv, data=b"", env=None, timeout=TIMEOUT):
    """Runs a child to completion; stdin may be closed early by the child (huge inputs)."""
    try:
        p = subprocess.run(argv, input=data, capture_output=True, env=env, timeout=timeout)
        return Run(argv, p.returncode, p.stdout, p.stderr)
    except subprocess.TimeoutExpired as e:
        return Run(argv, -1, e.stdout or b"", (e.stderr or b"") + f"\n[killed after {timeout} s]".encode())


class Peer:
    """One independent JOSE implementation behind the uniform command line."""

    def __init__(self, name, interpreter, script, env=None):
        self.name, self.prefix, self.env = name, [interpreter, os.path.join(HERE, script)], env

    def argv(self, cmd, alg=None, enc=None, key=None, json_=False):
        a = [*self.prefix, cmd]
        for flag, value in (("--alg", alg), ("--enc", enc), ("--key", key)):
            if value is not None:
                a += [flag, value]
        return a + (["--json"] if json_ else [])

    def __call__(self, cmd, data=b"", **opts):
        return run(self.argv(cmd, **opts), data, env=self.env)

    def genkey(self, alg, enc=None):
        """The private JWK (a dict), or raises with the peer's output."""
        r = self("genkey", alg=alg, enc=enc)
        if r.rc != 0:
            raise RuntimeError(r.log(f"{self.name} genkey"))
        return json.loads(r.out)

    def __repr__(self):
        return self.name


def available_peers(npm_prefix, only=None):
    """([Peer], [problem]) for the peers that can run here; `only` restricts by name."""
    peers, problems = [], []
    wanted = lambda name: only is None or name in only  # noqa: E731
    if wanted("jwcrypto"):
        if run([SYSTEM_PYTHON, "-c", "import jwcrypto"], timeout=30).rc == 0:
            peers.append(Peer("jwcrypto", SYSTEM_PYTHON, "jwcrypto_peer.py"))
        else:
            problems.append(f"jwcrypto: {SYSTEM_PYTHON} cannot import jwcrypto (apt-get install python3-jwcrypto)")
    if wanted("jose-cli"):
        if shutil.which("jose") and os.path.exists(SYSTEM_PYTHON):
            peers.append(Peer("jose-cli", SYSTEM_PYTHON, "jose_cli_peer.py"))
        else:
            problems.append("jose-cli: no `jose` command (apt-get install jose)")
    if wanted("npm-jose"):
        node = shutil.which("node")
        try:
            if node is None:
                raise RuntimeError("no `node` command")
            modules = npm_setup.node_modules(npm_prefix)
            peers.append(Peer("npm-jose", node, "npm_jose_peer.mjs",
                              env=dict(os.environ, JOSE_NODE_MODULES=modules)))
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            problems.append(f"npm-jose: {e}")
    return peers, problems


def public_jwk(jwk):
    """The public part of a JWK; a symmetric key stays as it is."""
    if jwk.get("kty") == "oct":
        return dict(jwk)
    return {k: v for k, v in jwk.items() if k not in PRIVATE_MEMBERS}


class KeyDir:
    """Writes JWKs (and sets) to numbered files in a directory; returns their paths."""

    def __init__(self, path):
        self.path, self.serial = path, itertools.count(1)   # next() on a count is atomic: threads may share it

    def write(self, doc, label="key"):
        path = os.path.join(self.path, f"{next(self.serial):04d}-{label}.jwk")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
        return path

    def pair(self, jwk, label="key"):
        """(private file, public file)."""
        return self.write(jwk, label + ".priv"), self.write(public_jwk(jwk), label + ".pub")

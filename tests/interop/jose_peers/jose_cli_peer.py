#!/usr/bin/python3
"""JOSE interop peer driving the latchset `jose` command (Debian package `jose`, version 11).

Command line: see peer_common.py. --json gives jose's flattened serialization (general for a JWK set); a
JSON JWE carries "alg", "kid" (and "epk") in the per-recipient unprotected header. What `jose alg` does not
list (RSA-OAEP-256 and RSA-OAEP in version 11) is refused with exit 77. Quirks handled here:
  - jose reads the "alg" of a direct (dir) JWK as the content encryption algorithm and refuses "dir"
    there, so a dir key is handed to it without "alg";
  - `jose jws ver -O` and `jose jwe dec -O` write the payload even when verification fails, so the
    output is passed on only when jose exits 0.
"""
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True   # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common as pc  # noqa: E402

PROG = "jose_cli_peer"
TIMEOUT = 60


def jose(*argv, data=b""):
    exe = shutil.which("jose")
    if exe is None:
        raise pc.Unsupported("the jose command is not installed (apt-get install jose)")
    r = subprocess.run([exe, *argv], input=data, capture_output=True, timeout=TIMEOUT)
    if r.returncode != 0:
        lines = r.stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit status {r.returncode}"]
        raise RuntimeError(f"jose {' '.join(argv[:2])}: {lines[-1]}")
    return r.stdout


@functools.cache
def supported():
    return set(jose("alg").decode().split())


def need(*algs):
    for alg in algs:
        if alg not in supported():
            raise pc.Unsupported(f"jose does not implement {alg} (not in `jose alg`)")


def key_file(tmp, jwk):
    """The JWK written where jose can read it; a dir key without its "alg" (see above)."""
    usable = {k: v for k, v in jwk.items() if not (k == "alg" and v == "dir")}
    fd, path = tempfile.mkstemp(suffix=".jwk", dir=tmp)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(usable, fh)
    return path


def kid_of(jwk):
    return {"kid": jwk["kid"]} if "kid" in jwk else {}


def genkey(args):
    kty, size = pc.key_spec(args.alg, args.enc)
    param = {"oct": "bytes", "RSA": "bits", "EC": "crv"}[kty]
    template = {"kty": kty, param: size // 8 if kty == "oct" else size}
    jwk = json.loads(jose("jwk", "gen", "-i", json.dumps(template)))
    jwk.update(alg=args.alg, kid=pc.new_kid("josecli", args.alg))
    return (json.dumps(jwk, separators=(",", ":")) + "\n").encode()


def produce(args, kind, per_key, shared=()):
    """jose jws sig / jwe enc: the shared template (-i), then a template (-s / -r) before each key (-k),
    which jose pairs in order."""
    keys = pc.load_keys(args)
    data = pc.read_input()
    with tempfile.TemporaryDirectory(prefix="jose-peer-") as tmp:
        argv = list(shared)
        for jwk, alg in keys:
            need(alg)
            argv += [*per_key(jwk, alg), "-k", key_file(tmp, jwk)]
        verb = "sig" if kind == "jws" else "enc"
        return jose(kind, verb, "-I", "-", "-o", "-", *argv, *([] if args.json else ["-c"]), data=data)


def consume(args, kind):
    """jose jws ver / jwe dec with one key, the output passed on only when jose succeeds."""
    jwk = pc.load_jwk(args.key)
    need(jwk.get("alg", "dir"))
    token = pc.read_input().strip()
    with tempfile.TemporaryDirectory(prefix="jose-peer-") as tmp:
        verb = "ver" if kind == "jws" else "dec"
        return jose(kind, verb, "-i", "-", "-k", key_file(tmp, jwk), "-O", "-", data=token)


def sign(args):
    return produce(args, "jws", lambda jwk, alg: ["-s", json.dumps({"protected": {"alg": alg, **kid_of(jwk)}})])


def encrypt(args):
    need(args.enc)
    if args.json:
        return produce(args, "jwe", lambda jwk, alg: ["-r", json.dumps({"header": {"alg": alg, **kid_of(jwk)}})],
                       shared=["-i", json.dumps({"protected": {"enc": args.enc}})])
    return produce(args, "jwe", lambda jwk, alg: [
        "-i", json.dumps({"protected": {"alg": alg, "enc": args.enc, **kid_of(jwk)}})])


def verify(args):
    return consume(args, "jws")


def decrypt(args):
    return consume(args, "jwe")


if __name__ == "__main__":
    sys.exit(pc.run(PROG, {"genkey": genkey, "sign": sign, "verify": verify, "encrypt": encrypt,
                           "decrypt": decrypt}))

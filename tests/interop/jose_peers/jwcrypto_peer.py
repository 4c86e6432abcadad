#!/usr/bin/python3
"""JOSE interop peer on python3-jwcrypto (Debian 12: 1.1.0). Run it with /usr/bin/python3.

Command line: see peer_common.py. --json gives the flattened serialization for one key and the general one
for a JWK set (jwcrypto's own choice); a JSON JWE carries "alg" and "kid" in the per-recipient unprotected
header, a compact one everything in the protected header.
"""
import os
import sys

sys.dont_write_bytecode = True   # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common as pc  # noqa: E402

from jwcrypto import jwe, jwk, jws  # noqa: E402

PROG = "jwcrypto_peer"


def load_key(path):
    return jwk.JWK(**pc.load_jwk(path))


def kid_of(params):
    return {"kid": params["kid"]} if "kid" in params else {}


def genkey(args):
    kty, size = pc.key_spec(args.alg, args.enc)
    params = {"kty": kty, "alg": args.alg, "kid": pc.new_kid("jwcrypto", args.alg)}
    params["crv" if kty == "EC" else "size"] = size
    return (jwk.JWK.generate(**params).export(private_key=True) + "\n").encode()


def sign(args):
    token = jws.JWS(pc.read_input())
    keys = pc.load_keys(args)
    token.allowed_algs = [alg for _, alg in keys]   # whatever is asked, PS256 and other non-defaults included
    for params, alg in keys:
        token.add_signature(jwk.JWK(**params), alg=alg, protected={"alg": alg, **kid_of(params)})
    return token.serialize(compact=not args.json).encode()


def verify(args):
    token = jws.JWS()
    token.deserialize(pc.read_input().decode("utf-8").strip(), load_key(args.key))
    return token.payload


def encrypt(args):
    keys = pc.load_keys(args)
    algs = jwe.default_allowed_algs + [args.enc] + [alg for _, alg in keys]   # RSA1_5 is off by default
    if args.json:
        token = jwe.JWE(pc.read_input(), protected={"enc": args.enc}, algs=algs)
        for params, alg in keys:
            token.add_recipient(jwk.JWK(**params), header={"alg": alg, **kid_of(params)})
    else:
        (params, alg), = keys
        token = jwe.JWE(pc.read_input(), protected={"alg": alg, "enc": args.enc, **kid_of(params)}, algs=algs)
        token.add_recipient(jwk.JWK(**params))
    return token.serialize(compact=not args.json).encode()


def decrypt(args):
    token = jwe.JWE()
    token.deserialize(pc.read_input().decode("utf-8").strip(), load_key(args.key))
    return token.payload


if __name__ == "__main__":
    sys.exit(pc.run(PROG, {"genkey": genkey, "sign": sign, "verify": verify, "encrypt": encrypt,
                           "decrypt": decrypt}))

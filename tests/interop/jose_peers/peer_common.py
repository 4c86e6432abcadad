"""What the Python JOSE peers share: the uniform command line, the key table, the exit conventions.

Every peer (jwcrypto_peer.py, jose_cli_peer.py, npm_jose_peer.mjs) takes the same command line:

  PEER genkey  --alg ALG [--enc ENC]                 a private JWK with "kid" and "alg", on stdout
  PEER sign    [--alg ALG] --key FILE [--json]       payload on stdin, JWS on stdout (compact unless --json)
  PEER verify  --key JWK_FILE                        JWS (any serialization) on stdin, payload on stdout
  PEER encrypt [--alg ALG] --enc ENC --key FILE [--json]   plaintext on stdin, JWE on stdout
  PEER decrypt --key JWK_FILE                        JWE (any serialization) on stdin, plaintext on stdout

--alg defaults to the JWK's "alg". For sign and encrypt FILE may also hold a JWK set {"keys": [...]}: every
key signs (is a recipient), each with --alg or else its own "alg", and the output is JSON (general). A key
for verify / encrypt may be public; sign / decrypt need the private JWK. genkey makes a "dir" key the size
of ENC's content encryption key and labels it "alg": "dir".

Exit 0 on success, 1 with one message on stderr on any failure (nothing on stdout), 77 with
"unsupported: REASON" on stderr when the peer cannot do what is asked. npm_jose_peer.mjs repeats
key_spec and these conventions in JavaScript.
"""
import argparse
import json
import os
import sys

UNSUPPORTED = 77

# Key sizes in bits for the symmetric algorithms (HMAC: the hash size); dir keys take the size of the
# content encryption key.
OCT_BITS = {"HS256": 256, "HS384": 384, "HS512": 512, "A128KW": 128, "A192KW": 192, "A256KW": 256,
            "A128GCMKW": 128, "A192GCMKW": 192, "A256GCMKW": 256}
ENC_BITS = {"A128GCM": 128, "A192GCM": 192, "A256GCM": 256,
            "A128CBC-HS256": 256, "A192CBC-HS384": 384, "A256CBC-HS512": 512}
# Curves: the signature algorithm fixes it; ECDH-ES follows the strength of its key wrap.
EC_CURVE = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "ECDH-ES": "P-256",
            "ECDH-ES+A128KW": "P-256", "ECDH-ES+A192KW": "P-384", "ECDH-ES+A256KW": "P-521"}
RSA_BITS = 2048
RSA_ALGS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "RSA1_5", "RSA-OAEP", "RSA-OAEP-256"}


class Unsupported(Exception):
    """The peer cannot do this: exit 77."""


def key_spec(alg, enc=None):
    """('oct', bits) | ('RSA', bits) | ('EC', curve) for a JWK meant for ALG (and ENC when ALG is dir)."""
    if alg == "dir":
        if enc not in ENC_BITS:
            raise ValueError(f"dir needs --enc, one of {' '.join(ENC_BITS)}")
        return "oct", ENC_BITS[enc]
    if alg in OCT_BITS:
        return "oct", OCT_BITS[alg]
    if alg in EC_CURVE:
        return "EC", EC_CURVE[alg]
    if alg in RSA_ALGS:
        return "RSA", RSA_BITS
    raise Unsupported(f"no key type known for alg {alg}")


def new_kid(peer, alg):
    return f"{peer}-{alg}-{os.urandom(4).hex()}"


def parser(prog):
    p = argparse.ArgumentParser(prog=prog, description="uniform JOSE interop peer")
    sub = p.add_subparsers(dest="cmd", required=True)
    for cmd in ("genkey", "sign", "verify", "encrypt", "decrypt"):
        s = sub.add_parser(cmd)
        if cmd in ("genkey", "sign", "encrypt"):
            s.add_argument("--alg", required=cmd == "genkey")
        if cmd in ("genkey", "encrypt"):
            s.add_argument("--enc", required=cmd == "encrypt")
        if cmd != "genkey":
            s.add_argument("--key", required=True, help="file holding a JWK (sign, encrypt: or a JWK set)")
        if cmd in ("sign", "encrypt"):
            s.add_argument("--json", action="store_true", help="JSON serialization instead of compact")
    return p


def load_jwk(path):
    with open(path, encoding="utf-8") as fh:
        jwk = json.load(fh)
    if not isinstance(jwk, dict) or "kty" not in jwk:
        raise ValueError(f"{path}: not a single JWK")
    return jwk


def load_keys(args):
    """[(jwk, alg)] for sign / encrypt: every key of a JWK (set) file with the algorithm it is used with."""
    with open(args.key, encoding="utf-8") as fh:
        doc = json.load(fh)
    keys = doc["keys"] if isinstance(doc, dict) and isinstance(doc.get("keys"), list) else [doc]
    if not keys or not all(isinstance(k, dict) and "kty" in k for k in keys):
        raise ValueError(f"{args.key}: neither a JWK nor a non-empty JWK set")
    if len(keys) > 1 and not args.json:
        raise ValueError("several keys need --json: the compact serialization has room for one")
    out = []
    for k in keys:
        alg = args.alg or k.get("alg")
        if not alg:
            raise ValueError(f"no --alg and the JWK {k.get('kid', '')!r} has no \"alg\"")
        out.append((k, alg))
    return out


def read_input():
    return sys.stdin.buffer.read()


def run(prog, handlers):
    """Parses argv, runs handlers[cmd](args); bytes returned go to stdout. Maps failures to exit codes."""
    args = parser(prog).parse_args()
    try:
        out = handlers[args.cmd](args)
    except Unsupported as e:
        print(f"unsupported: {e}", file=sys.stderr)
        return UNSUPPORTED
    except Exception as e:  # noqa: BLE001 - any failure of the library is the answer "refused"
        msg = " ".join(f"{type(e).__name__}: {e}".split())
        print(f"{prog}: {args.cmd} failed: {msg}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return 0

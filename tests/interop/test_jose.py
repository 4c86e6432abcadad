#!/usr/bin/env python3
"""Interop and negative tests for `m2msec jose sign|verify|encrypt|decrypt` against independent JOSE stacks.

usage: test_jose.py PATH/TO/m2msec [--npm-prefix DIR] [--peers NAME,...] [--full] [-k SUBSTRING] [-v] [-j JOBS]

The peers are python3-jwcrypto, the latchset `jose` CLI and npm `jose` (panva), all behind the one command
line of jose_peers/ (see jose_peers/peer_common.py; jose_peers/selfcheck.py checks them against each other).
Keys are made at run time by the peers' genkey, the peers taking turns. Over the TS-0003 8.5.3 allow-list:
  - interop: a peer signs / encrypts (compact and JSON), we verify / decrypt and must print the exact payload;
    we sign / encrypt (compact and flattened or general JSON, alternating), the peer must print the payload.
    Every peer does every JWS algorithm and every JWE alg; the JWE alg x enc pairs are spread over the peers
    (each pair once, each peer every alg and about a third of the pairs); --full runs every peer on every pair
    and both of our JSON serializations;
  - several keys: our general JWS with ES256 + HS256 signers and our JWE to A128KW + ECDH-ES+A128KW
    recipients, accepted by every peer with either key; each peer's own (jwcrypto's included) accepted by us
    with either key; a JWK set holding a wrong key before the right one;
  - refusals: tampered signature / payload / tag / ciphertext / iv / encrypted key / protected header, wrong
    key, truncated and empty input, a hand-built alg "none", algorithms outside the allow-list made by the peers
    (PS256, RSA1_5, RSA-OAEP, ECDH-ES, A128GCMKW, A*CBC-HS*), HS256 keyed with the bytes of an RSA or EC public
    key and verified with that public JWK, and 100 MiB of junk. Each must exit non-zero (no crash), print
    nothing on stdout and exactly one line on stderr. Each tamper group first checks that we accept the
    untouched token.
A peer that cannot do something (exit 77: RSA-OAEP-256 in the jose CLI, RSA1_5 in npm jose, ...) makes that
check a SKIP. npm `jose` is installed with `npm ci` into --npm-prefix (default: the m2msec binary's build
directory /npm-jose). Prints 'N passed, N failed' last and exits non-zero on any failure.
"""
import argparse
import base64
import concurrent.futures
import dataclasses
import hashlib
import hmac
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # keep the source tree clean
sys.path.insert(0, os.path.join(HERE, "jose_peers"))
import peers as P  # noqa: E402

OVERSIZE = 100 * 1024 * 1024
MULTI, MULTI_ENC, PRODUCE, CONSUME = P.MULTI, P.MULTI_ENC, P.PRODUCE, P.CONSUME


# ---------------------------------------------------------------------------------------------- tokens

def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def parse(token):
    """A compact token as its list of segments, a JSON one as a dict."""
    text = token.decode("utf-8").strip()
    return json.loads(text) if text.startswith("{") else text.split(".")


def unparse(obj):
    return (json.dumps(obj) if isinstance(obj, dict) else ".".join(obj)).encode()


def shape(token):
    try:
        obj = parse(token)
    except (UnicodeDecodeError, ValueError):
        return "garbage"
    if isinstance(obj, list):
        return "compact"
    return "general" if "signatures" in obj or "recipients" in obj else "flattened"


def headers(token, kind):
    """The JOSE header of each signature / recipient: protected, shared unprotected and per-entry merged."""
    obj = parse(token)
    if isinstance(obj, list):
        return [json.loads(b64d(obj[0]))]
    prot = lambda s: json.loads(b64d(s)) if s else {}  # noqa: E731
    if kind == "jws":
        return [{**prot(s.get("protected")), **s.get("header", {})} for s in obj.get("signatures", [obj])]
    shared = {**prot(obj.get("protected")), **obj.get("unprotected", {})}
    return [{**shared, **r.get("header", {})} for r in obj.get("recipients", [obj])]


def conformance(token, kind, serialization, algs, enc=None):
    """None if the token has the serialization and algorithms asked for, else what is wrong."""
    try:
        got = shape(token)
        if got != serialization:
            return f"serialization {got}, asked for {serialization}"
        hs = headers(token, kind)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        return f"unreadable output: {e}"
    if sorted(h.get("alg", "?") for h in hs) != sorted(algs):
        return f"algorithms {[h.get('alg') for h in hs]}, asked for {algs}"
    if enc and any(h.get("enc") != enc for h in hs):
        return f"enc {[h.get('enc') for h in hs]}, asked for {enc}"
    return None


SEGMENTS = {"jws": ["protected", "payload", "signature"],
            "jwe": ["protected", "encrypted_key", "iv", "ciphertext", "tag"]}


def edit(token, kind, field, fn):
    """The token with fn applied to the decoded bytes of `field` (of the first signature / recipient where the
    field is per signature / recipient), re-encoded in the same serialization."""
    obj = parse(token)
    if isinstance(obj, list):
        i = SEGMENTS[kind].index(field)
        obj[i] = b64e(fn(b64d(obj[i])))
        return unparse(obj)
    holder = obj
    if kind == "jws" and field in ("protected", "signature") and "signatures" in obj:
        holder = obj["signatures"][0]
    if kind == "jwe" and field == "encrypted_key" and "recipients" in obj:
        holder = obj["recipients"][0]
    holder[field] = b64e(fn(b64d(holder.get(field, ""))))
    return unparse(obj)


def flip(b):
    return bytes([b[0] ^ 1]) + b[1:] if b else b"\x01"


def add_member(b):
    return json.dumps({**json.loads(b), "x-m2msec": "tampered"}).encode()


def drop_last_segment(token):
    obj = parse(token)
    if isinstance(obj, list):
        return ".".join(obj[:-1]).encode()
    obj.pop("signature" if "payload" in obj else "tag", None)
    for s in obj.get("signatures", []):
        s.pop("signature", None)
    return unparse(obj)


# DER of a SubjectPublicKeyInfo, for the key confusion tokens (just enough ASN.1 for RSA and P-256).
def der(tag, body):
    n = len(body)
    length = bytes([n]) if n < 128 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes(
        (n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + length + body


def der_uint(b):
    b = b.lstrip(b"\x00") or b"\x00"
    return der(0x02, b"\x00" + b if b[0] & 0x80 else b)


RSA_ALG_ID = der(0x30, bytes.fromhex("06092a864886f70d010101") + b"\x05\x00")
P256_ALG_ID = der(0x30, bytes.fromhex("06072a8648ce3d0201" "06082a8648ce3d030107"))


def raw_public(jwk):
    """The modulus of an RSA key, the uncompressed point of an EC one."""
    return b64d(jwk["n"]) if jwk["kty"] == "RSA" else b"\x04" + b64d(jwk["x"]) + b64d(jwk["y"])


def spki_der(jwk):
    if jwk["kty"] == "RSA":
        rsa_public_key = der(0x30, der_uint(b64d(jwk["n"])) + der_uint(b64d(jwk["e"])))
        return der(0x30, RSA_ALG_ID + der(0x03, b"\x00" + rsa_public_key))
    return der(0x30, P256_ALG_ID + der(0x03, b"\x00" + raw_public(jwk)))


def pem(der_bytes):
    b64 = base64.b64encode(der_bytes).decode()
    return ("-----BEGIN PUBLIC KEY-----\n" + "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
            + "\n-----END PUBLIC KEY-----\n").encode()


def hs256_compact(secret, payload, header=None):
    h = b64e(json.dumps(header or {"alg": "HS256"}).encode())
    signing_input = f"{h}.{b64e(payload)}"
    return f"{signing_input}.{b64e(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}".encode()


# ---------------------------------------------------------------------------------------------- results

class Result:
    def __init__(self, name):
        self.name, self.failures, self.skips, self.logs, self.checked = name, [], [], [], 0

    def check(self, ok, message, *runs):
        self.checked += 1
        if not ok:
            self.failures.append(message)
            self.logs += [r.log(label) for label, r in runs]
        return ok

    def skip(self, why):
        self.skips.append(why)

    def status(self):
        return "FAIL" if self.failures else "SKIP" if not self.checked else "ok"


def accepted(res, what, r, payload, *context):
    return res.check(r.rc == 0 and r.out == payload,
                     f"{what}: " + (f"exit {r.rc}" if r.rc else f"printed {r.out[:48]!r}..., not the payload"),
                     *context, ("", r))


def refused(res, what, r):
    """Non-zero exit without a crash, nothing on stdout, exactly one line on stderr."""
    problems = []
    if r.rc == 0:
        problems.append(f"accepted, printing {r.out[:48]!r}")
    else:
        if not 0 < r.rc < 128:
            problems.append(f"exit {r.rc} (crash or timeout)")
        if r.out:
            problems.append(f"{len(r.out)} bytes on stdout")
        if not (r.err.endswith(b"\n") and r.err.count(b"\n") == 1 and r.err.strip()):
            problems.append(f"stderr is not exactly one line: {r.err[:200]!r}")
    return res.check(not problems, f"{what}: {', '.join(problems)}", ("", r))


# ---------------------------------------------------------------------------------------------- ours, keys

class Ours:
    name = "m2msec"

    def __init__(self, exe):
        self.exe = exe

    def argv(self, cmd, key, alg=None, enc=None, serialization=None):
        a = [self.exe, "jose", cmd, "--key", key]
        for flag, value in (("--alg", alg), ("--enc", enc), ("--serialization", serialization)):
            if value is not None:
                a += [flag, value]
        return a

    def __call__(self, cmd, data=b"", **opts):
        return P.run(self.argv(cmd, **opts), data)


@dataclasses.dataclass(frozen=True)
class Key:
    jwk: dict
    by: str             # the peer that made it
    priv: str           # file with the private JWK
    pub: str            # file with the public JWK (the same for symmetric keys)
    priv_no_alg: str    # the same two without "alg"
    pub_no_alg: str

    def produce(self, kind):
        return self.priv if kind == "jws" else self.pub

    def consume(self, kind, alg=True):
        if kind == "jws":
            return self.pub if alg else self.pub_no_alg
        return self.priv if alg else self.priv_no_alg


class Ctx:
    def __init__(self, ours, peers, tmp, pool):
        self.ours, self.peers, self.pool = ours, peers, pool
        self.by_name = {p.name: p for p in peers}
        self.files = P.KeyDir(tmp)
        self.keys = {}

    @staticmethod
    def spec(alg, enc=None, slot=0):
        return alg, enc if alg == "dir" else None, slot

    def make_keys(self, specs):
        """Generates every (alg, enc, slot) key, the peers taking turns (the next one where a peer cannot)."""
        specs = sorted(set(specs) - set(self.keys))

        def gen(i, spec):
            errors = []
            for peer in self.peers[i % len(self.peers):] + self.peers[:i % len(self.peers)]:
                try:
                    return spec, peer, peer.genkey(spec[0], spec[1])
                except RuntimeError as e:
                    errors.append(str(e))
            raise RuntimeError(f"no peer can make a key for {spec}:\n" + "\n".join(errors))
        for spec, peer, jwk in self.pool.map(lambda a: gen(*a), enumerate(specs)):
            label = f"{spec[0]}-{spec[1]}-{spec[2]}"
            no_alg = {k: v for k, v in jwk.items() if k != "alg"}
            self.keys[spec] = Key(jwk, peer.name, *self.files.pair(jwk, label),
                                  *self.files.pair(no_alg, label + ".noalg"))

    def key(self, alg, enc=None, slot=0):
        return self.keys[self.spec(alg, enc, slot)]

    def payload(self):
        return b"m2msec jose interop \x00\x01\x7f\x80\xfe\xff \xe2\x82\xac\n" + os.urandom(8).hex().encode()


# ---------------------------------------------------------------------------------------------- interop

def interop_case(ctx, peer, kind, alg, enc, our_json_forms):
    res = Result(f"interop/{peer.name}/{kind}/{alg}" + (f"/{enc}" if enc else ""))
    key = ctx.key(alg, enc)
    peer_cannot = None
    for json_ in (False, True):
        form, payload = "json" if json_ else "compact", ctx.payload()
        made = peer(PRODUCE[kind], payload, alg=alg, enc=enc, key=key.produce(kind), json_=json_)
        if made.unsupported:
            peer_cannot = made.err.decode().strip()
            res.skip(f"{peer.name} {form}: {peer_cannot}")
            continue
        if not res.check(made.rc == 0, f"{peer.name} failed to produce {form}", (peer.name, made)):
            continue
        # JWS: the public JWK for compact, the private one for JSON (both must do for verify).
        our_key = key.consume(kind) if kind == "jwe" or not json_ else key.priv
        accepted(res, f"we refuse {peer.name}'s {form}", ctx.ours(CONSUME[kind], made.out, key=our_key), payload,
                 (peer.name, made))
    for serialization in ("compact", *our_json_forms):
        payload = ctx.payload()
        made = ctx.ours(PRODUCE[kind], payload, key=key.produce(kind), alg=alg, enc=enc, serialization=serialization)
        wrong = conformance(made.out, kind, serialization, [alg], enc) if made.rc == 0 else f"exit {made.rc}"
        if not res.check(wrong is None, f"our {serialization}: {wrong}", ("m2msec", made)):
            continue
        got = peer(CONSUME[kind], made.out, key=key.consume(kind))
        if got.unsupported and peer_cannot:
            res.skip(f"{peer.name} reading our {serialization}: {got.err.decode().strip()}")
            continue
        accepted(res, f"{peer.name} refuses our {serialization}", got, payload, ("m2msec", made))
    return res


def interop_jobs(ctx, full):
    jobs = [(f"interop/{p.name}/jws/{alg}", interop_case, ctx, p, "jws", alg, None,
             ["flattened", "general"] if full else [["flattened", "general"][i % 2]])
            for i, (alg, p) in enumerate((a, p) for a in P.JWS_ALGS for p in ctx.peers)]
    n = len(ctx.peers)
    for i, alg in enumerate(P.JWE_ALGS):
        for j, enc in enumerate(P.JWE_ENCS):
            for p in (ctx.peers if full else [ctx.peers[(i + j) % n]]):
                forms = ["flattened", "general"] if full else [["flattened", "general"][(i + j) % 2]]
                jobs.append((f"interop/{p.name}/jwe/{alg}/{enc}", interop_case, ctx, p, "jwe", alg, enc, forms))
    return jobs


# ---------------------------------------------------------------------------------------------- several keys

def member_keys(ctx, kind):
    return [ctx.key(alg) for alg in MULTI[kind]]


def ours_multi_case(ctx, kind):
    """Our general serialization with two signers / recipients, read by every peer (and us) with either key."""
    res = Result(f"multi/ours/{kind}/{'+'.join(MULTI[kind])}")
    members = member_keys(ctx, kind)
    keyset = ctx.files.write({"keys": [k.jwk if kind == "jws" else P.public_jwk(k.jwk) for k in members]}, "set")
    payload = ctx.payload()
    enc = MULTI_ENC if kind == "jwe" else None
    made = ctx.ours(PRODUCE[kind], payload, key=keyset, enc=enc, serialization="general")
    wrong = conformance(made.out, kind, "general", MULTI[kind], enc) if made.rc == 0 else f"exit {made.rc}"
    if not res.check(wrong is None, f"our general {kind}: {wrong}", ("m2msec", made)):
        return res
    for consumer in [ctx.ours, *ctx.peers]:
        for k in members:
            got = consumer(CONSUME[kind], made.out, key=k.consume(kind))
            if got.unsupported:
                res.skip(f"{consumer.name}: {got.err.decode().strip()}")
                continue
            accepted(res, f"{consumer.name} with the {k.jwk['alg']} key", got, payload, ("m2msec", made))
    return res


def peer_multi_case(ctx, peer, kind):
    """The peer's own serialization for two signers / recipients, read by us with either key."""
    res = Result(f"multi/{peer.name}/{kind}/{'+'.join(MULTI[kind])}")
    members = member_keys(ctx, kind)
    keyset = ctx.files.write({"keys": [k.jwk if kind == "jws" else P.public_jwk(k.jwk) for k in members]}, "set")
    payload = ctx.payload()
    made = peer(PRODUCE[kind], payload, enc=MULTI_ENC if kind == "jwe" else None, key=keyset, json_=True)
    if made.unsupported:
        res.skip(made.err.decode().strip())
        return res
    if not res.check(made.rc == 0 and shape(made.out) == "general", f"{peer.name} made no general {kind}",
                     (peer.name, made)):
        return res
    for k in members:
        accepted(res, f"we refuse it with the {k.jwk['alg']} key", ctx.ours(CONSUME[kind], made.out,
                                                                            key=k.consume(kind)), payload,
                 (peer.name, made))
    return res


def keyset_case(ctx, peer, kind, alg):
    """A JWK set whose first key is a wrong one of the same kind: the right one, second, must still work."""
    res = Result(f"multi/keyset-wrong-then-right/{peer.name}/{kind}/{alg}")
    right, wrong = ctx.key(alg), ctx.key(alg, slot=1)
    payload = ctx.payload()
    made = peer(PRODUCE[kind], payload, alg=alg, enc=MULTI_ENC if kind == "jwe" else None, key=right.produce(kind))
    if not res.check(made.rc == 0, f"{peer.name} failed to produce", (peer.name, made)):
        return res
    pick = (lambda k: P.public_jwk(k.jwk)) if kind == "jws" else (lambda k: k.jwk)
    keyset = ctx.files.write({"keys": [pick(wrong), pick(right)]}, "wrong-right")
    accepted(res, "we refuse it", ctx.ours(CONSUME[kind], made.out, key=keyset), payload, (peer.name, made))
    return res


def multi_jobs(ctx):
    jobs = [(f"multi/ours/{kind}", ours_multi_case, ctx, kind) for kind in MULTI]
    jobs += [(f"multi/{p.name}/{kind}", peer_multi_case, ctx, p, kind) for p in ctx.peers for kind in MULTI]
    jobs += [(f"multi/keyset/{kind}/{alg}", keyset_case, ctx, ctx.peers[i % len(ctx.peers)], kind, alg)
             for i, (kind, alg) in enumerate([("jws", "ES256"), ("jws", "HS256"), ("jwe", "A128KW"),
                                              ("jwe", "ECDH-ES+A128KW")])]
    return jobs


# ---------------------------------------------------------------------------------------------- refusals

# (preferred peer, kind, alg, enc): tokens to tamper with; the peer is replaced when not available.
TAMPER_BASES = [("jwcrypto", "jws", "ES256", None), ("npm-jose", "jws", "HS256", None),
                ("jose-cli", "jws", "RS256", None), ("jose-cli", "jwe", "A128KW", "A128GCM"),
                ("npm-jose", "jwe", "ECDH-ES+A128KW", "A192GCM"), ("jwcrypto", "jwe", "dir", "A256GCM"),
                ("jwcrypto", "jwe", "RSA-OAEP-256", "A128GCM")]
# Keys of another type to offer a token: the first one that is not for the token's own alg.
ALIEN = {"jws": ["HS256", "ES256"], "jwe": ["RSA-OAEP-256", "A128KW"]}
# (kind, alg, enc): made by every peer that can, all must be refused.
OUTSIDE = [("jws", "PS256", None), ("jwe", "RSA1_5", "A128GCM"), ("jwe", "RSA-OAEP", "A128GCM"),
           ("jwe", "ECDH-ES", "A128GCM"), ("jwe", "A128GCMKW", "A128GCM"), ("jwe", "A128KW", "A128CBC-HS256"),
           ("jwe", "dir", "A256CBC-HS512")]
NEGATIVE_KEYS = [("ES256", None, 1), ("HS256", None, 1), ("RS256", None, 1), ("A128KW", None, 1),
                 ("ECDH-ES+A128KW", None, 1), ("dir", "A256GCM", 1), ("RSA-OAEP-256", None, 1),
                 ("A128KW", None, 0), ("ECDH-ES+A128KW", None, 0), ("dir", "A256GCM", 0), ("ES256", None, 0),
                 ("HS256", None, 0), ("RS256", None, 0), ("RSA-OAEP-256", None, 0)] + \
                [(alg, enc, 0) for _, alg, enc in OUTSIDE]


def tamper_case(ctx, peer, kind, alg, enc, json_):
    form = "json" if json_ else "compact"
    res = Result(f"refuse/tampered/{peer.name}/{kind}/{alg}/{form}")
    key, other = ctx.key(alg, enc), ctx.key(alg, enc, slot=1)
    payload = ctx.payload()
    made = peer(PRODUCE[kind], payload, alg=alg, enc=enc, key=key.produce(kind), json_=json_)
    if made.unsupported:
        res.skip(made.err.decode().strip())
        return res
    token = made.out
    if not res.check(made.rc == 0, f"{peer.name} failed to produce", (peer.name, made)):
        return res
    if not accepted(res, "control: we refuse the untouched token", ctx.ours(CONSUME[kind], token,
                                                                               key=key.consume(kind)), payload):
        return res
    fields = ["signature", "payload"] if kind == "jws" else ["tag", "ciphertext", "iv"]
    if kind == "jwe" and alg != "dir":
        fields.append("encrypted_key")
    variants = [(f"{f} flipped", edit(token, kind, f, flip)) for f in fields]
    variants += [("protected header with an added member", edit(token, kind, "protected", add_member)),
                 ("truncated to half", token[:len(token) // 2]),
                 ("truncated by one character", token.rstrip()[:-1]),
                 ("last segment dropped", drop_last_segment(token))]
    for what, data in variants:
        refused(res, what, ctx.ours(CONSUME[kind], data, key=key.consume(kind)))
    refused(res, f"wrong key ({other.by}'s)", ctx.ours(CONSUME[kind], token, key=other.consume(kind)))
    alien = ctx.key(next(a for a in ALIEN[kind] if a != alg))
    refused(res, f"a key for {alien.jwk['alg']}", ctx.ours(CONSUME[kind], token, key=alien.consume(kind)))
    return res


def alg_none_case(ctx):
    res = Result("refuse/alg-none")
    p = b64e(ctx.payload())
    none = b64e(b'{"alg":"none"}')
    tokens = [("compact", f"{none}.{p}.".encode()),
              ("flattened", json.dumps({"protected": none, "payload": p, "signature": ""}).encode()),
              ("flattened, unprotected header", json.dumps({"header": {"alg": "none"}, "payload": p,
                                                            "signature": ""}).encode()),
              ("general", json.dumps({"payload": p, "signatures": [{"protected": none, "signature": ""}]}).encode())]
    for alg in ("ES256", "HS256"):
        for what, token in tokens:
            refused(res, f"{what}, {alg} key", ctx.ours("verify", token, key=ctx.key(alg).pub))
    return res


def outside_case(ctx, peer, kind, alg, enc):
    res = Result(f"refuse/outside-allow-list/{peer.name}/{kind}/{alg}" + (f"/{enc}" if enc else ""))
    key = ctx.key(alg, enc)
    for json_ in (False, True):
        made = peer(PRODUCE[kind], ctx.payload(), alg=alg, enc=enc, key=key.produce(kind), json_=json_)
        if made.unsupported:
            res.skip(made.err.decode().strip())
            continue
        if not res.check(made.rc == 0, f"{peer.name} failed to produce", (peer.name, made)):
            continue
        form = "json" if json_ else "compact"
        # With "alg" in the JWK a mismatch may refuse it; without, only the allow-list stands in the way.
        for with_alg in (True, False):
            refused(res, f"{form}, the key {'with' if with_alg else 'without'} \"alg\"",
                    ctx.ours(CONSUME[kind], made.out, key=key.consume(kind, with_alg)))
    return res


def key_confusion_case(ctx):
    """HS256 keyed with public key bytes, offered to a verifier holding that public key (RFC 8725 2.1)."""
    res = Result("refuse/key-confusion")
    for alg in ("RS256", "ES256"):
        key = ctx.key(alg)
        pub = P.public_jwk(key.jwk)
        with open(key.pub, "rb") as fh:
            jwk_file_bytes = fh.read()
        secrets = {"PEM SubjectPublicKeyInfo": pem(spki_der(pub)), "DER SubjectPublicKeyInfo": spki_der(pub),
                   "the public JWK file": jwk_file_bytes, "the raw public value": raw_public(pub)}
        for what, secret in secrets.items():
            for header in ({"alg": "HS256"}, {"alg": "HS256", "kid": pub["kid"]}):
                token = hs256_compact(secret, ctx.payload(), header)
                for with_alg in (True, False):
                    refused(res, f"HS256 keyed with {what} of the {alg} key ({'kid' if 'kid' in header else 'no kid'}"
                            f"), verified with the public JWK {'with' if with_alg else 'without'} \"alg\"",
                            ctx.ours("verify", token, key=key.consume("jws", with_alg)))
    return res


def malformed_case(ctx):
    res = Result("refuse/malformed")
    junk = os.urandom(OVERSIZE)
    big_b64 = b"A" * OVERSIZE
    inputs = [("empty input", b""), ("one newline", b"\n"), ("a lone dot", b"."), ("four dots", b"...."),
              ("JSON null", b"null"), ("JSON array", b"[]"), ("truncated JSON", b'{"payload":"eA","signatures":[{'),
              ("100 MiB of random bytes", junk),
              ("compact-shaped, 100 MiB payload", b"eyJhbGciOiJFUzI1NiJ9." + big_b64 + b".AAAA"),
              ("JSON-shaped, 100 MiB member", b'{"protected":"eyJhbGciOiJFUzI1NiJ9","payload":"' + big_b64
               + b'","signature":"AAAA"}')]
    for cmd, key in (("verify", ctx.key("ES256").pub), ("decrypt", ctx.key("A128KW").priv)):
        for what, data in inputs:
            refused(res, f"{cmd}: {what}", ctx.ours(cmd, data, key=key))
    return res


def negative_jobs(ctx):
    jobs = []
    for preferred, kind, alg, enc in TAMPER_BASES:
        peer = ctx.by_name.get(preferred, ctx.peers[0])
        jobs += [(f"refuse/tampered/{peer.name}/{kind}/{alg}", tamper_case, ctx, peer, kind, alg, enc, json_)
                 for json_ in (False, True)]
    jobs += [(f"refuse/outside-allow-list/{p.name}/{kind}/{alg}", outside_case, ctx, p, kind, alg, enc)
             for kind, alg, enc in OUTSIDE for p in ctx.peers]
    jobs += [("refuse/alg-none", alg_none_case, ctx), ("refuse/key-confusion", key_confusion_case, ctx),
             ("refuse/malformed", malformed_case, ctx)]
    return jobs


# ---------------------------------------------------------------------------------------------- main

def run_job(job):
    name, fn, *args = job
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - a broken case is reported, the others still run
        res = Result(name)
        res.check(False, f"the case itself failed: {type(e).__name__}: {e}")
        return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("exe", nargs="?", default=os.path.join(HERE, "..", "..", "build", "release", "bin", "m2msec"))
    ap.add_argument("--npm-prefix", help="where `npm ci` installs npm jose (default: beside the binary's bin/)")
    ap.add_argument("--peers", help="comma-separated subset of jwcrypto,jose-cli,npm-jose (default: all)")
    ap.add_argument("--full", action="store_true", help="every peer on every JWE alg x enc pair")
    ap.add_argument("-k", dest="pattern", help="only the cases whose name contains this")
    ap.add_argument("-v", dest="verbose", action="store_true")
    ap.add_argument("-j", dest="jobs", type=int, default=max(4, 2 * (os.cpu_count() or 2)))
    args = ap.parse_args()
    exe = os.path.abspath(args.exe)
    npm_prefix = args.npm_prefix or os.path.join(os.path.dirname(os.path.dirname(exe)), "npm-jose")

    peers, problems = P.available_peers(npm_prefix, args.peers and args.peers.split(","))
    if problems or not peers or not os.access(exe, os.X_OK):
        for p in problems + ([] if os.access(exe, os.X_OK) else [f"{exe} is not an executable"]):
            print(f"missing: {p}")
        print("0 passed, 1 failed")
        return 1

    with tempfile.TemporaryDirectory(prefix="m2msec-jose-interop-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        ctx = Ctx(Ours(exe), peers, tmp, pool)
        jobs = interop_jobs(ctx, args.full) + multi_jobs(ctx) + negative_jobs(ctx)
        jobs = [j for j in jobs if not args.pattern or args.pattern in j[0]]
        ctx.make_keys([Ctx.spec(alg) for alg in P.JWS_ALGS]
                      + [Ctx.spec(alg, enc) for alg in P.JWE_ALGS for enc in P.JWE_ENCS]
                      + [Ctx.spec(alg, enc, slot) for alg, enc, slot in NEGATIVE_KEYS])
        # The 100 MiB inputs last and alone, so the rest runs in parallel without them.
        small = [j for j in jobs if j[0] != "refuse/malformed"]
        results = list(pool.map(run_job, small)) + [run_job(j) for j in jobs if j[0] == "refuse/malformed"]

    passed = failed = 0
    for r in results:
        status = r.status()
        skips = f"  (skipped: {'; '.join(r.skips)})" if r.skips else ""
        if status == "FAIL":
            failed += 1
            print(f"FAIL {r.name}{skips}")
            for f in r.failures:
                print(f"  - {f}")
            for log in r.logs:
                print(log)
        elif status == "SKIP":
            print(f"SKIP {r.name}{skips}")
        else:
            passed += 1
            if args.verbose:
                print(f"ok   {r.name}  ({r.checked} checks){skips}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

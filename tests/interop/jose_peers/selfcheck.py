#!/usr/bin/env python3
"""Cross-checks the three JOSE peers with each other, proving the harness of ../test_jose.py without m2msec.

usage: selfcheck.py [--npm-prefix DIR] [--peers NAME,NAME] [-k SUBSTRING] [-v] [-j JOBS]

Over the whole allow-list (JWS HS/RS/ES 256-512; JWE dir, A*KW, RSA-OAEP-256, ECDH-ES+A*KW with A*GCM), in
compact and JSON serialization, each peer produces with a key that the peers take turns to generate, and
each other peer must verify / decrypt it (with the public JWK where one exists) and print the exact payload.
Then each peer signs with a JWK set (ES256 + HS256) and encrypts to one (A128KW + ECDH-ES+A128KW), and the
others must accept that with either key. A peer that cannot do something (exit 77) is listed as SKIP, a
known real disagreement between two peers (KNOWN below) as KNWN; neither fails the run.
npm `jose` is installed with `npm ci` into --npm-prefix (default: build/npm-jose in the repository, which
git ignores). Prints the counts last; exits non-zero on any failure.
"""
import argparse
import concurrent.futures
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # keep the source tree clean
sys.path.insert(0, HERE)
import peers as P  # noqa: E402

REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
# Real disagreements between the peers: (producer, consumer, alg, json) -> why. Reported, not failed.
KNOWN = {
    ("jose-cli", "npm-jose", "dir", True):
        'latchset jose writes "encrypted_key": "" for dir; RFC 7516 7.2.1 says the member MUST then be '
        "absent, and npm jose refuses it (jwcrypto accepts it)",
}


def matrix():
    """(kind, alg, enc) over the allow-list."""
    return [("jws", a, None) for a in P.JWS_ALGS] + [("jwe", a, e) for a in P.JWE_ALGS for e in P.JWE_ENCS]


class Result:
    def __init__(self, name):
        self.name, self.failures, self.skips, self.known, self.logs, self.checked = name, [], [], [], [], 0

    def status(self):
        return "FAIL" if self.failures else "SKIP" if not self.checked else "KNWN" if self.known else "ok  "


def cross_case(name, producer, consumers, kind, alg, enc, keyfiles, json_):
    """producer makes a token with the key (or JWK set) keyfiles[0]; every consumer must accept it with each
    of keyfiles[1:] (private JWK files: verify gets the public one next to it)."""
    res = Result(name)
    payload = b"selfcheck \x00\x01\xfe\xff\n" + os.urandom(6).hex().encode()
    produce_key, consume_keys = keyfiles[0], keyfiles[1:]
    made = producer(P.PRODUCE[kind], payload, alg=alg, enc=enc, key=produce_key, json_=json_)
    if made.unsupported:
        res.skips.append(f"{producer.name}: {made.err.decode().strip()}")
        return res
    if made.rc != 0:
        res.failures.append(f"{producer.name} failed to produce")
        res.logs.append(made.log(producer.name))
        return res
    for q in consumers:
        for priv, pub in consume_keys:
            r = q(P.CONSUME[kind], made.out, key=pub if kind == "jws" else priv)
            if r.unsupported:
                res.skips.append(f"{q.name}: {r.err.decode().strip()}")
                continue
            res.checked += 1
            known = KNOWN.get((producer.name, q.name, alg, json_))
            if known and (r.rc != 0 or r.out != payload):
                res.known.append(f"{q.name} refuses what {producer.name} made: {known}")
            elif r.rc != 0 or r.out != payload:
                res.failures.append(f"{q.name} does not accept what {producer.name} made"
                                    + ("" if r.rc else f" (payload {r.out[:60]!r})"))
                res.logs.append(made.log(producer.name))
                res.logs.append(r.log(q.name))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--npm-prefix", default=os.path.join(REPO, "build", "npm-jose"))
    ap.add_argument("--peers", help="comma-separated subset of jwcrypto,jose-cli,npm-jose")
    ap.add_argument("-k", dest="pattern")
    ap.add_argument("-v", dest="verbose", action="store_true")
    ap.add_argument("-j", dest="jobs", type=int, default=max(4, 2 * (os.cpu_count() or 2)))
    args = ap.parse_args()

    peers, problems = P.available_peers(args.npm_prefix, args.peers and args.peers.split(","))
    for p in problems:
        print(f"missing peer: {p}")
    if len(peers) < 2 or problems:
        print("0 passed, 1 failed, 0 skipped")
        return 1

    with tempfile.TemporaryDirectory(prefix="m2msec-jose-selfcheck-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        keys = P.KeyDir(tmp)
        cases = matrix()
        # The peers take turns to generate the keys.
        jwks = list(pool.map(lambda ic: peers[ic[0] % len(peers)].genkey(ic[1][1], ic[1][2]), enumerate(cases)))
        jobs = []   # (name, producer, consumers, kind, alg, enc, keyfiles, json)
        for (kind, alg, enc), jwk in zip(cases, jwks):
            priv, pub = keys.pair(jwk, f"{alg}-{enc}")
            for p in peers:
                for json_ in (False, True):
                    name = f"{kind}/{alg}{'/' + enc if enc else ''}/{'json' if json_ else 'compact'}/{p.name}->others"
                    jobs.append((name, p, kind, alg, enc, [priv if kind == "jws" else pub, (priv, pub)], json_))
        for i, kind in enumerate(("jws", "jwe")):
            members = [peers[(i + j) % len(peers)].genkey(a) for j, a in enumerate(P.MULTI[kind])]
            keyset = keys.write({"keys": [P.public_jwk(m) if kind == "jwe" else m for m in members]}, "set")
            member_files = [keys.pair(m, "member") for m in members]
            enc = P.MULTI_ENC if kind == "jwe" else None
            jobs += [(f"{kind}/set/{'+'.join(P.MULTI[kind])}/json/{p.name}->others", p, kind, None, enc,
                      [keyset, *member_files], True) for p in peers]
        jobs = [j for j in jobs if not args.pattern or args.pattern in j[0]]
        results = list(pool.map(lambda j: cross_case(j[0], j[1], [q for q in peers if q is not j[1]], *j[2:]),
                                jobs))

    counts = {"ok  ": 0, "FAIL": 0, "SKIP": 0, "KNWN": 0}
    for r in results:
        status = r.status()
        counts[status] += 1
        skips = f"  (unsupported: {'; '.join(r.skips)})" if r.skips else ""
        if status != "ok  " or args.verbose:
            print(f"{status} {r.name}{skips}")
        for f in r.failures + r.known:
            print(f"  - {f}")
        for log in r.logs:
            print(log)
    print(f"{counts['ok  ']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped, "
          f"{counts['KNWN']} known disagreements")
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())

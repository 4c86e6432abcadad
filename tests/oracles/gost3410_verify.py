#!/usr/bin/env python3
"""An independent GOST R 34.10-2012 signature verifier (RFC 7091 clause 6.2), written from the RFC with Python
integers only. Used by crypto_test to check signatures made through the GOST engine.

usage: gost3410_verify.py --self-test
       gost3410_verify.py p a b q Px Py Qx Qy e r s      (all hexadecimal integers)
Exit status 0 when the signature verifies, 1 when it does not, 2 on bad usage.

--self-test verifies the RFC 7091 Appendix A.1 example (256-bit test curve) and checks that a changed
digest fails, so the verifier itself is tested against the RFC.
"""
import sys


def add(P, Q, a, p):
    if P is None:
        return Q
    if Q is None:
        return P
    if P[0] == Q[0] and (P[1] + Q[1]) % p == 0:
        return None
    if P == Q:
        lam = (3 * P[0] * P[0] + a) * pow(2 * P[1], -1, p) % p
    else:
        lam = (Q[1] - P[1]) * pow(Q[0] - P[0], -1, p) % p
    x = (lam * lam - P[0] - Q[0]) % p
    return (x, (lam * (P[0] - x) - P[1]) % p)


def mul(k, P, a, p):
    R = None
    while k:
        if k & 1:
            R = add(R, P, a, p)
        P = add(P, P, a, p)
        k >>= 1
    return R


def verify(p, a, b, q, P, Q, e, r, s):
    # RFC 7091 6.2: 0 < r, s < q; e = alpha mod q (1 if zero); v = e^-1; z1 = s v, z2 = -r v; C = z1 P + z2 Q.
    if not (0 < r < q and 0 < s < q):
        return False
    for X in (P, Q):
        if (X[1] * X[1] - (X[0] ** 3 + a * X[0] + b)) % p:
            return False
    e %= q
    if e == 0:
        e = 1
    v = pow(e, -1, q)
    C = add(mul(s * v % q, P, a, p), mul((-r * v) % q, Q, a, p), a, p)
    return C is not None and C[0] % q == r


RFC7091_A1 = dict(
    p=0x8000000000000000000000000000000000000000000000000000000000000431,
    a=0x7,
    b=0x5FBFF498AA938CE739B8E022FBAFEF40563F6E6A3472FC2A514C0CE9DAE23B7E,
    q=0x8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3,
    P=(0x2, 0x08E2A8A0E65147D4BD6316030E16D19C85C97F0A9CA267122B96ABBCEA7E8FC8),
    Q=(0x7F2B49E270DB6D90D8595BEC458B50C58585BA1D4E9B788F6689DBD8E56FD80B,
       0x26F1B489D6701DD185C8413A977B3CBBAF64D1C593D26627DFFB101A87FF77DA),
    e=0x2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5,
    r=0x41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493,
    s=0x01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40,
)


def main(argv):
    if argv == ["--self-test"]:
        v = RFC7091_A1
        ok = verify(v["p"], v["a"], v["b"], v["q"], v["P"], v["Q"], v["e"], v["r"], v["s"])
        bad = verify(v["p"], v["a"], v["b"], v["q"], v["P"], v["Q"], v["e"] + 1, v["r"], v["s"])
        print("RFC 7091 A.1:", "verifies" if ok else "FAILS", "/ changed digest:", "rejected" if not bad else "ACCEPTED")
        return 0 if ok and not bad else 1
    if len(argv) != 11:
        print(__doc__, file=sys.stderr)
        return 2
    p, a, b, q, px, py, qx, qy, e, r, s = (int(x, 16) for x in argv)
    return 0 if verify(p, a, b, q, (px, py), (qx, qy), e, r, s) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

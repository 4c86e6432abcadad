#!/usr/bin/env python3
"""Drives `m2msec ibc kms-init|issue|sign|verify|encap|decap` as a user would.

Known answers: RFC 6507 Appendix A (ECCSI on P-256/SHA-256) and RFC 6508 Appendix A with the parameter set 1 of
RFC 6509 Appendix A (SAKKE). The values below are the RFCs' (checked against two independent transcriptions, and
checked against each other at run time by the oracle below, so a mistyped digit fails here, not in the CLI).

Oracle: a small, independent ECCSI and SAKKE written here with Python integers and hashlib (affine point
arithmetic; the PF_p exponentiation in F_p^2 = F_p[i]/(i^2 + 1)). It checks what the CLI prints (KPAK = [KSAK]G and
Z_S = [z_S]P from the master file, SSK/PVT validation, RSK = [(b + z)^-1]P, signatures, R_(b,S) and H of an
encapsulation) and makes signatures and encapsulated data for the CLI to verify and decapsulate. The one part it
does not do is the pairing, so decapsulation is checked through known answers and round trips.

Exit status contract: 0 done; 1 a check failed (one line on stderr, nothing on stdout); 2 bad input (one line on
stderr, nothing on stdout).

usage: test_ibc.py PATH/TO/m2msec [-v]
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import hashlib
import os
import secrets
import stat
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import checks  # noqa: E402  (tests/support: check, run, results)
from checks import check, results  # noqa: E402

EXE = sys.argv[1]


def h(text):
    """Hex as printed in the RFCs (groups separated by white space) to an integer."""
    return int("".join(text.split()), 16)


def hb(text):
    return bytes.fromhex("".join(text.split()))


# ---------------------------------------------------------------------------------------------------------------
# Curves. NIST P-256 (FIPS 186-4 D.1.2.3 / SEC 2), the ECCSI curve of RFC 6507 Appendix A.
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_B = h("5AC635D8 AA3A93E7 B3EBBD55 769886BC 651D06B0 CC53B0F6 3BCE3C3E 27D2604B")
P256_Q = h("FFFFFFFF 00000000 FFFFFFFF FFFFFFFF BCE6FAAD A7179E84 F3B9CAC2 FC632551")
P256_G = (h("6B17D1F2 E12C4247 F8BCE6E5 63A440F2 77037D81 2DEB33A0 F4A13945 D898C296"),
          h("4FE342E2 FE1A7F9B 8EE7EB4A 7C0F9E16 2BCE3357 6B315ECE CBB64068 37BF51F5"))

# RFC 6509 Appendix A, SAKKE parameter set 1: E: y^2 = x^3 - 3x over F_p, P of order q, g = <P, P>.
SK_P = h("""997ABB1F 0A563FDA 65C61198 DAD0657A 416C0CE1 9CB48261 BE9AE358 B3E01A2E
            F40AAB27 E2FC0F1B 228730D5 31A59CB0 E791B39F F7C88A19 356D27F4 A666A6D0
            E26C6487 326B4CD4 512AC5CD 65681CE1 B6AFF4A8 31852A82 A7CF3C52 1C3C09AA
            9F94D6AF 56971F1F FCE3E823 89857DB0 80C5DF10 AC7ACE87 666D807A FEA85FEB""")
SK_Q = h("""265EAEC7 C2958FF6 99718466 36B4195E 905B0338 672D2098 6FA6B8D6 2CF8068B
            BD02AAC9 F8BF03C6 C8A1CC35 4C69672C 39E46CE7 FDF22286 4D5B49FD 2999A9B4
            389B1921 CC9AD335 144AB173 595A0738 6DABFD2A 0C614AA0 A9F3CF14 870F026A
            A7E535AB D5A5C7C7 FF38FA08 E2615F6C 203177C4 2B1EB3A1 D99B601E BFAA17FB""")
SK_PX = h("""53FC09EE 332C29AD 0A799005 3ED9B52A 2B1A2FD6 0AEC69C6 98B2F204 B6FF7CBF
             B5EDB6C0 F6CE2308 AB10DB90 30B09E10 43D5F22C DB9DFA55 718BD9E7 406CE890
             9760AF76 5DD5BCCB 337C8654 8B72F2E1 A702C339 7A60DE74 A7C1514D BA66910D
             D5CFB4CC 80728D87 EE9163A5 B63F73EC 80EC46C4 967E0979 880DC8AB EAE63895""")
SK_PY = h("""0A824906 3F6009F1 F9F1F053 3634A135 D3E82016 02990696 3D778D82 1E141178
             F5EA69F4 654EC2B9 E7F7F5E5 F0DE55F6 6B598CCF 9A140B2E 416CFF0C A9E032B9
             70DAE117 AD547C6C CAD696B5 B7652FE0 AC6F1E80 164AA989 492D979F C5A4D5F2
             13515AD7 E9CB99A9 80BDAD5A D5BB4636 ADB9B570 6A67DCDE 75573FD7 1BEF16D7""")
SK_G = h("""66FC2A43 2B6EA392 148F1586 7D623068 C6A87BD1 FB94C41E 27FABE65 8E015A87
            371E9474 4C96FEDA 449AE956 3F8BC446 CBFDA85D 5D00EF57 7072DA8F 541721BE
            EE0FAED1 828EAB90 B99DFB01 38C78433 55DF0460 B4A9FD74 B4F1A32B CAFA1FFA
            D682C033 A7942BCC E3720F20 B9B7B040 3C8CAE87 B7A0042A CDE0FAB3 6461EA46""")
SK_N = 128  # SSV bits


class Curve:
    """y^2 = x^3 - 3x + b over F_p, affine coordinates, None for the point at infinity."""

    def __init__(self, p, b, q, g, size):
        self.p, self.b, self.q, self.g, self.size = p, b, q, g, size

    def on_curve(self, pt):
        if pt is None:
            return False
        x, y = pt
        return 0 <= x < self.p and 0 <= y < self.p and (y * y - (x * x * x - 3 * x + self.b)) % self.p == 0

    def add(self, a, c):
        if a is None:
            return c
        if c is None:
            return a
        p = self.p
        if a[0] == c[0]:
            if (a[1] + c[1]) % p == 0:
                return None
            lam = (3 * a[0] * a[0] - 3) * pow(2 * a[1], -1, p) % p
        else:
            lam = (c[1] - a[1]) * pow(c[0] - a[0], -1, p) % p
        x = (lam * lam - a[0] - c[0]) % p
        return x, (lam * (a[0] - x) - a[1]) % p

    def neg(self, a):
        return None if a is None else (a[0], (-a[1]) % self.p)

    def mul(self, k, pt):
        out, k = None, k % self.q
        for bit in bin(k)[2:] if k else "":
            out = self.add(out, out)
            if bit == "1":
                out = self.add(out, pt)
        return out

    def encode(self, pt):
        return b"\x04" + pt[0].to_bytes(self.size, "big") + pt[1].to_bytes(self.size, "big")

    def decode(self, octets):
        if len(octets) != 2 * self.size + 1 or octets[0] != 4:
            return None
        pt = (int.from_bytes(octets[1:1 + self.size], "big"), int.from_bytes(octets[1 + self.size:], "big"))
        return pt if self.on_curve(pt) else None


P256 = Curve(P256_P, P256_B, P256_Q, P256_G, 32)
SAKKE = Curve(SK_P, 0, SK_Q, (SK_PX, SK_PY), 128)


def sha256(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


# --- ECCSI, RFC 6507 5.1-5.2 ---
def eccsi_hs(kpak, ident, pvt):
    return int.from_bytes(sha256(P256.encode(P256.g), kpak, ident, pvt), "big")


def eccsi_validate(kpak, ident, ssk, pvt):
    k, v = P256.decode(kpak), P256.decode(pvt)
    if k is None or v is None or not 0 < ssk < P256.q:
        return False
    return P256.add(P256.mul(ssk, P256.g), P256.neg(P256.mul(eccsi_hs(kpak, ident, pvt), v))) == k


def eccsi_verify(kpak, ident, message, sig):
    if len(sig) != 129:
        return False
    r, s, pvt = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64:]
    k, v = P256.decode(kpak), P256.decode(pvt)
    if k is None or v is None or not (0 < r < P256.q and 0 < s < P256.q):
        return False
    hs = eccsi_hs(kpak, ident, pvt)
    he = int.from_bytes(sha256(hs.to_bytes(32, "big"), sig[:32], message), "big")
    y = P256.add(P256.mul(hs, v), k)
    j = P256.mul(s, P256.add(P256.mul(he, P256.g), P256.mul(r, y)))
    return j is not None and j[0] % P256.p == r and j[0] != 0


def eccsi_sign(kpak, ident, ssk, pvt, message):
    hs = eccsi_hs(kpak, ident, pvt)
    while True:
        j = secrets.randbelow(P256.q - 1) + 1
        r = P256.mul(j, P256.g)[0]
        rb = r.to_bytes(32, "big")
        he = int.from_bytes(sha256(hs.to_bytes(32, "big"), rb, message), "big")
        t = (he + r * ssk) % P256.q
        if t == 0:
            continue
        s = pow(t, -1, P256.q) * j % P256.q
        if s.bit_length() > 256:
            s = P256.q - s
        return rb + s.to_bytes(32, "big") + pvt


# --- SAKKE, RFC 6508 5.1 and 6.2 ---
def hash_to_integer_range(s, n):
    """RFC 6508 5.1 with SHA-256."""
    a = sha256(s)
    hi = bytes(32)
    bits = n.bit_length() - 1 if n & (n - 1) == 0 else n.bit_length()  # Ceiling(Lg(n)) for the block count
    v = b""
    for _ in range(-(-bits // 256)):
        hi = sha256(hi)
        v += sha256(hi, a)
    return int.from_bytes(v, "big") % n


def pfp_pow(x, e):
    """g^e in PF_p: x stands for 1 + x.i in F_p[i]/(i^2 + 1); the result is represented the same way."""
    p = SK_P

    def mul(u, w):
        return (u[0] * w[0] - u[1] * w[1]) % p, (u[0] * w[1] + u[1] * w[0]) % p

    out, base = (1, 0), (1, x % p)
    for bit in bin(e)[2:]:
        out = mul(out, out)
        if bit == "1":
            out = mul(out, base)
    return out[1] * pow(out[0], -1, p) % p


def sakke_b(ident):
    return int.from_bytes(ident, "big")


def sakke_rsk(z, ident):
    return SAKKE.mul(pow((sakke_b(ident) + z) % SK_Q, -1, SK_Q), SAKKE.g)


def sakke_expected(zpub, ident, ssv):
    """What the RFC's sender computes for this SSV: R_(b,S) || H."""
    r = hash_to_integer_range(ssv + ident, SK_Q)
    big_r = SAKKE.mul(r, SAKKE.add(SAKKE.mul(sakke_b(ident), SAKKE.g), zpub))
    mask = hash_to_integer_range(pfp_pow(SK_G, r).to_bytes(128, "big"), 2**SK_N)
    return SAKKE.encode(big_r) + (int.from_bytes(ssv, "big") ^ mask).to_bytes(16, "big")


# ---------------------------------------------------------------------------------------------------------------
# RFC 6507 Appendix A.
RFC_ID = hb("32303131 2D303200 74656C3A 2B343437 37303039 30303132 3300")  # "2011-02\0tel:+447700900123\0"
RFC_KSAK = 0x12345
RFC_M = hb("6D657373 61676500")  # "message\0"
RFC_KPAK = hb("""04 50D4670B DE75244F 28D2838A 0D25558A 7A72686D 4522D4C8 273FB644 2AEBFA93
                 DBDD3755 1AFD263B 5DFD617F 3960C65A 8C298850 FF99F203 66DCE7D4 367217F4""")
RFC_PVT = hb("""04 758A1427 79BE89E8 29E71984 CB40EF75 8CC4AD77 5FC5B9A3 E1C8ED52 F6FA36D9
                A79D2476 92F4EDA3 A6BDAB77 D6AA6474 A464AE49 34663C52 65BA7018 BA091F79""")
RFC_HS = h("490F3FEB BC1C902F 6289723D 7F8CBF79 DB889308 49D19F38 F0295B5C 276C14D1")
RFC_SSK = h("23F374AE 1F4033F3 E9DBDDAA EF20F4CF 0B86BBD5 A138A5AE 9E7E006B 34489A0D")
RFC_SIG = hb("""269D4C8F DEB66A74 E4EF8C0D 5DCC597D DFE6029C 2AFFC493 6008CD2C C1045D81
                E09B528D 0EF8D6DF 1AA3ECBF 80110CFC EC9FC682 52CEBB67 9F413484 6940CCFD""") + RFC_PVT

# RFC 6508 Appendix A: b is the same identifier.
RFC_Z = h("AFF429D3 5F84B110 D094803B 3595A6E2 998BC99F")
RFC_ZS = hb("""04
  5958EF1B 1679BF09 9B3A030D F255AA6A 23C1D8F1 43D4D23F 753E69BD 27A832F3 8CB4AD53 DDEF4260 B0FE8BB4 5C4C1FF5
  10EFFE30 0367A37B 61F701D9 14AEF097 24825FA0 707D61A6 DFF4FBD7 273566CD DE352A0B 04B7C16A 78309BE6 40697DE7
  47613A5F C195E8B9 F328852A 579DB8F9 9B1D0034 479EA9C5 595F47C4 B2F54FF2
  1508D375 14DCF7A8 E143A605 8C09A6BF 2C9858CA 37C25806 5AE6BF75 32BC8B5B 63383866 E0753C5A C0E72709 F8445F2E
  6178E065 857E0EDA 10F68206 B63505ED 87E534FB 2831FF95 7FB7DC61 9DAE6130 1EEACC2F DA3680EA 4999258A 833CEA8F
  C67C6D19 487FB449 059F26CC 8AAB655A B58B7CC7 96E24E9A 39409575 4F5F8BAE""")
RFC_RSK = hb("""04
  93AF67E5 007BA6E6 A80DA793 DA300FA4 B52D0A74 E25E6E7B 2B3D6EE9 D18A9B5C 5023597B D82D8062 D3401956 3BA1D25C
  0DC56B7B 979D74AA 50F29FBF 11CC2C93 F5DFCA61 5E609279 F6175CEA DB00B58C 6BEE1E7A 2A47C4F0 C456F052 59A6FA94
  A634A40D AE1DF593 D4FECF68 8D5FC678 BE7EFC6D F3D68353 25B83B2C 6E69036B
  155F0A27 241094B0 4BFB0BDF AC6C670A 65C325D3 9A069F03 659D44CA 27D3BE8D F311172B 55416018 1CBE94A2 A783320C
  ED590BC4 2644702C F371271E 496BF20F 588B78A1 BC01ECBB 6559934B DD2FB65D 2884318A 33D1A42A DF5E33CC 5800280B
  28356497 F87135BA B9612A17 26042440 9AC15FEE 996B744C 33215123 5DECB0F5""")
RFC_SSV = hb("12345678 9ABCDEF0 12345678 9ABCDEF0")
RFC_R = h("""13EE3E1B 8DAC5DB1 68B1CEB3 2F0566A4 C273693F 78BAFFA2 A2EE6A68 6E6BD90F 8206CCAB 84E7F42E D39BD4FB 131012EC
             CA2ECD21 19414560 C17CAB46 B956A80F 58A3302E B3E2C9A2 28FBA7ED 34D8ACA2 392DA1FF B0B17B23 20AE09AA EDFD0235
             F6FE0EB6 5337A63F 9CC97728 B8E5AD04 60FADE14 4369AA5B 21662132 47712096""")
RFC_RB = hb("""04
  44E8AD44 AB8592A6 A5A3DDCA 5CF896C7 18043606 A01D650D EF37A01F 37C228C3 32FC3173 54E2C274 D4DAF8AD 001054C7
  6CE57971 C6F4486D 57230432 61C506EB F5BE438F 53DE04F0 67C776E0 DD3B71A6 29013328 3725A532 F21AF145 126DC1D7
  77ECC27B E50835BD 28098B8A 73D9F801 D893793A 41FF5C49 B87E79F2 BE4D56CE
  557E134A D85BB1D4 B9CE4F8B E4B08A12 BABF55B1 D6F1D7A6 38019EA2 8E15AB1C 9F76375F DD1210D4 F4351B9A 009486B7
  F3ED46C9 65DED2D8 0DADE4F3 8C6721D5 2C3AD103 A10EBD29 59248B4E F006836B F097448E 6107C9ED EE9FB704 823DF199
  F832C905 AE45F8A2 47A072D8 EF729EAB C5E27574 B07739B3 4BE74A53 2F747B86""")
RFC_GR = h("""7D2A8438 E6291C64 9B6579EB 3B79EAE9 48B1DE9E 5F7D1F40 70A08F8D B6B3C515 6F2201AF FBB5CB9D 82AA3EC0 D0398B89
              ABC78A13 A760C0BF 3F77E63D 0DF3F1A3 41A41B88 11DF197F D6CD0F00 3125606F 4F109F40 0F7292A1 0D255E3C 0EBCCB42
              53FB182C 68F09CF6 CD9C4A53 DA6C74AD 007AF36B 8BCA979D 5895E282 F483FCD6""")
RFC_MASK = h("9BD4EA1E 801D37E6 2AD2FAB0 D4F5BBF7")
RFC_H = hb("89E0BC66 1AA1E916 38E6ACC8 4E496507")


# ---------------------------------------------------------------------------------------------------------------
def ibc(*args, data=b""):
    return checks.run([EXE, "ibc", *args], data=data, timeout=120)


def lines(done):
    """name=value lines of stdout as a dict (None when a line has no '=')."""
    out = {}
    for line in done.stdout.decode(errors="replace").splitlines():
        name, eq, value = line.partition("=")
        if not eq:
            return None
        out[name] = value
    return out


def describe(done):
    return f"rc={done.returncode} stdout={done.stdout[:300]!r} stderr={done.stderr.decode(errors='replace')[:300]!r}"


def one_line_error(done):
    err = done.stderr.decode(errors="replace")
    return done.stdout == b"" and err.count("\n") == 1 and err.startswith("m2msec: ")


def expect_ok(name, done, want_stdout=None):
    ok = done.returncode == 0 and done.stderr == b"" and (want_stdout is None or done.stdout == want_stdout)
    check(name, ok, describe(done))
    return ok


def expect_fail(name, done, reason=None):
    """A failed check: exit 1, the reason one line on stderr, nothing on stdout."""
    err = done.stderr.decode(errors="replace")
    check(name, done.returncode == 1 and one_line_error(done) and (reason is None or reason in err), describe(done))


def expect_usage(name, done):
    """Bad input: exit 2, one line on stderr, nothing on stdout."""
    check(name, done.returncode == 2 and one_line_error(done), describe(done))


def ident_args(ident, as_hex):
    return ["--id-hex", ident.hex()] if as_hex else ["--id", ident.decode()]


def flip(octets, index, bit=1):
    b = bytearray(octets)
    b[index] ^= bit
    return bytes(b)


# ---------------------------------------------------------------------------------------------------------------
def oracle_self_test():
    """The oracle and the transcribed RFC values agree with each other before anything else relies on them."""
    check("oracle: P-256 G on the curve, [q]G = O", P256.on_curve(P256.g) and P256.mul(P256.q - 1, P256.g) == P256.neg(P256.g))
    check("oracle: SAKKE P on the curve, [q]P = O", SAKKE.on_curve(SAKKE.g) and SAKKE.mul(SK_Q - 1, SAKKE.g) == SAKKE.neg(SAKKE.g)
          and SK_Q * 4 == SK_P + 1)
    check("RFC 6507: KPAK = [KSAK]G", P256.encode(P256.mul(RFC_KSAK, P256.g)) == RFC_KPAK)
    check("RFC 6507: HS", eccsi_hs(RFC_KPAK, RFC_ID, RFC_PVT) == RFC_HS)
    check("RFC 6507: SSK and PVT validate (oracle)", eccsi_validate(RFC_KPAK, RFC_ID, RFC_SSK, RFC_PVT))
    check("RFC 6507: signature verifies (oracle)", eccsi_verify(RFC_KPAK, RFC_ID, RFC_M, RFC_SIG))
    check("RFC 6507: tampered signature refused (oracle)", not eccsi_verify(RFC_KPAK, RFC_ID, RFC_M, flip(RFC_SIG, 40)))
    check("RFC 6508: Z_S = [z_S]P", SAKKE.encode(SAKKE.mul(RFC_Z, SAKKE.g)) == RFC_ZS)
    check("RFC 6508: RSK = [(b + z_S)^-1]P", SAKKE.encode(sakke_rsk(RFC_Z, RFC_ID)) == RFC_RSK)
    check("RFC 6508: r = HashToIntegerRange(SSV || b, q)", hash_to_integer_range(RFC_SSV + RFC_ID, SK_Q) == RFC_R)
    check("RFC 6508: g^r in PF_p", pfp_pow(SK_G, RFC_R) == RFC_GR)
    check("RFC 6508: mask", hash_to_integer_range(RFC_GR.to_bytes(128, "big"), 2**SK_N) == RFC_MASK)
    check("RFC 6508: R_(b,S) || H", sakke_expected(SAKKE.decode(RFC_ZS), RFC_ID, RFC_SSV) == RFC_RB + RFC_H)


def known_answers():
    rfc_id = ["--id-hex", RFC_ID.hex()]
    kpak = ["--kpak", RFC_KPAK.hex()]
    expect_ok("RFC 6507 A: signature verifies", ibc("verify", *kpak, *rfc_id, "--sig", RFC_SIG.hex(), data=RFC_M), b"ok\n")
    expect_ok("RFC 6507 A: upper-case hex accepted",
              ibc("verify", "--kpak", RFC_KPAK.hex().upper(), *rfc_id, "--sig", RFC_SIG.hex().upper(), data=RFC_M), b"ok\n")
    expect_fail("RFC 6507 A: other message", ibc("verify", *kpak, *rfc_id, "--sig", RFC_SIG.hex(), data=b"message"))
    for name, index in (("r", 5), ("s", 40), ("PVT", 100)):
        expect_fail(f"RFC 6507 A: tampered {name}",
                    ibc("verify", *kpak, *rfc_id, "--sig", flip(RFC_SIG, index).hex(), data=RFC_M),
                    "does not verify")
    expect_fail("RFC 6507 A: wrong id", ibc("verify", *kpak, "--id-hex", flip(RFC_ID, 3).hex(), "--sig", RFC_SIG.hex(),
                                             data=RFC_M))
    other_kpak = P256.encode(P256.mul(RFC_KSAK + 1, P256.g)).hex()
    expect_fail("RFC 6507 A: wrong kpak", ibc("verify", "--kpak", other_kpak, *rfc_id, "--sig", RFC_SIG.hex(), data=RFC_M))

    # Signing with the RFC's SSK and PVT: a fresh j, so the oracle verifies rather than compares.
    done = ibc("sign", *kpak, *rfc_id, "--ssk", f"{RFC_SSK:064x}", "--pvt", RFC_PVT.hex(), data=RFC_M)
    sig = bytes.fromhex(done.stdout.decode().strip()) if done.returncode == 0 else b""
    check("RFC 6507 A: sign with the RFC's SSK/PVT, oracle verifies",
          done.returncode == 0 and eccsi_verify(RFC_KPAK, RFC_ID, RFC_M, sig) and sig[64:] == RFC_PVT, describe(done))
    check("RFC 6507 A: the SSK is not echoed by sign", f"{RFC_SSK:064x}".encode() not in done.stdout + done.stderr.lower())
    expect_fail("RFC 6507 A: sign with a wrong SSK refused (5.1.2)",
                ibc("sign", *kpak, *rfc_id, "--ssk", f"{RFC_SSK + 1:064x}", "--pvt", RFC_PVT.hex(), data=RFC_M))

    z, rsk = ["--z", RFC_ZS.hex()], ["--rsk", RFC_RSK.hex()]
    data = RFC_RB + RFC_H
    expect_ok("RFC 6508 A: decapsulates to the RFC's SSV", ibc("decap", *z, *rfc_id, *rsk, "--data", data.hex()),
              b"ssv=" + RFC_SSV.hex().encode() + b"\n")
    expect_fail("RFC 6508 A: tampered H", ibc("decap", *z, *rfc_id, *rsk, "--data", flip(data, len(data) - 1).hex()))
    expect_fail("RFC 6508 A: tampered R", ibc("decap", *z, *rfc_id, *rsk, "--data", flip(data, 50).hex()))
    expect_fail("RFC 6508 A: wrong id", ibc("decap", *z, "--id-hex", flip(RFC_ID, 3).hex(), *rsk, "--data", data.hex()))
    expect_fail("RFC 6508 A: wrong Z_S",
                ibc("decap", "--z", SAKKE.encode(SAKKE.mul(RFC_Z + 1, SAKKE.g)).hex(), *rfc_id, *rsk, "--data", data.hex()))
    # The data the oracle makes for a fresh SSV decapsulate with the RFC's RSK.
    ssv = secrets.token_bytes(16)
    made = sakke_expected(SAKKE.decode(RFC_ZS), RFC_ID, ssv)
    expect_ok("RFC 6508 A: oracle-made data decapsulate", ibc("decap", *z, *rfc_id, *rsk, "--data", made.hex()),
              b"ssv=" + ssv.hex().encode() + b"\n")


def rfc_kms(work):
    """A master file holding the RFCs' KSAK and z_S: issue gives their KPAK, Z_S and (deterministic) RSK."""
    master = os.path.join(work, "rfc-master")
    with open(master, "w", encoding="ascii") as f:
        f.write(f"ksak={RFC_KSAK:064x}\nz={RFC_Z:040x}\n")
    done = ibc("issue", "--kms", master, "--id-hex", RFC_ID.hex())
    keys = lines(done) or {}
    if check("RFC master secrets: issue", done.returncode == 0 and set(keys) == {"kpak", "z", "ssk", "pvt", "rsk"},
             describe(done)):
        check("RFC master secrets: KPAK of RFC 6507", keys["kpak"] == RFC_KPAK.hex())
        check("RFC master secrets: Z_S of RFC 6508", keys["z"] == RFC_ZS.hex())
        check("RFC master secrets: the RSK of RFC 6508", keys["rsk"] == RFC_RSK.hex())
        check("RFC master secrets: SSK/PVT validate (oracle)",
              eccsi_validate(RFC_KPAK, RFC_ID, int(keys["ssk"], 16), bytes.fromhex(keys["pvt"])))
    # b + z_S = 0 mod q has no RSK ((b + z_S)^-1 does not exist): refused, nothing printed.
    done = ibc("issue", "--kms", master, "--id-hex", (SK_Q - RFC_Z).to_bytes(128, "big").hex())
    check("issue: an identity with b + z_S = 0 mod q is refused", done.returncode != 0 and one_line_error(done),
          describe(done))


def round_trips(work):
    master = os.path.join(work, "kms-master")
    init = ibc("kms-init", "--out", master)
    pub = lines(init) or {}
    if not check("kms-init", init.returncode == 0 and init.stderr == b"" and set(pub) == {"kpak", "z"}, describe(init)):
        return
    mode = stat.S_IMODE(os.stat(master).st_mode)
    check("kms-init: master file mode 0600", mode == 0o600, oct(mode))
    text = open(master, encoding="ascii").read()
    fields = dict(line.split("=", 1) for line in text.splitlines())
    ksak, zs = int(fields["ksak"], 16), int(fields["z"], 16)
    check("kms-init: kpak = [ksak]G (oracle)", P256.encode(P256.mul(ksak, P256.g)).hex() == pub["kpak"])
    check("kms-init: z = [z_S]P (oracle)", SAKKE.encode(SAKKE.mul(zs, SAKKE.g)).hex() == pub["z"])
    check("kms-init: the master secrets are not printed",
          fields["ksak"].lower() not in init.stdout.decode() and fields["z"].lower() not in init.stdout.decode())
    before = open(master, "rb").read()
    expect_usage("kms-init refuses to overwrite", ibc("kms-init", "--out", master))
    check("kms-init: the refused file is unchanged", open(master, "rb").read() == before)

    kpak, zpub = bytes.fromhex(pub["kpak"]), bytes.fromhex(pub["z"])
    alice, bob = "alice@m2msec.example".encode(), bytes([0, 1, 2, 0xFF]) + b"bob"
    issued = {}
    for who, ident, as_hex in (("alice text", alice, False), ("alice hex", alice, True), ("bob", bob, True)):
        done = ibc("issue", "--kms", master, *ident_args(ident, as_hex))
        keys = lines(done) or {}
        ok = done.returncode == 0 and set(keys) == {"kpak", "z", "ssk", "pvt", "rsk"}
        check(f"issue {who}", ok and keys["kpak"] == pub["kpak"] and keys["z"] == pub["z"], describe(done))
        if not ok:
            return
        issued[who] = keys
        check(f"issue {who}: SSK/PVT validate (oracle)",
              eccsi_validate(kpak, ident, int(keys["ssk"], 16), bytes.fromhex(keys["pvt"])))
        check(f"issue {who}: RSK = [(b + z)^-1]P (oracle)", SAKKE.encode(sakke_rsk(zs, ident)).hex() == keys["rsk"])
        check(f"issue {who}: the master secrets are not printed",
              fields["ksak"].lower() not in done.stdout.decode() and fields["z"].lower() not in done.stdout.decode())
    check("issue: --id and --id-hex give the same RSK", issued["alice text"]["rsk"] == issued["alice hex"]["rsk"])

    a, b = issued["alice text"], issued["bob"]
    message = b"a message\x00with a NUL and \xff bytes\n"
    for label, sign_hex, verify_hex in (("text/text", False, False), ("text/hex", False, True), ("hex/text", True, False)):
        done = ibc("sign", "--kpak", pub["kpak"], *ident_args(alice, sign_hex), "--ssk", a["ssk"], "--pvt", a["pvt"],
                   data=message)
        sig = done.stdout.decode().strip()
        if not check(f"sign {label}", done.returncode == 0 and len(sig) == 258 and done.stderr == b"", describe(done)):
            continue
        check(f"sign {label}: the SSK is not printed", a["ssk"] not in done.stdout.decode())
        check(f"sign {label}: oracle verifies", eccsi_verify(kpak, alice, message, bytes.fromhex(sig)))
        expect_ok(f"verify {label}", ibc("verify", "--kpak", pub["kpak"], *ident_args(alice, verify_hex), "--sig", sig,
                                         data=message), b"ok\n")
    # The signature of the second issue of alice (another v, so another PVT) verifies too.
    done = ibc("sign", "--kpak", pub["kpak"], "--id", alice.decode(), "--ssk", issued["alice hex"]["ssk"],
               "--pvt", issued["alice hex"]["pvt"], data=b"")
    expect_ok("verify: empty message, second credential",
              ibc("verify", "--kpak", pub["kpak"], "--id", alice.decode(), "--sig", done.stdout.decode().strip()), b"ok\n")
    # An oracle-made signature verifies with the CLI.
    sig = eccsi_sign(kpak, alice, int(a["ssk"], 16), bytes.fromhex(a["pvt"]), message).hex()
    expect_ok("verify: oracle-made signature", ibc("verify", "--kpak", pub["kpak"], "--id", alice.decode(), "--sig", sig,
                                                   data=message), b"ok\n")
    expect_fail("verify: tampered signature", ibc("verify", "--kpak", pub["kpak"], "--id", alice.decode(),
                                                  "--sig", flip(bytes.fromhex(sig), 33).hex(), data=message), "does not verify")
    expect_fail("verify: tampered message", ibc("verify", "--kpak", pub["kpak"], "--id", alice.decode(), "--sig", sig,
                                                data=message + b"x"))
    expect_fail("verify: another identity", ibc("verify", "--kpak", pub["kpak"], "--id-hex", bob.hex(), "--sig", sig,
                                                data=message))
    expect_fail("verify: another kpak", ibc("verify", "--kpak", RFC_KPAK.hex(), "--id", alice.decode(), "--sig", sig,
                                            data=message))
    # Validation (RFC 6507 5.1.2) before signing.
    expect_fail("sign: PVT of another identity refused", ibc("sign", "--kpak", pub["kpak"], "--id", alice.decode(),
                                                             "--ssk", a["ssk"], "--pvt", b["pvt"], data=message))
    expect_fail("sign: another identity's SSK/PVT refused", ibc("sign", "--kpak", pub["kpak"], "--id", alice.decode(),
                                                                "--ssk", b["ssk"], "--pvt", b["pvt"], data=message))
    expect_fail("sign: under another kpak refused", ibc("sign", "--kpak", RFC_KPAK.hex(), "--id", alice.decode(),
                                                        "--ssk", a["ssk"], "--pvt", a["pvt"], data=message))
    expect_fail("sign: PVT off the curve refused", ibc("sign", "--kpak", pub["kpak"], "--id", alice.decode(),
                                                       "--ssk", a["ssk"], "--pvt", flip(bytes.fromhex(a["pvt"]), 64).hex(),
                                                       data=message))

    # SAKKE.
    for label, enc_hex, dec_hex in (("text/text", False, False), ("hex/text", True, False), ("text/hex", False, True)):
        done = ibc("encap", "--z", pub["z"], *ident_args(alice, enc_hex))
        out = lines(done) or {}
        if not check(f"encap {label}", done.returncode == 0 and set(out) == {"ssv", "data"} and len(out["ssv"]) == 32
                     and len(out["data"]) == 2 * 273, describe(done)):
            continue
        check(f"encap {label}: R_(b,S) || H as the RFC's sender computes them (oracle)",
              sakke_expected(SAKKE.decode(zpub), alice, bytes.fromhex(out["ssv"])).hex() == out["data"])
        expect_ok(f"decap {label}", ibc("decap", "--z", pub["z"], *ident_args(alice, dec_hex), "--rsk", a["rsk"],
                                        "--data", out["data"]), f"ssv={out['ssv']}\n".encode())
    done = ibc("encap", "--z", pub["z"], "--id-hex", bob.hex())
    out = lines(done) or {}
    if check("encap to bob", done.returncode == 0 and "data" in out, describe(done)):
        data = bytes.fromhex(out["data"])
        dec = ["decap", "--z", pub["z"], "--id-hex", bob.hex()]
        expect_ok("decap bob", ibc(*dec, "--rsk", b["rsk"], "--data", out["data"]), f"ssv={out['ssv']}\n".encode())
        expect_fail("decap: tampered H", ibc(*dec, "--rsk", b["rsk"], "--data", flip(data, 270).hex()))
        expect_fail("decap: tampered R", ibc(*dec, "--rsk", b["rsk"], "--data", flip(data, 200).hex()))
        expect_fail("decap: R replaced by another point of the curve",
                    ibc(*dec, "--rsk", b["rsk"], "--data", (SAKKE.encode(SAKKE.mul(7, SAKKE.g)) + data[257:]).hex()))
        expect_fail("decap: another identity's RSK", ibc(*dec, "--rsk", a["rsk"], "--data", out["data"]))
        expect_fail("decap: the RFC's RSK", ibc(*dec, "--rsk", RFC_RSK.hex(), "--data", out["data"]))
        expect_fail("decap: addressed to another identity", ibc("decap", "--z", pub["z"], "--id", alice.decode(),
                                                                "--rsk", a["rsk"], "--data", out["data"]))
    ssv = secrets.token_bytes(16)
    made = sakke_expected(SAKKE.decode(zpub), bob, ssv)
    expect_ok("decap: oracle-made data", ibc("decap", "--z", pub["z"], "--id-hex", bob.hex(), "--rsk", b["rsk"],
                                             "--data", made.hex()), f"ssv={ssv.hex()}\n".encode())
    return master, pub, a


def bad_input(work, master, pub, a):
    k, s = pub["kpak"], RFC_SIG.hex()
    errors = []
    for name, args in (
        ("verify: malformed kpak hex", ["verify", "--kpak", "zz" + k[2:], "--id", "x", "--sig", s]),
        ("verify: odd kpak hex", ["verify", "--kpak", k[:-1], "--id", "x", "--sig", s]),
        ("verify: short kpak", ["verify", "--kpak", k[:-2], "--id", "x", "--sig", s]),
        ("verify: malformed sig hex", ["verify", "--kpak", k, "--id", "x", "--sig", s[:-2] + "g0"]),
        ("verify: short sig", ["verify", "--kpak", k, "--id", "x", "--sig", s[:-2]]),
        ("verify: malformed id hex", ["verify", "--kpak", k, "--id-hex", "0x41", "--sig", s]),
        ("verify: both --id and --id-hex", ["verify", "--kpak", k, "--id", "x", "--id-hex", "78", "--sig", s]),
        ("verify: no identity", ["verify", "--kpak", k, "--sig", s]),
        ("verify: empty identity", ["verify", "--kpak", k, "--id-hex", "", "--sig", s]),
        ("verify: missing --sig", ["verify", "--kpak", k, "--id", "x"]),
        ("verify: unknown option", ["verify", "--kpak", k, "--id", "x", "--sig", s, "--ssk", a["ssk"]]),
        ("sign: malformed ssk", ["sign", "--kpak", k, "--id", "x", "--ssk", "q" * 64, "--pvt", a["pvt"]]),
        ("sign: long ssk", ["sign", "--kpak", k, "--id", "x", "--ssk", "00" + a["ssk"], "--pvt", a["pvt"]]),
        ("sign: malformed pvt", ["sign", "--kpak", k, "--id", "x", "--ssk", a["ssk"], "--pvt", a["pvt"][:-1] + "x"]),
        ("encap: malformed z", ["encap", "--z", pub["z"][:-1] + "z", "--id", "x"]),
        ("encap: short z", ["encap", "--z", pub["z"][:-2], "--id", "x"]),
        ("decap: malformed data", ["decap", "--z", pub["z"], "--id", "x", "--rsk", a["rsk"], "--data", "0g" * 273]),
        ("decap: short data", ["decap", "--z", pub["z"], "--id", "x", "--rsk", a["rsk"], "--data", "00" * 272]),
        ("decap: malformed rsk", ["decap", "--z", pub["z"], "--id", "x", "--rsk", "x" + a["rsk"][1:],
                                  "--data", "00" * 273]),
        ("issue: missing file", ["issue", "--kms", master + ".none", "--id", "x"]),
        ("issue: no identity", ["issue", "--kms", master]),
        ("kms-init: missing --out", ["kms-init"]),
        ("unknown sub-command", ["sing"]),
    ):
        done = ibc(*args, data=b"m")
        expect_usage(name, done)
        errors.append(done.stderr)
    corrupt = os.path.join(work, "corrupt")
    with open(corrupt, "w", encoding="ascii") as f:
        f.write("ksak=zz\nz=00\n")
    done = ibc("issue", "--kms", corrupt, "--id", "x")
    expect_usage("issue: corrupt master file", done)
    errors.append(done.stderr)
    check("no error message shows the SSK", all(a["ssk"].encode() not in e.lower() for e in errors))


def main():
    oracle_self_test()
    known_answers()
    with tempfile.TemporaryDirectory() as work:
        rfc_kms(work)
        state = round_trips(work)
        if state:
            bad_input(work, *state)
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()

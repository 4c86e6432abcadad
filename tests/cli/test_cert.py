#!/usr/bin/env python3
"""Drives `m2msec cert request|verify|ni` as a user would, against a test PKI made by tests/support/testpki.py
(the openssl CLI). Oracles: `openssl req/x509/pkey` and Python's hashlib/base64 (RFC 6920 identifiers).

usage: test_cert.py PATH/TO/m2msec
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import base64
import hashlib
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TESTPKI = os.path.join(HERE, "..", "support", "testpki.py")
OCSP_RESPONDER = os.path.join(HERE, "..", "support", "ocsp_responder.py")
SUITES = {"sha-256": 32, "sha-256-128": 16, "sha-256-120": 15}

results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    if not ok:
        print("FAIL %s: %s" % (name, detail))


def run(args):
    return subprocess.run(args, capture_output=True, timeout=30)


def ni_oracle(spki_der, suite):
    digest = hashlib.sha256(spki_der).digest()[:SUITES[suite]]
    return "ni:///%s;%s" % (suite, base64.urlsafe_b64encode(digest).decode().rstrip("="))


def spki_of(path, is_cert):
    if is_cert:
        pem = run(["openssl", "x509", "-in", path, "-noout", "-pubkey"]).stdout
        return subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pem, capture_output=True).stdout
    return run(["openssl", "pkey", "-in", path, "-pubout", "-outform", "DER"]).stdout


def ocsp_cases(m2msec, work, f):
    """cert verify --ocsp against `openssl ocsp` answering on loopback (tests/support/ocsp_responder.py)."""
    responder = subprocess.Popen([sys.executable, OCSP_RESPONDER, "--", "-index", os.path.join(work, "index.txt"),
                                  "-CA", f("int.pem"), "-rsigner", f("int.pem"), "-rkey", f("int.key"), "-ndays", "1"],
                                 stdout=subprocess.PIPE, text=True)
    try:
        port = int(re.match(r"ACCEPT 127\.0\.0\.1:(\d+)", responder.stdout.readline()).group(1))
        # A leaf of the test PKI's intermediate that names the responder (authorityInfoAccess).
        ext = os.path.join(work, "ocsp.ext")
        with open(ext, "w") as e:
            e.write("basicConstraints = critical, CA:false\nkeyUsage = critical, digitalSignature\n"
                    "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n"
                    "subjectAltName = DNS:ocsp-cse.m2m.example.com\n"
                    "authorityInfoAccess = OCSP;URI:http://127.0.0.1:%d/\n" % port)
        key, csr, leaf = (os.path.join(work, n) for n in ("ocsp.key", "ocsp.csr", "ocsp.pem"))
        assert run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc",
                    "-keyout", key, "-subj", "/CN=ocsp leaf", "-out", csr]).returncode == 0
        assert run(["openssl", "x509", "-req", "-in", csr, "-CA", f("int.pem"), "-CAkey", f("int.key"),
                    "-set_serial", "0x1234abcd", "-days", "30", "-sha256", "-extfile", ext, "-out", leaf]).returncode == 0
        base = [m2msec, "cert", "verify", "--ocsp", "--ca", f("root.pem"), "--untrusted", f("int.pem"), leaf]
        for status, want in (("V", "ok identity=ocsp-cse.m2m.example.com"), ("R", "fail"), (None, "fail")):
            with open(os.path.join(work, "index.txt"), "w") as index:
                if status == "V":
                    index.write("V\t351231000000Z\t\t1234ABCD\tunknown\t/CN=ocsp leaf\n")
                elif status == "R":
                    index.write("R\t351231000000Z\t240101000000Z\t1234ABCD\tunknown\t/CN=ocsp leaf\n")
            out = run(base)
            line = out.stdout.decode().strip()
            alert = {"R": "alert=44", None: "alert=113"}.get(status, "")
            check("verify --ocsp, responder says %s" % {"V": "good", "R": "revoked", None: "unknown"}[status],
                  line.startswith(want) and alert in line and (out.returncode == 0) == (status == "V"), line)
        out = run([m2msec, "cert", "verify", "--ocsp", "--ca", f("root.pem"), "--untrusted", f("int.pem"), f("server.pem")])
        check("verify --ocsp, no responder named: fails", out.returncode != 0 and out.stdout.decode().startswith("fail"),
              out.stdout.decode())
    finally:
        responder.kill()
        responder.wait()


def stapling_cases(m2msec, work, f):
    """OCSP stapling from the command line: `m2msec saef serve --ocsp-staple` checked by `openssl s_client
    -status`, and `m2msec saef connect --peer-status require-staple` with and without a staple. The response
    is made by `openssl ocsp` from an index that lists server.pem as valid."""
    index, response = os.path.join(work, "staple-index.txt"), os.path.join(work, "staple.der")
    serial = run(["openssl", "x509", "-in", f("server.pem"), "-noout", "-serial"]).stdout.decode().strip().split("=")[1]
    with open(index, "w") as out:
        out.write("V\t351231000000Z\t\t%s\tunknown\t/CN=m2msec test server\n" % serial)
    made = run(["openssl", "ocsp", "-index", index, "-CA", f("int.pem"), "-rsigner", f("int.pem"), "-rkey", f("int.key"),
                "-issuer", f("int.pem"), "-cert", f("server.pem"), "-respout", response, "-ndays", "1"])
    assert made.returncode == 0, made.stderr.decode()
    server = [m2msec, "saef", "serve", "--listen", "127.0.0.1:0", "--cert", f("server.chain.pem"), "--key",
              f("server.key"), "--ca", f("root.pem")]
    client = [m2msec, "saef", "connect", "--sni", "in-cse.m2m.example.com", "--cert", f("client.chain.pem"), "--key",
              f("client.key"), "--ca", f("root.pem"), "--peer-status", "require-staple"]

    def serving(extra):
        child = subprocess.Popen(server + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return child, int(child.stdout.readline().strip().split("=")[1])

    child, port = serving(["--ocsp-staple", response])
    peer = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", "in-cse.m2m.example.com",
                           "-status", "-cert", f("client.pem"), "-key", f("client.key"), "-CAfile", f("root.pem")],
                          input=b"", capture_output=True, timeout=30)
    child.kill()
    child.wait()
    text = peer.stdout.decode()
    check("saef serve --ocsp-staple: openssl s_client -status reads a good staple",
          "OCSP Response Status: successful" in text and "Cert Status: good" in text, text[-600:])
    for extra, want in ((["--ocsp-staple", response], "cipher="), ([], "alert=113")):
        child, port = serving(extra)
        out = subprocess.run(client + ["--connect", "127.0.0.1:%d" % port], input=b"", capture_output=True, timeout=30)
        child.kill()
        child.wait()
        check("saef connect --peer-status require-staple, server %s a staple" % ("with" if extra else "without"),
              want in out.stdout.decode() and (out.returncode == 0) == bool(extra), out.stdout.decode())


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    m2msec = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="m2msec-cert-") as work:
        pki = os.path.join(work, "pki")
        subprocess.run([sys.executable, TESTPKI, pki], check=True, capture_output=True)
        f = lambda name: os.path.join(pki, name)  # noqa: E731

        # RFC 6920 identifiers of a bare key and of a certificate, every suite, both directions.
        for path, is_cert in ((f("rpk_client.key"), False), (f("server.pem"), True)):
            spki = spki_of(path, is_cert)
            for suite in SUITES:
                want = ni_oracle(spki, suite)
                out = run([m2msec, "cert", "ni", path, "--suite", suite])
                check("ni %s %s" % (os.path.basename(path), suite), out.returncode == 0 and
                      out.stdout.decode().strip() == want, "%r want %r" % (out.stdout, want))
                out = run([m2msec, "cert", "ni", path, "--match", want])
                check("ni --match %s %s" % (os.path.basename(path), suite),
                      out.returncode == 0 and out.stdout.decode().strip() == "match", out.stderr.decode())
        other = ni_oracle(spki_of(f("rpk_server.key"), False), "sha-256")
        out = run([m2msec, "cert", "ni", f("rpk_client.key"), "--match", other])
        check("ni --match another key: fails, nothing on stdout", out.returncode != 0 and out.stdout == b"",
              out.stdout.decode())
        for bad in (["--suite", "sha-512"], ["--match", "ni:///sha-256;x"]):
            out = run([m2msec, "cert", "ni", f("rpk_client.key")] + bad)
            check("ni refuses %s" % bad, out.returncode != 0 and out.stdout == b"" and out.stderr != b"", out.stdout)

        # cert verify: one line per certificate, the bound identity or the reason and alert.
        base = [m2msec, "cert", "verify", "--ca", f("root.pem"), "--untrusted", f("int.pem")]
        cases = [
            ("server.pem", [], "ok identity=in-cse.m2m.example.com"),
            ("ae.pem", [], "ok identity=//m2m.example.com/CSE1/Cae1"),
            ("server.pem", ["--id", "in-cse.m2m.example.com"], "ok identity=in-cse.m2m.example.com"),
            ("server.pem", ["--id", "other-cse.m2m.example.com"], "fail alert=42"),
            ("expired.pem", [], "fail alert=45"),
            ("outside.pem", [], "fail alert=42"),
            ("revoked.pem", ["--crl", f("crl.pem")], "fail alert=44"),
            ("rsa.pem", [], "fail alert=42"),
            ("est_client.pem", [], "fail alert=48"),  # its CA (estca) is not given
        ]
        for name, extra, want in cases:
            out = run(base + extra + [f(name)])
            line = out.stdout.decode().strip()
            words = line.split(" ")
            got = " ".join(w for w in words if not w.startswith(("cert=", "reason="))) if line.startswith("fail") else line
            got = got.replace(" cert=" + f(name), "")
            expect_ok = want.startswith("ok")
            check("verify %s %s" % (name, extra), got.startswith(want) and (out.returncode == 0) == expect_ok,
                  "%r (rc %d) want %r" % (line, out.returncode, want))
        out = run(base + [f("server.pem"), f("expired.pem")])
        lines = out.stdout.decode().splitlines()
        check("verify: one line per certificate, non-zero exit when one fails",
              out.returncode != 0 and len(lines) == 2 and lines[0].startswith("ok ") and lines[1].startswith("fail "),
              out.stdout.decode())

        ocsp_cases(m2msec, work, f)
        stapling_cases(m2msec, work, f)

        # cert request: a new P-256 key (0600, never overwriting) and a 10.1.4 CSR that openssl verifies.
        for ident, san in (("//m2m.example.com/CSE1/Cae3", "URI:onem2m://m2m.example.com/CSE1/Cae3"),
                           ("mn1.in-cse.m2m.example.com", "DNS:mn1.in-cse.m2m.example.com")):
            key, csr = os.path.join(work, ident.replace("/", "_") + ".key"), os.path.join(work, "r.csr")
            out = run([m2msec, "cert", "request", "--id", ident, "--key", key, "--csr", csr])
            text = run(["openssl", "req", "-in", csr, "-noout", "-text", "-verify"])
            check("request %s: CSR verifies and asks for %s" % (ident, san),
                  out.returncode == 0 and b"verify OK" in text.stdout + text.stderr and san in text.stdout.decode(),
                  (out.stderr + text.stdout + text.stderr).decode())
            check("request %s: key is P-256 and 0600" % ident, oct(os.stat(key).st_mode & 0o777) == "0o600" and
                  b"prime256v1" in run(["openssl", "pkey", "-in", key, "-noout", "-text"]).stdout)
            out = run([m2msec, "cert", "request", "--id", ident, "--key", key, "--csr", csr])
            check("request %s: an existing key file is not overwritten" % ident, out.returncode != 0, out.stdout)
        for bad in (["--id", "*.m2m.example.com"], ["--id", "x.m2m.example.com", "--flavour", "device"],
                    ["--id", "//m2m.example.com/CSE1/Xbad"], ["--id", "a.example.com", "--flavour", "nope"]):
            key = os.path.join(work, "bad-%d.key" % results["passed"])
            out = run([m2msec, "cert", "request", "--key", key] + bad)
            check("request refuses %s" % bad, out.returncode != 0 and out.stdout == b"" and not os.path.exists(key),
                  (out.stdout + out.stderr).decode())
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

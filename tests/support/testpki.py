#!/usr/bin/env python3
"""Creates a fresh, throwaway test PKI with the `openssl` command-line tool (nothing else).

    testpki.py DIR              write the PKI into DIR (created if missing)
    testpki.py --self-test DIR  write it, then check it with `openssl verify` (an independent oracle)

Every key is generated at run time; nothing here is secret and nothing is checked in. All keys are EC P-256,
all signatures ecdsa-with-SHA256, every certificate carries keyUsage with digitalSignature
(TS-0003 V3.18.0 clauses 10.1.1.1 and 10.1.1.3).

Output (names are relied on by other tests; add files, never rename):
  root.pem root.key          self-signed root CA, the trust anchor
  int.pem int.key            intermediate CA (pathlen:0, nameConstraints permitted;DNS:m2m.example.com)
  crl.pem                    CRL issued by int, valid now, listing revoked.pem
  X.pem X.chain.pem X.key    leaf, leaf + int, PKCS#8 key, for X in:
      server   DNS:in-cse.m2m.example.com          CSE-ID certificate
      client   DNS:mn-cse.in-cse.m2m.example.com   CSE-ID certificate
      ae       URI://m2m.example.com/CSE1/Cae1     AE-ID certificate (scheme-less Absolute AE-ID)
      other    DNS:other-cse.m2m.example.com       valid, another identity
      expired  DNS:expired.m2m.example.com         notAfter in the past
      revoked  DNS:revoked.m2m.example.com         listed in crl.pem
      outside  DNS:evil.other.example              violates int's name constraints
      node     URI:urn:oid:0.2.481.1.100.3030.10011               Node-ID certificate
      device   otherName 0.2.481.1 ; UTF8String "100.3030.10011"  device certificate (TS-0001 Annex H id)
      wildcard DNS:*.m2m.example.com           a wildcard, which TS-0003 10.1.1 forbids (must never match)
  rpk_server.key rpk_client.key            bare P-256 keys (raw public keys, RFC 7250)
  rpk_server.spki.der rpk_client.spki.der  their DER SubjectPublicKeyInfo

Name constraints: OpenSSL's dNSName constraint "m2m.example.com" also permits every subdomain, so one
subtree covers all CSE-ID names. There is deliberately NO uniformResourceIdentifier subtree: OpenSSL
(crypto/x509/v3_ncons.c, nc_uri) treats a URI without "scheme://" as a violation of any URI constraint,
and the Absolute AE-ID "//m2m.example.com/CSE1/Cae1" has no scheme (OpenSSL 3.0 reports error 53, "unsupported
or invalid name syntax", for it and for node.pem under permitted;URI:m2m.example.com), so URI names are
left unconstrained.
"""
import os
import secrets
import subprocess
import sys
import tempfile

LEAVES = {
    "server": "DNS:in-cse.m2m.example.com",
    "client": "DNS:mn-cse.in-cse.m2m.example.com",
    "ae": "URI://m2m.example.com/CSE1/Cae1",
    "other": "DNS:other-cse.m2m.example.com",
    "expired": "DNS:expired.m2m.example.com",
    "revoked": "DNS:revoked.m2m.example.com",
    "outside": "DNS:evil.other.example",
    "node": "URI:urn:oid:0.2.481.1.100.3030.10011",
    "device": "otherName:0.2.481.1;UTF8:100.3030.10011",
    "wildcard": "DNS:*.m2m.example.com",
}
GOOD = ("server", "client", "ae", "other", "node", "device")
EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-pkeyopt", "ec_param_enc:named_curve"]

CONFIG = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused

[ ca ]
default_ca = int_ca
[ int_ca ]
dir = {work}
database = $dir/index.txt
new_certs_dir = $dir/new
certificate = {out}/int.pem
private_key = {out}/int.key
rand_serial = yes
crlnumber = $dir/crlnumber
default_md = sha256
default_crl_days = 30
policy = any
unique_subject = no
email_in_dn = no
crl_extensions = crl_ext
[ any ]
commonName = supplied
[ crl_ext ]
authorityKeyIdentifier = keyid:always

[ root_ext ]
basicConstraints = critical, CA:true
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ int_ext ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
nameConstraints = critical, permitted;DNS:m2m.example.com
"""

LEAF_EXT = """
[ {name}_ext ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = {san}
"""


class Failure(Exception):
    pass


def openssl(*args, env=None):
    done = subprocess.run(["openssl", *args], capture_output=True, env=env)
    if done.returncode != 0:
        raise Failure("openssl %s failed:\n%s" % (" ".join(args), done.stderr.decode(errors="replace")))
    return done


def generate(out):
    os.makedirs(out, exist_ok=True)
    out = os.path.abspath(out)
    with tempfile.TemporaryDirectory(prefix="testpki-") as work:
        os.mkdir(os.path.join(work, "new"))
        open(os.path.join(work, "index.txt"), "w").close()
        with open(os.path.join(work, "crlnumber"), "w") as f:
            f.write("01\n")
        cnf = os.path.join(work, "openssl.cnf")
        with open(cnf, "w") as f:
            f.write(CONFIG.format(work=work, out=out))
            for name, san in LEAVES.items():
                f.write(LEAF_EXT.format(name=name, san=san))
        # Our own config only: the machine's openssl.cnf (providers, engines) must not change the output.
        env = dict(os.environ, OPENSSL_CONF=cnf)
        path = lambda name: os.path.join(out, name)  # noqa: E731
        tmp = lambda name: os.path.join(work, name)  # noqa: E731

        openssl("req", "-x509", "-new", *EC, "-noenc", "-keyout", path("root.key"), "-out", path("root.pem"),
                "-subj", "/CN=m2msec test root CA", "-days", "3650", "-sha256", "-config", cnf,
                "-extensions", "root_ext", "-set_serial", "0x" + secrets.token_hex(16), env=env)
        openssl("req", "-new", *EC, "-noenc", "-keyout", path("int.key"), "-out", tmp("int.csr"),
                "-subj", "/CN=m2msec test intermediate CA", "-config", cnf, env=env)
        openssl("x509", "-req", "-in", tmp("int.csr"), "-CA", path("root.pem"), "-CAkey", path("root.key"),
                "-set_serial", "0x" + secrets.token_hex(16), "-days", "3650", "-sha256",
                "-extfile", cnf, "-extensions", "int_ext", "-out", path("int.pem"), env=env)

        for name in LEAVES:
            # A CN without dots, so OpenSSL never mistakes it for a host name under the DNS constraint.
            openssl("req", "-new", *EC, "-noenc", "-keyout", path(name + ".key"), "-out", tmp(name + ".csr"),
                    "-subj", "/CN=m2msec test " + name, "-config", cnf, env=env)
            validity = (["-startdate", "20200101000000Z", "-enddate", "20210101000000Z"] if name == "expired"
                        else ["-days", "365"])
            openssl("ca", "-batch", "-config", cnf, "-in", tmp(name + ".csr"), "-out", path(name + ".pem"),
                    "-notext", "-extensions", name + "_ext", *validity, env=env)
            with open(path(name + ".pem")) as leaf, open(path("int.pem")) as inter:
                chain = leaf.read() + inter.read()
            with open(path(name + ".chain.pem"), "w") as f:
                f.write(chain)

        openssl("ca", "-batch", "-config", cnf, "-revoke", path("revoked.pem"), "-crl_reason", "keyCompromise",
                env=env)
        openssl("ca", "-batch", "-config", cnf, "-gencrl", "-out", path("crl.pem"), env=env)

        for name in ("rpk_server", "rpk_client"):
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-pkeyopt", "ec_param_enc:named_curve", "-out", path(name + ".key"), env=env)
            openssl("pkey", "-in", path(name + ".key"), "-pubout", "-outform", "DER",
                    "-out", path(name + ".spki.der"), env=env)


def verify(out, name, *extra):
    args = ["verify", "-x509_strict", "-CAfile", os.path.join(out, "root.pem"),
            "-untrusted", os.path.join(out, "int.pem"), *extra, os.path.join(out, name + ".pem")]
    return subprocess.run(["openssl", *args], capture_output=True).returncode == 0


def self_test(out):
    """The PKI must be what its users expect, as judged by `openssl verify` (not by m2msec)."""
    crl = ("-crl_check", "-CRLfile", os.path.join(out, "crl.pem"))
    problems = []
    for name in GOOD:
        if not verify(out, name):
            problems.append(name + " does not verify")
        if not verify(out, name, *crl):
            problems.append(name + " does not verify with the CRL")
    for name in ("expired", "outside"):
        if verify(out, name):
            problems.append(name + " verifies")
    if not verify(out, "revoked"):
        problems.append("revoked does not verify without the CRL")
    if verify(out, "revoked", *crl):
        problems.append("revoked verifies with the CRL")
    if problems:
        raise Failure("self-test: " + "; ".join(problems))


def main(argv):
    args = argv[1:]
    check = bool(args) and args[0] == "--self-test"
    if check:
        args = args[1:]
    if len(args) != 1:
        print("usage: testpki.py [--self-test] DIR", file=sys.stderr)
        return 2
    try:
        generate(args[0])
        if check:
            self_test(os.path.abspath(args[0]))
    except (Failure, OSError) as e:
        print("testpki.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

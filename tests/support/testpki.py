#!/usr/bin/env python3
"""Creates a fresh, throwaway test PKI with the `openssl` command-line tool (nothing else).

    testpki.py DIR              write the PKI into DIR (created if missing)
    testpki.py --self-test DIR  write it, then check it with `openssl verify` (an independent oracle)

Every key is generated at run time; nothing here is secret and nothing is checked in. Every key is EC P-256,
every signature ecdsa-with-SHA256 and every certificate carries keyUsage with digitalSignature
(TS-0003 V3.18.0 clauses 10.1.1.1 and 10.1.1.3), except the two leaves made to break that profile
(rsa, nokeyusage).

Output (names are relied on by other tests; add files, never rename):
  root.pem root.key          self-signed root CA, the trust anchor
  int.pem int.key            intermediate CA (pathlen:0, nameConstraints permitted;DNS:m2m.example.com)
  crl.pem                    CRL issued by int, valid now, listing revoked.pem
  estca.pem estca.key        a second intermediate below root, the MEF's issuing CA (pathlen:0,
                             nameConstraints permitted;DNS:m2m.example.com, permitted;URI:m2m.example.com,
                             permitted;URI:.m2m.example.com)
  estca.crl.pem              CRL issued by estca, valid now, listing est_revoked.pem
  X.pem X.chain.pem X.key    leaf, leaf + its issuing CA, PKCS#8 key, for X in:
    issued by int:
      server     DNS:in-cse.m2m.example.com          CSE-ID certificate
      client     DNS:mn-cse.in-cse.m2m.example.com   CSE-ID certificate
      ae         URI://m2m.example.com/CSE1/Cae1     AE-ID certificate (scheme-less Absolute AE-ID, legacy)
      other      DNS:other-cse.m2m.example.com       valid, another identity
      expired    DNS:expired.m2m.example.com         notAfter in the past
      revoked    DNS:revoked.m2m.example.com         listed in crl.pem
      outside    DNS:evil.other.example              violates int's name constraints
      node       URI:urn:oid:0.2.481.1.100.3030.10011               Node-ID certificate
      device     otherName 0.2.481.1 ; UTF8String "100.3030.10011"  device certificate (TS-0001 Annex H id)
      wildcard   DNS:*.m2m.example.com           a wildcard, which TS-0003 10.1.1 forbids (must never match)
      mef        DNS:mef.m2m.example.com         FQDN certificate of the MEF
      rsa        DNS:rsa.m2m.example.com         an RSA-2048 key: outside the 10.1.1.1 profile
      nokeyusage DNS:nokeyusage.m2m.example.com  P-256 without keyUsage: outside the 10.1.1.1 profile
    issued by estca:
      est_client  DNS:mn-cse2.in-cse.m2m.example.com    CSE-ID certificate
      est_revoked DNS:revoked2.m2m.example.com          listed in estca.crl.pem
      est_expired DNS:expired2.m2m.example.com          notAfter in the past
      ae_scheme   URI:onem2m://m2m.example.com/CSE1/Cae2  AE-ID certificate as m2msec issues them
  rpk_server.key rpk_client.key            bare P-256 keys (raw public keys, RFC 7250)
  rpk_server.spki.der rpk_client.spki.der  their DER SubjectPublicKeyInfo

Name constraints: OpenSSL's dNSName constraint "m2m.example.com" also permits every subdomain, so one
subtree covers all CSE-ID names. int has NO uniformResourceIdentifier subtree: OpenSSL (crypto/x509/v3_ncons.c,
nc_uri) treats a URI without "scheme://" as a violation of any URI constraint (OpenSSL 3.0 reports error 53,
"unsupported or invalid name syntax"), so the scheme-less ae.pem and node.pem ("urn:...") only validate
below a CA without one. estca has one: its AE-ID certificates carry "onem2m:" + the Absolute AE-ID, whose
host is the M2M-SP-ID that the constraint names (TS-0003 10.1.1.5). The self-test shows both sides.
"""
import os
import secrets
import subprocess
import sys
import tempfile

LEAVES = {  # issued by int
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
    "mef": "DNS:mef.m2m.example.com",
    "rsa": "DNS:rsa.m2m.example.com",
    "nokeyusage": "DNS:nokeyusage.m2m.example.com",
}
EST_LEAVES = {  # issued by estca
    "est_client": "DNS:mn-cse2.in-cse.m2m.example.com",
    "est_revoked": "DNS:revoked2.m2m.example.com",
    "est_expired": "DNS:expired2.m2m.example.com",
    "ae_scheme": "URI:onem2m://m2m.example.com/CSE1/Cae2",
}
GOOD = ("server", "client", "ae", "other", "node", "device")
# Valid for `openssl verify`, which knows nothing of TS-0003 10.1.1: only m2msec's profile check refuses them.
OUT_OF_PROFILE = ("rsa", "nokeyusage")
EST_GOOD = ("est_client", "ae_scheme")
EXPIRED = ("expired", "est_expired")
EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-pkeyopt", "ec_param_enc:named_curve"]
RSA = ["-newkey", "rsa:2048"]
ESTCA_CONSTRAINTS = ("critical, permitted;DNS:m2m.example.com, permitted;URI:m2m.example.com, "
                     "permitted;URI:.m2m.example.com")

CONFIG = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused

[ ca ]
default_ca = int_ca
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
[ estca_ext ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
nameConstraints = {estca_constraints}
"""

# One `openssl ca` section per issuing CA: its database directory and its certificate and key.
CA_SECTION = """
[ {name}_ca ]
dir = {db}
database = $dir/index.txt
new_certs_dir = $dir/new
certificate = {out}/{name}.pem
private_key = {out}/{name}.key
rand_serial = yes
crlnumber = $dir/crlnumber
default_md = sha256
default_crl_days = 30
policy = any
unique_subject = no
email_in_dn = no
crl_extensions = crl_ext
"""

LEAF_EXT = """
[ {name}_ext ]
basicConstraints = critical, CA:false
{key_usage}
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


def issue_leaves(leaves, ca, cnf, env, path, tmp):
    """Issues each leaf with `openssl ca -name <ca>_ca` and writes X.pem, X.key and X.chain.pem."""
    for name in leaves:
        # A CN without dots, so OpenSSL never mistakes it for a host name under the DNS constraint.
        openssl("req", "-new", *(RSA if name == "rsa" else EC), "-noenc", "-keyout", path(name + ".key"),
                "-out", tmp(name + ".csr"), "-subj", "/CN=m2msec test " + name, "-config", cnf, env=env)
        validity = (["-startdate", "20200101000000Z", "-enddate", "20210101000000Z"] if name in EXPIRED
                    else ["-days", "365"])
        openssl("ca", "-batch", "-config", cnf, "-name", ca + "_ca", "-in", tmp(name + ".csr"),
                "-out", path(name + ".pem"), "-notext", "-extensions", name + "_ext", *validity, env=env)
        with open(path(name + ".pem")) as leaf, open(path(ca + ".pem")) as issuer:
            chain = leaf.read() + issuer.read()
        with open(path(name + ".chain.pem"), "w") as f:
            f.write(chain)


def generate(out):
    os.makedirs(out, exist_ok=True)
    out = os.path.abspath(out)
    with tempfile.TemporaryDirectory(prefix="testpki-") as work:
        for db in (work, os.path.join(work, "est")):
            os.makedirs(os.path.join(db, "new"))
            open(os.path.join(db, "index.txt"), "w").close()
            with open(os.path.join(db, "crlnumber"), "w") as f:
                f.write("01\n")
        cnf = os.path.join(work, "openssl.cnf")
        with open(cnf, "w") as f:
            f.write(CONFIG.format(estca_constraints=ESTCA_CONSTRAINTS))
            for name, db in (("int", work), ("estca", os.path.join(work, "est"))):
                f.write(CA_SECTION.format(name=name, db=db, out=out))
            for name, san in {**LEAVES, **EST_LEAVES}.items():
                key_usage = "" if name == "nokeyusage" else "keyUsage = critical, digitalSignature"
                f.write(LEAF_EXT.format(name=name, san=san, key_usage=key_usage))
        # Our own config only: the machine's openssl.cnf (providers, engines) must not change the output.
        env = dict(os.environ, OPENSSL_CONF=cnf)
        path = lambda name: os.path.join(out, name)  # noqa: E731
        tmp = lambda name: os.path.join(work, name)  # noqa: E731

        openssl("req", "-x509", "-new", *EC, "-noenc", "-keyout", path("root.key"), "-out", path("root.pem"),
                "-subj", "/CN=m2msec test root CA", "-days", "3650", "-sha256", "-config", cnf,
                "-extensions", "root_ext", "-set_serial", "0x" + secrets.token_hex(16), env=env)
        for ca, cn in (("int", "m2msec test intermediate CA"), ("estca", "m2msec test EST CA")):
            openssl("req", "-new", *EC, "-noenc", "-keyout", path(ca + ".key"), "-out", tmp(ca + ".csr"),
                    "-subj", "/CN=" + cn, "-config", cnf, env=env)
            openssl("x509", "-req", "-in", tmp(ca + ".csr"), "-CA", path("root.pem"), "-CAkey", path("root.key"),
                    "-set_serial", "0x" + secrets.token_hex(16), "-days", "3650", "-sha256",
                    "-extfile", cnf, "-extensions", ca + "_ext", "-out", path(ca + ".pem"), env=env)

        issue_leaves(LEAVES, "int", cnf, env, path, tmp)
        issue_leaves(EST_LEAVES, "estca", cnf, env, path, tmp)

        for ca, revoked, crl in (("int", "revoked", "crl"), ("estca", "est_revoked", "estca.crl")):
            openssl("ca", "-batch", "-config", cnf, "-name", ca + "_ca", "-revoke", path(revoked + ".pem"),
                    "-crl_reason", "keyCompromise", env=env)
            openssl("ca", "-batch", "-config", cnf, "-name", ca + "_ca", "-gencrl", "-out", path(crl + ".pem"),
                    env=env)

        for name in ("rpk_server", "rpk_client"):
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-pkeyopt", "ec_param_enc:named_curve", "-out", path(name + ".key"), env=env)
            openssl("pkey", "-in", path(name + ".key"), "-pubout", "-outform", "DER",
                    "-out", path(name + ".spki.der"), env=env)


def openssl_verify(out, leaf, issuer, *extra):
    """`openssl verify -x509_strict` of the file leaf to root.pem through <issuer>.pem: (passed, output)."""
    args = ["verify", "-x509_strict", "-CAfile", os.path.join(out, "root.pem"),
            "-untrusted", os.path.join(out, issuer + ".pem"), *extra, leaf]
    done = subprocess.run(["openssl", *args], capture_output=True)
    return done.returncode == 0, (done.stdout + done.stderr).decode(errors="replace")


def verify(out, name, *extra, issuer="int"):
    return openssl_verify(out, os.path.join(out, name + ".pem"), issuer, *extra)[0]


def estca_leaf(out, work, name, san):
    """A throwaway leaf issued by estca (self-test only), written as <work>/<name>.pem."""
    ext = os.path.join(work, name + ".cnf")
    with open(ext, "w") as f:
        f.write("[ req ]\ndistinguished_name = dn\nprompt = no\n[ dn ]\nCN = unused\n" +
                LEAF_EXT.format(name="leaf", san=san, key_usage="keyUsage = critical, digitalSignature"))
    env = dict(os.environ, OPENSSL_CONF=ext)
    csr = os.path.join(work, name + ".csr")
    openssl("req", "-new", *EC, "-noenc", "-keyout", os.path.join(work, name + ".key"), "-out", csr,
            "-subj", "/CN=m2msec test " + name, "-config", ext, env=env)
    openssl("x509", "-req", "-in", csr, "-CA", os.path.join(out, "estca.pem"), "-CAkey",
            os.path.join(out, "estca.key"), "-set_serial", "0x" + secrets.token_hex(16), "-days", "1", "-sha256",
            "-extfile", ext, "-extensions", "leaf_ext", "-out", os.path.join(work, name + ".pem"), env=env)


def self_test(out):
    """The PKI must be what its users expect, as judged by `openssl verify` (not by m2msec)."""
    crl = ("-crl_check", "-CRLfile", os.path.join(out, "crl.pem"))
    est_crl = ("-crl_check", "-CRLfile", os.path.join(out, "estca.crl.pem"))
    problems = []
    for name in GOOD + ("mef",) + OUT_OF_PROFILE:
        if not verify(out, name):
            problems.append(name + " does not verify")
        if not verify(out, name, *crl):
            problems.append(name + " does not verify with the CRL")
    for name in EST_GOOD:
        if not verify(out, name, issuer="estca"):
            problems.append(name + " does not verify")
        if not verify(out, name, *est_crl, issuer="estca"):
            problems.append(name + " does not verify with the estca CRL")
    for name, issuer in (("expired", "int"), ("outside", "int"), ("est_expired", "estca")):
        if verify(out, name, issuer=issuer):
            problems.append(name + " verifies")
    for name, issuer, revoked_crl in (("revoked", "int", crl), ("est_revoked", "estca", est_crl)):
        if not verify(out, name, issuer=issuer):
            problems.append(name + " does not verify without the CRL")
        if verify(out, name, *revoked_crl, issuer=issuer):
            problems.append(name + " verifies with the CRL")
    # estca's URI constraint (TS-0003 10.1.1.5): ae_scheme passed it above; the scheme-less Absolute AE-ID
    # (error 53, unsupported name syntax) and an AE-ID of another M2M-SP (error 47, permitted subtree
    # violation) must not.
    with tempfile.TemporaryDirectory(prefix="testpki-self-test-") as work:
        for name, san, error in (("ae_noscheme", "URI://m2m.example.com/CSE1/Cae3", "error 53"),
                                 ("ae_other_sp", "URI:onem2m://m2m.other.example/CSE1/Cae3", "error 47")):
            estca_leaf(out, work, name, san)
            passed, text = openssl_verify(out, os.path.join(work, name + ".pem"), "estca")
            if passed or error not in text:
                problems.append("%s (%s) under estca: expected %s, got: %s" % (name, san, error, text.strip()))
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

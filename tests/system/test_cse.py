#!/usr/bin/env python3
"""The secure hosting CSE (`m2msecd --roles cse`) end to end, real processes on loopback, driven only by
independent peers: `openssl s_client` over TLS 1.2 PSK (TS-0003 V3.18.0 8.2.2.1, 10.2.2) speaking hand-written
oneM2M HTTP (TS-0009 V3.9.1), jwcrypto (Debian's /usr/bin/python3) issuing the tokens, Python's http.server as
the notification target.

  - TS-0013 TD_M2M_SE_01: AE registration over TLS_PSK_WITH_AES_128_CBC_SHA256 with the PSK identity
    test@onem2m.com; wrong key and unknown identity fail the handshake alike; a credential, an App-ID or an
    AE-ID the app rules do not allow is refused 4126 APP_RULE_VALIDATION_FAILED.
  - Access control (TS-0003 7.1): CRUD under an <accessControlPolicy>, the originator bound to the association
    (4106), no association (plain HTTP) no answer, accessControlPolicyIDs updates under selfPrivileges,
    discovery filtered by DISCOVERY, IP-address and time-window contexts.
  - Tokens (TS-0003 7.3): an HS256 oneM2M JWT granting what the policy does not; expired and wrong-holder
    tokens grant nothing.
  - A subscription: the verification request, then a notification on a contentInstance CREATE.
  - A restart keeps the resources; the TS-0019 Upper Tester endpoint answers Status.
  - The IBC-based SAEF (docs/ibc-saef.md): IBC credentials from `m2msec ibc kms-init|issue`; `m2msec ibc saef`
    runs the exchange with the CSE, and openssl s_client registers the AE with the derived PSK, bound to the
    AE-ID in its ID_2; credentials of another KMS and a wrong key get nothing.

usage: test_cse.py M2MSECD WORKDIR M2MSEC [-v]

Expectations are the specification's status codes and the JSON the test sent. Every key is fresh (os.urandom).
Prints 'N passed, N failed' last and exits non-zero on any failure.
"""
import base64
import functools
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import checks  # noqa: E402  (tests/support: check, run, results)
from checks import HttpAnswer, check, results  # noqa: E402

WAIT = 20
run = functools.partial(checks.run, timeout=WAIT)
SP_ID = "//m2msec.example"
CSE_ID = "/id-in"
CSE_NAME = "cse-in"
ISSUER = "das.example.com"
AE1_ID, AE1_PSK = "test@onem2m.com", "test@onem2m.com"  # TS-0013 TD_M2M_SE_01's identity
AE2_PSK = "ae2@onem2m.com"
OTHER_PSK = "other@onem2m.com"  # known key, no app rule
ADMIN_PSK = "admin@m2msec.example"
CIPHER = "PSK-AES128-CBC-SHA256"  # OpenSSL's name of TLS_PSK_WITH_AES_128_CBC_SHA256

started = []


class Daemon:
    def __init__(self, m2msecd, args, work, name):
        self.out_path = os.path.join(work, name + ".stdout")
        with open(self.out_path, "wb") as out, open(os.path.join(work, name + ".stderr"), "wb") as err:
            self.proc = subprocess.Popen([m2msecd] + args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        started.append(self)
        deadline = time.time() + WAIT
        self.port = None
        while time.time() < deadline and self.proc.poll() is None:
            with open(self.out_path, errors="replace") as f:
                found = re.findall(r"^listening role=cse url=https://127\.0\.0\.1:(\d+)$", f.read(), re.M)
            if found:
                self.port = int(found[0])
                break
            time.sleep(0.02)

    def stop(self):
        return checks.stop(self.proc, WAIT)


def s_client(port, request, psk_id, psk, quiet=True):
    """One exchange over TLS 1.2 PSK driven by `openssl s_client`. SNI is mandatory (TS-0003 10.2.1)."""
    args = ["openssl", "s_client", "-ign_eof", "-tls1_2", "-cipher", CIPHER, "-psk", psk, "-psk_identity", psk_id,
            "-servername", "cse.m2msec.example", "-connect", "127.0.0.1:%d" % port]
    return run(args + (["-quiet"] if quiet else []), data=request)


def request_bytes(method, path, origin, ri, body=None, ty=None, headers=None):
    head = "%s %s HTTP/1.1\r\nHost: cse.m2msec.example\r\nX-M2M-Origin: %s\r\nX-M2M-RI: %s\r\nX-M2M-RVI: 3\r\n" % (
        method, path, origin, ri)
    for name, value in (headers or {}).items():
        head += "%s: %s\r\n" % (name, value)
    payload = b""
    if body is not None:
        payload = json.dumps(body).encode()
        head += "Content-Type: application/json%s\r\nContent-Length: %d\r\n" % (";ty=%d" % ty if ty else "", len(payload))
    return head.encode() + b"Connection: close\r\n\r\n" + payload


class Peer:
    """An AE (or the admin) behind one PSK credential."""

    def __init__(self, port, psk_id, key, origin):
        self.port, self.psk_id, self.key, self.origin = port, psk_id, key, origin
        self.count = 0

    def send(self, method, path, body=None, ty=None, origin=None, headers=None):
        self.count += 1
        ri = "%s-%d" % (self.psk_id.split("@")[0], self.count)
        req = request_bytes(method, path, origin or self.origin, ri, body, ty, headers)
        return HttpAnswer(s_client(self.port, req, self.psk_id, self.key))


def inner(raw, root):
    return (raw.json or {}).get(root, {}) if isinstance(raw.json, dict) else {}


def token(key_hex, holder, not_before, not_after, permissions, audience=None):
    """A oneM2M JWT (TS-0003 Table 7.3.2.6.2-1 claim names), HS256, issued by jwcrypto in Debian's Python."""
    claims = {"tkvr": "1", "jti": "tk%s@%s" % (os.urandom(4).hex(), ISSUER), "azp": holder, "iss": ISSUER,
              "nbf": int(not_before), "exp": int(not_after), "aud": [audience or SP_ID + CSE_ID], "tkps": permissions}
    script = ("import json,sys\nfrom jwcrypto import jwk, jws\n"
              "a=json.load(sys.stdin)\nk=jwk.JWK(kty='oct',k=a['k'])\n"
              "s=jws.JWS(json.dumps(a['claims']).encode())\n"
              "s.add_signature(k,None,json.dumps({'alg':'HS256','typ':'JWT'}))\n"
              "print(s.serialize(compact=True))\n")
    k = base64.urlsafe_b64encode(bytes.fromhex(key_hex)).rstrip(b"=").decode()
    done = run(["/usr/bin/python3", "-c", script], data=json.dumps({"k": k, "claims": claims}).encode())
    return done.stdout.decode().strip(), done


class Notifications(http.server.BaseHTTPRequestHandler):
    """A notification target: answers every NOTIFY 2000 (TS-0009: X-M2M-RSC, the request's X-M2M-RI)."""
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Notifications.received.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("X-M2M-RSC", "2000")
        self.send_header("X-M2M-RI", self.headers.get("X-M2M-RI", ""))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def wait_until(condition, seconds=WAIT):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


IBC_AE = "CAE3"  # the AE whose IBC credential opens the IBC-based SAEF


def ibc_credentials(m2msec, work):
    """IBC credential files (the `m2msec enrol --ibc-out` form) for the CSE and an AE from one KMS, and one for the
    same AE from another KMS; ID_2 = FQDN@hexBinary(ID)@expirationTime, valid for a day."""
    expires = time.strftime("%Y%m%dT%H%M%S", time.gmtime(time.time() + 86400))
    out = {}
    for kms_name, who, ident in (("kms", "cse", CSE_ID), ("kms", "ae", IBC_AE), ("other-kms", "foreign-ae", IBC_AE)):
        master = os.path.join(work, kms_name)
        if not os.path.exists(master):
            made = run([m2msec, "ibc", "kms-init", "--out", master])
            check("ibc: m2msec ibc kms-init (%s)" % kms_name, made.returncode == 0, made.stderr)
        id2 = "localhost@%s@%s" % (ident.encode().hex(), expires)
        issued = run([m2msec, "ibc", "issue", "--kms", master, "--id", id2])
        values = dict(line.split("=", 1) for line in issued.stdout.decode().splitlines() if "=" in line)
        check("ibc: m2msec ibc issue for %s" % who, issued.returncode == 0 and values.get("ssk"), issued.stderr)
        out[who] = os.path.join(work, who + ".cred")
        with open(out[who], "w") as f:
            f.write("id2=%s\n" % id2 + "".join("%s=%s\n" % (k, values.get(k, "")) for k in ("ssk", "pvt", "kpak", "rsk", "z")))
        os.chmod(out[who], 0o600)
    return out


def ibc_saef(m2msec, daemon, ibc):
    with open(daemon.out_path, errors="replace") as f:
        urls = re.findall(r"^listening role=cse-ibc-saef url=(\S+)$", f.read(), re.M)
    if not check("ibc: the CSE answers IBC-SAEF message 1 on its own listener", urls):
        return
    done = run([m2msec, "ibc", "saef", "--credential", ibc["ae"], "--url", urls[0], "--responder", CSE_ID,
                "--show-secrets"])
    got = dict(line.split("=", 1) for line in done.stdout.decode().splitlines() if "=" in line)
    check("ibc: m2msec ibc saef authenticates the CSE (peer = its CSE-ID) and derives a PSK",
          done.returncode == 0 and got.get("peer") == CSE_ID and got.get("psk-identity", "").startswith("ibc-saef:") and
          len(got.get("psk", "")) == 64, done.stdout + done.stderr)
    ae3 = Peer(daemon.port, got.get("psk-identity", "none"), got.get("psk", "00"), IBC_AE)
    r = ae3.send("POST", "/" + CSE_NAME, {"m2m:ae": {"api": "Nallowed.ibc", "rr": False, "srv": ["3"]}}, 2)
    check("ibc: s_client with the derived PSK registers the AE of the ID_2: 2001",
          r.rsc == 2001 and inner(r, "m2m:ae").get("aei", "").endswith(IBC_AE), r)
    r = ae3.send("GET", "/" + CSE_NAME + "/cnt1", origin="CAE1")
    check("ibc: another AE's ID over that association: 4106", r.rsc == 4106, r)
    wrong = s_client(daemon.port, request_bytes("GET", "/" + CSE_NAME, IBC_AE, "ibc-wrong"),
                     got.get("psk-identity", "none"), os.urandom(32).hex())
    check("ibc: the psk_identity with another key fails the handshake", b"HTTP/1.1" not in wrong.stdout, wrong.stdout[-200:])
    done = run([m2msec, "ibc", "saef", "--credential", ibc["foreign-ae"], "--url", urls[0], "--responder", CSE_ID,
                "--show-secrets"])
    check("ibc: an AE credential of another KMS: refused, no key", done.returncode != 0 and b"psk=" not in done.stdout,
          done.stdout + done.stderr)
    done = run([m2msec, "ibc", "saef", "--credential", ibc["ae"], "--url", urls[0], "--responder", "/id-other",
                "--show-secrets"])
    check("ibc: message 1 for another responder: refused, no key", done.returncode != 0 and b"psk=" not in done.stdout,
          done.stdout + done.stderr)


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    m2msecd, work, m2msec = sys.argv[1], sys.argv[2], sys.argv[3]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    ibc = ibc_credentials(m2msec, work)
    keys = {name: os.urandom(32).hex() for name in (AE1_PSK, AE2_PSK, OTHER_PSK, ADMIN_PSK)}
    issuer_key = os.urandom(32).hex()
    with open(os.path.join(work, "psk"), "w") as f:
        f.write("# psk identity, key\n" + "".join("%s %s\n" % item for item in keys.items()))
    with open(os.path.join(work, "rules"), "w") as f:
        f.write("%s Nallowed* CAE1\n%s Nallowed* CAE2\n%s Nallowed* %s\n" % (AE1_PSK, AE2_PSK, IBC_AE, IBC_AE))
    jwk = {"kty": "oct", "k": base64.urlsafe_b64encode(bytes.fromhex(issuer_key)).rstrip(b"=").decode(), "alg": "HS256"}
    with open(os.path.join(work, "issuers.json"), "w") as f:
        json.dump({"issuers": [{"id": ISSUER, "keys": {"keys": [jwk]}, "allow_unsecured": False}]}, f)
    args = ["--roles", "cse", "--listen", "127.0.0.1:0", "--psk-file", os.path.join(work, "psk"),
            "--data-dir", os.path.join(work, "data"), "--app-rules", os.path.join(work, "rules"),
            "--admin-credential", ADMIN_PSK, "--token-issuers", os.path.join(work, "issuers.json"),
            "--cse-id", CSE_ID, "--sp-id", SP_ID, "--cse-name", CSE_NAME, "--upper-tester",
            "--ibc-credential", ibc["cse"], "--ibc-saef-listen", "127.0.0.1:0"]
    daemon = Daemon(m2msecd, args, work, "cse")
    if not check("m2msecd --roles cse prints its listener", daemon.port is not None):
        return 1
    port = daemon.port

    # ---- TS-0013 TD_M2M_SE_01 ----------------------------------------------------------------------------
    ae1_body = {"m2m:ae": {"api": "Nallowed.app1", "rr": False, "srv": ["3"]}}
    done = s_client(port, request_bytes("POST", "/" + CSE_NAME, "CAE1", "reg-1", ae1_body, 2), AE1_PSK, keys[AE1_PSK],
                    quiet=False)
    text = done.stdout.decode(errors="replace")
    check("TD_M2M_SE_01: negotiated TLSv1.2 with %s" % CIPHER,
          re.search(r"Protocol\s*:\s*TLSv1\.2", text) and re.search(r"Cipher\s*(is|:)\s*" + CIPHER, text), text[-600:])
    reg = HttpAnswer(done)
    ae = inner(reg, "m2m:ae")
    check("TD_M2M_SE_01: AE registration 201 / 2001 with the AE", reg.http == 201 and reg.rsc == 2001 and
          ae.get("api") == "Nallowed.app1" and ae.get("aei", "").endswith("CAE1"), reg)
    for name, psk_id, key in (("a wrong key", AE1_PSK, os.urandom(32).hex()),
                              ("an unknown identity", "nobody@onem2m.com", keys[AE1_PSK])):
        bad = s_client(port, request_bytes("POST", "/" + CSE_NAME, "CAE1", "x", ae1_body, 2), psk_id, key)
        check("TD_M2M_SE_01: %s fails the handshake, no response" % name,
              b"HTTP/1.1" not in bad.stdout and bad.returncode != 0, bad.stdout[-200:])
    alerts = [re.findall(rb"alert number (\d+)|alert (\w[\w ]*)", s_client(
        port, b"", pid, key).stderr) for pid, key in ((AE1_PSK, os.urandom(32).hex()), ("nobody@onem2m.com", keys[AE1_PSK]))]
    check("TD_M2M_SE_01: wrong key and unknown identity look the same on the wire (the same alert)",
          alerts[0] and alerts[0] == alerts[1], alerts)

    ae2 = Peer(port, AE2_PSK, keys[AE2_PSK], "CAE2")
    ae1 = Peer(port, AE1_PSK, keys[AE1_PSK], "CAE1")
    admin = Peer(port, ADMIN_PSK, keys[ADMIN_PSK], "CAdmin")
    other = Peer(port, OTHER_PSK, keys[OTHER_PSK], "COther")
    r = other.send("POST", "/" + CSE_NAME, {"m2m:ae": {"api": "Nallowed.x", "rr": False, "srv": ["3"]}}, 2)
    check("registration under a credential no app rule admits: 4126", r.rsc == 4126 and r.http == 403, r)
    r = ae2.send("POST", "/" + CSE_NAME, {"m2m:ae": {"api": "Nforbidden", "rr": False, "srv": ["3"]}}, 2)
    check("registration with an App-ID the rule does not allow: 4126", r.rsc == 4126, r)
    r = ae2.send("POST", "/" + CSE_NAME, {"m2m:ae": {"api": "Nallowed.app2", "rr": False, "srv": ["3"]}}, 2,
                 origin="CAE9")
    check("registration with an AE-ID the rule does not allow: 4126", r.rsc == 4126, r)
    r = ae2.send("POST", "/" + CSE_NAME, {"m2m:ae": {"api": "Nallowed.app2", "rr": False, "srv": ["3"]}}, 2)
    check("AE2 registers: 2001", r.rsc == 2001, r)

    # ---- an ACP on a container ------------------------------------------------------------------------------
    base = "/" + CSE_NAME
    r = admin.send("POST", base, {"m2m:cnt": {"rn": "cnt1"}}, 3)
    cnt1 = inner(r, "m2m:cnt").get("ri", "")
    check("admin creates cnt1: 2001", r.rsc == 2001 and inner(r, "m2m:cnt").get("rn") == "cnt1", r)
    acp = {"m2m:acp": {"rn": "acp1", "pv": {"acr": [{"acor": ["CAE1"], "acop": 1 | 2 | 32},
                                                    {"acor": ["CAE2"], "acop": 2}]},
                       "pvs": {"acr": [{"acor": ["CAdmin"], "acop": 63}]}}}
    r = admin.send("POST", base, acp, 1)
    acp1 = inner(r, "m2m:acp").get("ri", "")
    check("admin creates acp1: 2001", r.rsc == 2001 and acp1, r)
    r = ae1.send("PUT", base + "/cnt1", {"m2m:cnt": {"acpi": [acp1]}})
    check("AE1 may not set acpi of cnt1 (not in the selfPrivileges): 4103", r.rsc == 4103, r)
    r = admin.send("PUT", base + "/cnt1", {"m2m:cnt": {"acpi": [acp1]}})
    check("admin sets acpi of cnt1: 2004", r.rsc == 2004 and inner(r, "m2m:cnt").get("acpi") == [acp1], r)

    cin = {"m2m:cin": {"con": "hello"}}
    r = ae2.send("POST", base + "/cnt1", cin, 4)
    check("AE2 (RETRIEVE only) creates a contentInstance: 4103", r.rsc == 4103 and r.http == 403, r)
    r = ae1.send("POST", base + "/cnt1", cin, 4)
    check("AE1 (CREATE) creates a contentInstance: 2001", r.rsc == 2001 and inner(r, "m2m:cin").get("con") == "hello", r)
    r = ae1.send("POST", base + "/cnt1", {"m2m:cnt": {"rn": "sub-cnt"}}, 3)
    check("AE1 creates a container under cnt1: 2001", r.rsc == 2001, r)
    r = ae2.send("GET", base + "/cnt1")
    check("AE2 (RETRIEVE) retrieves cnt1: 2000", r.rsc == 2000 and inner(r, "m2m:cnt").get("rn") == "cnt1", r)
    r = ae2.send("GET", base + "/cnt1", origin="CAE1")
    check("AE1's ID on AE2's association: 4106", r.rsc == 4106, r)
    r = ae2.send("DELETE", base + "/cnt1")
    check("AE2 deletes cnt1 (no DELETE): 4103", r.rsc == 4103, r)

    # No security association: plain HTTP to the TLS listener gets no oneM2M answer at all.
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as s:
        s.sendall(request_bytes("GET", base + "/cnt1", "CAE2", "plain"))
        try:
            answer = s.recv(4096)
        except OSError:
            answer = b""
    check("plain HTTP (no association): no response", b"X-M2M-RSC" not in answer, answer[:200])

    # Discovery (TS-0003 7.1: DISCOVERY is its own operation).
    r = ae1.send("GET", base + "?fu=1&ty=3")
    uril = (r.json or {}).get("m2m:uril", [])
    check("AE1 (DISCOVERY) discovers cnt1", r.rsc == 2000 and any(u in (cnt1, CSE_NAME + "/cnt1") for u in uril), r)
    r = ae2.send("GET", base + "?fu=1&ty=3")
    uril = (r.json or {}).get("m2m:uril", []) if isinstance(r.json, dict) else []
    check("AE2 (no DISCOVERY) does not discover cnt1",
          r.rsc == 2000 and not any(u in (cnt1, CSE_NAME + "/cnt1") for u in uril), r)
    r = ae1.send("GET", base + "?fu=1&ty=3&drt=1")
    check("a query field the binding does not map (drt): 4000", r.rsc == 4000 and r.http == 400, r)

    # Contexts: IP address, time window.
    def guarded(name, acco):
        admin.send("POST", base, {"m2m:cnt": {"rn": name}}, 3)
        rule = {"acr": [{"acor": ["CAE2"], "acop": 1, "acco": [acco]}]}
        got = admin.send("POST", base, {"m2m:acp": {"rn": "acp-" + name, "pv": rule,
                                                   "pvs": {"acr": [{"acor": ["CAdmin"], "acop": 63}]}}}, 1)
        admin.send("PUT", base + "/" + name, {"m2m:cnt": {"acpi": [inner(got, "m2m:acp").get("ri", "")]}})
        return ae2.send("POST", base + "/" + name, cin, 4)

    check("acip 127.0.0.1/32 grants from loopback: 2001", guarded("ip-in", {"acip": {"ipv4": ["127.0.0.1/32"]}}).rsc == 2001)
    check("acip 10.0.0.0/8 does not: 4103", guarded("ip-out", {"acip": {"ipv4": ["10.0.0.0/8"]}}).rsc == 4103)
    check("actw every second grants: 2001", guarded("tw-in", {"actw": ["* * * * * * *"]}).rsc == 2001)
    check("actw in 2001 only does not: 4103", guarded("tw-out", {"actw": ["* * * * * * 2001"]}).rsc == 4103)

    # ---- tokens (TS-0003 7.3) ---------------------------------------------------------------------------------
    now = time.time()
    grant = {"pm": [{"ris": [cnt1], "pv": {"acr": [{"acor": ["CAE2"], "acop": 1}]}}]}
    holder = SP_ID + CSE_ID + "/CAE2"
    good, done = token(issuer_key, holder, now - 60, now + 600, grant)
    check("jwcrypto issues a token", good.count(".") == 2, done.stderr.decode(errors="replace")[-300:])
    r = ae2.send("POST", base + "/cnt1", cin, 4, headers={"Authorization": good})
    check("AE2 creates with a token granting CREATE: 2001", r.rsc == 2001, r)
    expired, _ = token(issuer_key, holder, now - 7200, now - 3600, grant)
    r = ae2.send("POST", base + "/cnt1", cin, 4, headers={"Authorization": expired})
    check("an expired token grants nothing: 4103", r.rsc == 4103, r)
    wrong, _ = token(issuer_key, SP_ID + CSE_ID + "/CAE1", now - 60, now + 600, grant)
    r = ae2.send("POST", base + "/cnt1", cin, 4, headers={"Authorization": wrong})
    check("a token held by another AE grants nothing: 4103", r.rsc == 4103, r)
    forged, _ = token(os.urandom(32).hex(), holder, now - 60, now + 600, grant)
    r = ae2.send("POST", base + "/cnt1", cin, 4, headers={"Authorization": forged})
    check("a token under another key grants nothing: 4103", r.rsc == 4103, r)

    # ---- subscription and notification ---------------------------------------------------------------------
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Notifications)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = "http://127.0.0.1:%d/notify" % server.server_address[1]
    r = ae1.send("POST", base + "/cnt1", {"m2m:sub": {"rn": "sub1", "nu": [target], "enc": {"net": [3]}}}, 23)
    check("AE1 subscribes to cnt1: 2001", r.rsc == 2001, r)

    def sgn(i):
        try:
            return json.loads(Notifications.received[i][2]).get("m2m:sgn", {})
        except (IndexError, ValueError, AttributeError):
            return {}

    check("the target got the verification request (vrq)", wait_until(lambda: sgn(0).get("vrq") is True),
          Notifications.received)
    r = ae1.send("POST", base + "/cnt1", {"m2m:cin": {"con": "notify-me"}}, 4)
    check("AE1 creates a contentInstance: 2001", r.rsc == 2001, r)
    check("the target got a notification carrying it",
          wait_until(lambda: "notify-me" in json.dumps(sgn(len(Notifications.received) - 1))), Notifications.received)
    server.shutdown()

    # ---- the IBC-based SAEF (docs/ibc-saef.md) ----------------------------------------------------------------
    ibc_saef(m2msec, daemon, ibc)

    # ---- Upper Tester, restart -------------------------------------------------------------------------------
    ut = HttpAnswer(s_client(port, b"POST /__ut__ HTTP/1.1\r\nHost: cse\r\nX-M2M-UTCMD: Status\r\nContent-Length: 0\r\n"
                            b"Connection: close\r\n\r\n", AE1_PSK, keys[AE1_PSK]))
    check("Upper Tester Status: 200, X-M2M-UTRSP", ut.http == 200 and ut.headers.get("x-m2m-utrsp"), ut)
    ut = HttpAnswer(s_client(port, b"POST /__ut__ HTTP/1.1\r\nHost: cse\r\nX-M2M-UTCMD: reset\r\nContent-Length: 0\r\n"
                            b"Connection: close\r\n\r\n", AE1_PSK, keys[AE1_PSK]))
    check("Upper Tester unknown command: 400", ut.http == 400, ut)

    check("m2msecd stops on SIGTERM", daemon.stop() == 0)
    daemon = Daemon(m2msecd, args, work, "cse-restarted")
    if check("m2msecd restarts on the same data", daemon.port is not None):
        ae1.port = ae2.port = daemon.port
        r = ae2.send("GET", base + "/cnt1")
        check("after the restart AE2 still retrieves cnt1: 2000", r.rsc == 2000 and inner(r, "m2m:cnt").get("rn") == "cnt1", r)
        r = ae2.send("POST", base + "/cnt1", cin, 4)
        check("after the restart the policy still refuses AE2's CREATE: 4103", r.rsc == 4103, r)
        r = ae1.send("GET", base + "/cnt1/sub-cnt")
        check("after the restart AE1's container is there: 2000", r.rsc == 2000, r)
    daemon.stop()
    return 0


if __name__ == "__main__":
    code = 1
    try:
        code = main()
    finally:
        for d in started:
            d.stop()
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    if results["failed"] == 0 and code == 0 and len(sys.argv) > 2:
        shutil.rmtree(sys.argv[2], ignore_errors=True)
    sys.exit(1 if results["failed"] or code else 0)

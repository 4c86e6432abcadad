#!/usr/bin/env python3
"""m2msecd's roles over the oneM2M CoAP binding (TS-0008 V3.9.0) on DTLS 1.2 and plain UDP, real processes on
loopback, driven only by independent peers: libcoap's coap-client (Debian libcoap3-bin: -gnutls, -openssl,
-notls), `openssl s_client -dtls1_2`, the `openssl` CLI for keys and certificates, and raw datagrams that this
script encodes itself from RFC 7252 section 3.

  - TS-0013 TD_M2M_SE_01 over DTLS: AE registration over CoAPS with the KpsaID test@onem2m.com (both libcoap
    TLS back ends); the suite negotiated is TLS_PSK_WITH_AES_128_CCM_8 (TS-0003 V3.18.0 10.2.1, shown by
    openssl s_client, which also carries a registration); a wrong key and an unknown identity get no answer.
  - Certificates (TS-0003 8.2.2.2): AE-ID certificates of the test PKI register (both libcoap back ends); the
    same AE-ID in a certificate of an unknown CA and no certificate at all get no answer, a certificate
    without an AE-ID no registration. The server's certificate names localhost (made here), since the
    server refuses an SNI it has no certificate for.
  - Raw public keys (RFC 7250): a fresh P-256 key whose RFC 6920 ni URI (computed here) an app rule names
    registers; another key is refused 4126 APP_RULE_VALIDATION_FAILED.
  - Plain UDP: answered, but no security association: 4107 SECURITY_ASSOCIATION_REQUIRED.
  - The message layer (RFC 7252 4.2-4.5, RFC 7959): a repeated Confirmable request is answered with the same
    octets and processed once; a format error in a CON is answered by a Reset with its Message ID; an unknown
    critical option is 4.02; Block1 bodies over the limit are 4.13 (raw blocks, and libcoap's Size1); a
    cookie-less ClientHello flood from 300 ports gets HelloVerifyRequests only (RFC 6347 4.2.1), no failed
    handshake in /metrics, and leaves a client able to register; over DTLS (s_client) a repeated CON CREATE
    gets the same octets and makes one resource.
  - The MEF (TS-0003 8.3) over CoAPS: a RETRIEVE of its base resource with a KpmID (both libcoap back ends),
    a wrong Kpm no answer; an enrolment with `m2msec enrol --mef coaps://...`, which the store then lists.

usage: test_coap.py M2MSECD WORKDIR M2MSEC [TESTPKI] [-v]
  TESTPKI: a directory written by tests/support/testpki.py; without it one is made in WORKDIR.

Every key is fresh. libcoap takes a PSK as text (-k), so the PSKs are random printable ASCII and the psk file
holds their hex. libcoap puts the URI host into SNI even for an IP literal (RFC 6066 3 forbids it), so the URLs
name localhost. Prints 'N passed, N failed' last and exits non-zero on any failure.
"""
import base64
import functools
import hashlib
import itertools
import json
import os
import re
import secrets
import shutil
import socket
import string
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import checks  # noqa: E402  (tests/support: check, run, results)
from checks import check, results  # noqa: E402

WAIT = 20
run = functools.partial(checks.run, timeout=WAIT)
CSE_NAME = "cse-in"
AE1_PSK = "test@onem2m.com"  # TS-0013 TD_M2M_SE_01's identity
AE2_PSK = "ae2@onem2m.com"
CERT_AE = "//m2m.example.com/CSE1/Cae1"  # testpki.py: ae.pem's AE-ID (int)
CERT_AE2 = "//m2m.example.com/CSE1/Cae2"  # testpki.py: ae_scheme.pem's AE-ID (estca), without "onem2m:"
# coap-client -B: seconds per exchange, handshake included. Concurrent handshakes can cost a peer one
# retransmission or two (1 s, then 2 s: a datagram queued on the listening socket as it is handed to another
# peer is lost, docs/coap.md), and an ASan build under load is slow: 8 s leave room for both.
LIBCOAP_WAIT = int(os.environ.get("M2MSEC_TEST_COAP_WAIT", "8"))
CCM8 = "PSK-AES128-CCM8"  # OpenSSL's name of TLS_PSK_WITH_AES_128_CCM_8 (RFC 6655)

started = []

# ---- RFC 7252 section 3 ------------------------------------------------------------------------------------
CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST, PUT, DELETE = 1, 2, 3, 4
URI_PATH, CONTENT_FORMAT, URI_QUERY, BLOCK1, SIZE1 = 11, 12, 15, 27, 60
TY, RVI, FR, RQI, RSC = 267, 271, 279, 283, 307  # TS-0008 V3.9.0 Table 6.2.2.4.0-1


def code(klass, detail):
    return klass << 5 | detail


def code_text(c):
    return "%d.%02d" % (c >> 5, c & 31)


def uint(value):
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def encode(mtype, mcode, mid, token=b"", options=(), payload=b""):
    out = bytes([0x40 | mtype << 4 | len(token), mcode, mid >> 8, mid & 0xFF]) + token
    last = 0

    def nibble(n):
        if n < 13:
            return n, b""
        if n < 269:
            return 13, bytes([n - 13])
        return 14, (n - 269).to_bytes(2, "big")

    for number, value in sorted(options, key=lambda o: o[0]):
        delta, dext = nibble(number - last)
        length, lext = nibble(len(value))
        out += bytes([delta << 4 | length]) + dext + lext + value
        last = number
    return out + (b"\xff" + payload if payload else b"")


def decode(data):
    """(type, code, mid, token, [(number, value)], payload), or None for a format error."""
    if len(data) < 4 or data[0] >> 6 != 1 or data[0] & 15 > 8:
        return None
    tkl = data[0] & 15
    at, number, options = 4 + tkl, 0, []
    if len(data) < at:
        return None
    token = data[4:at]

    def extended(n, at):
        if n == 13:
            return (data[at] + 13, at + 1) if at < len(data) else (None, at)
        if n == 14:
            return (int.from_bytes(data[at:at + 2], "big") + 269, at + 2) if at + 2 <= len(data) else (None, at)
        return (n, at) if n < 15 else (None, at)

    while at < len(data) and data[at] != 0xFF:
        head = data[at]
        delta, at = extended(head >> 4, at + 1)
        length, at = extended(head & 15, at) if delta is not None else (None, at)
        if delta is None or length is None or at + length > len(data):
            return None
        number += delta
        options.append((number, data[at:at + length]))
        at += length
    payload = data[at + 1:] if at < len(data) else b""
    if at < len(data) and not payload:
        return None  # a payload marker and no payload
    return (data[0] >> 4 & 3, data[1], data[2] << 8 | data[3], token, options, payload)


def option(message, number):
    found = [v for n, v in message[4] if n == number] if message else []
    return found[0] if found else None


def rsc_of(message):
    value = option(message, RSC)
    return int.from_bytes(value, "big") if value is not None else None


def onem2m(mcode, path, fr, rqi, ty=None, body=None, mid=None, token=None, extra=(), mtype=CON):
    options = [(URI_PATH, s.encode()) for s in path.strip("/").split("/")]
    options += [(FR, fr.encode()), (RQI, rqi.encode()), (RVI, b"3")] + list(extra)
    if ty is not None:
        options.append((TY, uint(ty)))
    payload = b""
    if body is not None:
        payload = json.dumps(body).encode()
        options.append((CONTENT_FORMAT, uint(50)))
    return encode(mtype, mcode, secrets.randbelow(65536) if mid is None else mid,
                  os.urandom(4) if token is None else token, options, payload)


class Udp:
    """One UDP source port towards the server."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.connect(("127.0.0.1", port))

    def exchange(self, datagram, timeout=3.0):
        self.sock.send(datagram)
        return self.receive(timeout)

    def receive(self, timeout=3.0):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65536)
        except (socket.timeout, ConnectionRefusedError):
            return None

    def close(self):
        self.sock.close()


# ---- peers ---------------------------------------------------------------------------------------------------
LIBCOAP_RESPONSE = re.compile(r"^v:1 t:(CON|NON|ACK|RST) c:(\d\.\d\d) i:([0-9a-f]{4}) \{([0-9a-f]*)\} \[(.*?)\]"
                              r"(?: :: (.*))?$", re.M)


SELF_CONNECTED = re.compile(r"(\d+\.\d+\.\d+\.\d+:\d+) <-> \1 ")


class CoapAnswer:
    """What coap-client received (its -v 7 log of the PDU, the payload from -o): the first response's code,
    its oneM2M options by number, and the payload."""

    def __init__(self, done, out_path):
        self.done = done
        self.log = (done.stdout + done.stderr).decode(errors="replace")
        found = LIBCOAP_RESPONSE.findall(self.log)
        self.code = found[0][1] if found else None
        self.options = {}
        if found:
            for number, value in re.findall(r"(?:^|, )(\d+):((?:\\x[0-9A-Fa-f]{2})*)", found[0][4].strip()):
                self.options[int(number)] = bytes(int(h, 16) for h in re.findall(r"\\x([0-9A-Fa-f]{2})", value))
        self.payload = b""
        if os.path.exists(out_path):
            with open(out_path, "rb") as f:
                self.payload = f.read()
            os.unlink(out_path)
        if not self.payload and found and found[0][5]:
            self.payload = found[0][5].strip("'").encode()
        try:
            self.json = json.loads(self.payload) if self.payload else None
        except ValueError:
            self.json = None
        rsc = self.options.get(RSC)
        self.rsc = int.from_bytes(rsc, "big") if rsc is not None else None

    def inner(self, root):
        return self.json.get(root, {}) if isinstance(self.json, dict) else {}

    def __str__(self):
        return "code %s rsc %s %s | %s" % (self.code, self.rsc, self.payload[:300].decode(errors="replace"),
                                           self.log[-700:])


class Peers:
    def __init__(self, work):
        self.work = work
        self.counter = itertools.count(1)

    def coap(self, tool, url, args, fr=None, rqi=None, ty=None, body=None, method="get", seconds=LIBCOAP_WAIT):
        """One request with libcoap's coap-client-<tool>; oneM2M options as -O number,text (ty as hex).
        coap-client 4.3.1 does not know the oneM2M options (all critical) of the response, so it handles the
        response and then waits out -B: every call takes `seconds`, hence together()."""
        count = next(self.counter)
        out = os.path.join(self.work, "coap-out-%d" % count)
        cmd = ["coap-client-" + tool, "-v", "7", "-B", str(seconds), "-m", method, "-o", out] + list(args)
        if fr is not None:
            cmd += ["-O", "%d,%s" % (FR, fr)]
        cmd += ["-O", "%d,%s" % (RQI, rqi or "rq-%d" % count), "-O", "%d,3" % RVI]
        if ty is not None:
            cmd += ["-O", "%d,0x%02x" % (TY, ty)]
        if body is not None:
            path = os.path.join(self.work, "body-%d.json" % count)
            with open(path, "w") as f:
                json.dump(body, f)
            cmd += ["-t", "50", "-f", path]
        answer = CoapAnswer(run(cmd + [url], timeout=seconds + WAIT), out)
        if SELF_CONNECTED.search(answer.log):
            # The kernel gave libcoap's socket (SO_REUSEADDR) the server's port as its own ephemeral port, and
            # it talked to itself: a peer artefact, not the server's doing. Once more.
            print("note: coap-client connected to itself; once more")
            answer = CoapAnswer(run(cmd + [url], timeout=seconds + WAIT), out)
        return answer


class SClient:
    """`openssl s_client -dtls1_2` with a PSK: each write is one record, so one CoAP message per datagram."""

    def __init__(self, port, psk_id, psk_hex, cipher=CCM8):
        self.proc = subprocess.Popen(
            ["openssl", "s_client", "-dtls1_2", "-cipher", cipher, "-psk", psk_hex, "-psk_identity", psk_id,
             "-servername", "localhost", "-connect", "127.0.0.1:%d" % port],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out, self.err = bytearray(), bytearray()
        self.threads = [threading.Thread(target=self._drain, args=(s, b), daemon=True)
                        for s, b in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self.threads:
            t.start()
        self.handshaken = self._wait(lambda: b"Cipher is" in self.out or self.proc.poll() is not None, 10)
        self.handshaken = bool(re.search(rb"Cipher is (?!\(NONE\))", bytes(self.out)))
        self.mark = self._end_of_summary() if self.handshaken else len(self.out)

    @staticmethod
    def _drain(stream, into):
        while True:
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                return
            into.extend(chunk)

    @staticmethod
    def _wait(condition, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if condition():
                return True
            time.sleep(0.02)
        return condition()

    def _end_of_summary(self):
        # s_client ends its session summary with "---\n" after "Cipher is"; give it a moment to write it all.
        self._wait(lambda: re.search(rb"Cipher is.*?\n---\n", bytes(self.out), re.S), 3)
        m = re.search(rb"Cipher is.*?\n---\n", bytes(self.out), re.S)
        return m.end() if m else len(self.out)

    def send(self, datagram, seconds=3.0):
        """Writes one datagram and returns what arrived in answer (once the output has been still 0.2 s)."""
        start = len(self.out)
        self.proc.stdin.write(datagram)
        self.proc.stdin.flush()
        self._wait(lambda: len(self.out) > start, seconds)
        size = -1
        while size != len(self.out):
            size = len(self.out)
            time.sleep(0.2)
        return bytes(self.out[start:])

    def summary(self):
        return bytes(self.out[:self.mark]).decode(errors="replace")

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        checks.stop(self.proc, 5)


class Daemon:
    def __init__(self, m2msecd, args, work, name):
        self.out_path = os.path.join(work, name + ".stdout")
        with open(self.out_path, "wb") as out, open(os.path.join(work, name + ".stderr"), "wb") as err:
            self.proc = subprocess.Popen([m2msecd] + args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        started.append(self)
        self.urls = {}
        deadline = time.time() + WAIT
        while time.time() < deadline and self.proc.poll() is None:
            with open(self.out_path, errors="replace") as f:
                text = f.read()
            if "listening role=ops " in text:
                for role, url, auth in re.findall(r"^listening role=(\S+) url=(\S+)(?: auth=(\S+))?$", text, re.M):
                    self.urls[role + ("/" + auth if auth else "")] = url
                break
            time.sleep(0.02)

    def port(self, role):
        m = re.match(r"\w+://127\.0\.0\.1:(\d+)", self.urls.get(role, ""))
        return int(m.group(1)) if m else None

    def metrics(self):
        url = self.urls.get("ops", "")
        m = re.match(r"http://127\.0\.0\.1:(\d+)", url)
        if not m:
            return ""
        try:
            with socket.create_connection(("127.0.0.1", int(m.group(1))), timeout=5) as s:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: ops\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            return data.decode(errors="replace")
        except OSError:
            return ""

    def metric(self, name, labels):
        m = re.search(r"^%s\{%s\} (\S+)$" % (re.escape(name), re.escape(labels)), self.metrics(), re.M)
        return float(m.group(1)) if m else None

    def stop(self):
        return checks.stop(self.proc, WAIT)


def together(*calls):
    """Runs the calls in threads at once; their results in order."""
    out = [None] * len(calls)

    def one(i):
        out[i] = calls[i]()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def ascii_key(n=24):
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


def ni_uri(spki_der):
    """RFC 6920 section 3: ni:///sha-256;<base64url of the digest, no padding>."""
    return "ni:///sha-256;" + base64.urlsafe_b64encode(hashlib.sha256(spki_der).digest()).rstrip(b"=").decode()


def openssl(*args):
    done = run(["openssl"] + list(args))
    check("openssl %s" % " ".join(args[:2]), done.returncode == 0, done.stderr.decode(errors="replace")[-300:])
    return done


def fresh_rpk(work, name):
    """A P-256 key made by the openssl CLI (SEC1 "EC PRIVATE KEY", what coap-client -M reads) and the ni URI of
    its SubjectPublicKeyInfo."""
    path = os.path.join(work, name + ".pem")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path)
    der = openssl("ec", "-in", path, "-pubout", "-outform", "DER").stdout
    return path, ni_uri(der)


def make_ca(work, name):
    """A self-signed P-256 CA made by the openssl CLI: (certificate, key)."""
    key, pem = os.path.join(work, name + ".key"), os.path.join(work, name + ".pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
            "-out", pem, "-subj", "/CN=" + name, "-days", "2", "-addext", "basicConstraints=critical,CA:true",
            "-addext", "keyUsage=critical,keyCertSign,digitalSignature")
    return pem, key


def issue(work, ca, name, san):
    """A P-256 leaf below `ca` in the TS-0003 10.1.1.1 profile (keyUsage digitalSignature) with one
    subjectAltName: (leaf + CA chain file, key)."""
    key, csr, pem, ext = (os.path.join(work, name + e) for e in (".key", ".csr", ".pem", ".ext"))
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:false\nkeyUsage=critical,digitalSignature\nsubjectAltName=%s\n" % san)
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
            "-out", csr, "-subj", "/CN=" + name)
    openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial", "-days", "2",
            "-extfile", ext, "-out", pem)
    chain = os.path.join(work, name + ".chain.pem")
    with open(pem) as a, open(ca[0]) as b, open(chain, "w") as out:
        out.write(a.read() + b.read())
    return chain, key


def ae_body(api):
    return {"m2m:ae": {"api": api, "rr": False, "srv": ["3"]}}


# ---- the checks ------------------------------------------------------------------------------------------------
def td_m2m_se_01(d, peers, keys):
    port = d.port("cse-coaps")
    url = "coaps://localhost:%d/%s" % (port, CSE_NAME)
    ae1 = ["-u", AE1_PSK, "-k", keys[AE1_PSK]]
    body = ae_body("Nallowed.app1")
    tools = (("gnutls", "CAE1"), ("openssl", "CAE1x"))
    bad = (("a wrong key", AE1_PSK, ascii_key()), ("an unknown identity", "nobody@onem2m.com", keys[AE1_PSK]))
    # -v 9: GnuTLS's own debug log too, which names the suite it was given.
    got = together(*[functools.partial(peers.coap, tool, url, ae1 + (["-v", "9"] if tool == "gnutls" else []), aei,
                                       "reg-" + tool, 2, body, "post") for tool, aei in tools],
                   *[functools.partial(peers.coap, "gnutls", url, ["-u", psk_id, "-k", key], "CAE1", "bad", 2, body,
                                       "post") for _, psk_id, key in bad])
    for (tool, aei), r in zip(tools, got):
        ae = r.inner("m2m:ae")
        check("TD_M2M_SE_01 over DTLS (coap-client-%s): AE registration 2.01 / 2001 with the AE" % tool,
              r.code == "2.01" and r.rsc == 2001 and ae.get("api") == "Nallowed.app1" and
              ae.get("aei", "").endswith(aei) and r.options.get(RQI) == ("reg-" + tool).encode(), r)
    check("TD_M2M_SE_01: GnuTLS (coap-client-gnutls -v 9) was given TLS_PSK_WITH_AES_128_CCM_8",
          re.search(r"Selected cipher suite: GNUTLS_PSK_AES_128_CCM_8$", got[0].log, re.M),
          re.findall(r"Selected cipher suite: .*", got[0].log))
    for (name, _, _), r in zip(bad, got[2:]):
        check("TD_M2M_SE_01 over DTLS: %s gets no response" % name, r.code is None and r.rsc is None, r)

    # The suite, seen by an independent peer that offers only TLS_PSK_WITH_AES_128_CCM_8 ...
    s = SClient(port, AE1_PSK, keys[AE1_PSK].encode().hex())
    answer = s.send(onem2m(POST, CSE_NAME, "CAE1s", "reg-sclient", 2, ae_body("Nallowed.s"), mid=0x1234)) \
        if s.handshaken else b""
    s.close()
    summary = s.summary()
    check("TD_M2M_SE_01: openssl s_client -dtls1_2 negotiates DTLSv1.2 with %s" % CCM8,
          s.handshaken and re.search(r"Protocol\s*:\s*DTLSv1\.2", summary) and
          re.search(r"Cipher is " + CCM8, summary), summary[-600:] + s.err.decode(errors="replace")[-300:])
    m = decode(answer)
    check("TD_M2M_SE_01: a registration over that association (s_client): ACK 2.01, rsc 2001, the same MID",
          m and m[0] == ACK and m[1] == code(2, 1) and m[2] == 0x1234 and rsc_of(m) == 2001 and
          b"Nallowed.s" in m[5], answer[:300])
    # ... and one that offers CCM_8 after CBC_SHA256: the server's preference decides (TS-0003 10.2.1 order).
    s = SClient(port, AE1_PSK, keys[AE1_PSK].encode().hex(), "PSK-AES128-CBC-SHA256:" + CCM8)
    s.close()
    check("the server prefers TLS_PSK_WITH_AES_128_CCM_8 over the client's first choice, CBC_SHA256",
          re.search(r"Cipher is " + CCM8, s.summary()), s.summary()[-400:])
    s = SClient(port, AE1_PSK, keys[AE1_PSK].encode().hex(), "PSK-AES128-CBC-SHA256")
    s.close()
    check("TLS_PSK_WITH_AES_128_CBC_SHA256 alone is accepted too (TS-0003 10.2.1's second suite)",
          re.search(r"Cipher is PSK-AES128-CBC-SHA256", s.summary()), s.summary()[-400:])
    s = SClient(port, AE1_PSK, keys[AE1_PSK].encode().hex(), "PSK-AES256-GCM-SHA384")
    s.close()
    check("a PSK suite outside the profile (PSK-AES256-GCM-SHA384): no association", not s.handshaken,
          s.summary()[-300:])
    # (A wrong key or an unknown identity fails only at the handshake timeout: DTLS drops records it cannot
    # decrypt, the client's Finished among them. This one fails at once.)
    failed = d.metric("m2msec_failed_handshakes_total", 'listener="cse-coaps"')
    check("/metrics counts that failed handshake on cse-coaps", failed is not None and failed >= 1, failed)

    # The AE's association is bound to its KpsaID: another identity may not speak for it.
    steal, own = together(
        lambda: peers.coap("gnutls", url + "/CAE1", ["-u", AE2_PSK, "-k", keys[AE2_PSK]], "CAE1", "steal"),
        lambda: peers.coap("gnutls", url + "/CAE1", ae1, "CAE1", "own"))
    check("CAE1's ID over AE2's association: 4106", steal.rsc == 4106, steal)
    check("CAE1 retrieves its <AE> over CoAPS: 2.05 / 2000", own.code == "2.05" and own.rsc == 2000 and
          own.inner("m2m:ae").get("aei", "").endswith("CAE1"), own)


def certificates(d, peers, pki, work, server_ca):
    """The server's certificate names localhost (what libcoap puts in SNI; the server refuses a name it has no
    certificate for) below a CA made here, which the clients trust (-R); the clients' certificates are testpki's
    (--client-ca)."""
    port = d.port("cse-coaps-cert")
    url = "coaps://localhost:%d/%s" % (port, CSE_NAME)
    trust = ["-R", server_ca]
    body = ae_body("Nallowed.cert")
    leaves = (("gnutls", "ae", "Cae1"), ("openssl", "ae_scheme", "Cae2"))
    rogue, rogue_key = issue(work, make_ca(work, "rogue-ca"), "rogue-ae", "URI:" + CERT_AE)
    other = os.path.join(pki, "other")
    got = together(
        *[functools.partial(peers.coap, tool, url, ["-c", os.path.join(pki, leaf + ".chain.pem"), "-j",
                                                    os.path.join(pki, leaf + ".key")] + trust,
                            aei, "cert-" + tool, 2, body, "post") for tool, leaf, aei in leaves],
        lambda: peers.coap("gnutls", url, ["-c", rogue, "-j", rogue_key] + trust, "Cae1", "rogue", 2, body, "post"),
        lambda: peers.coap("gnutls", url, trust, "Cae1", "nocert", 2, body, "post"),
        lambda: peers.coap("gnutls", url, ["-c", other + ".chain.pem", "-j", other + ".key"] + trust, "Cae1", "other",
                           2, body, "post"))
    for (tool, leaf, aei), r in zip(leaves, got):
        check("certificates (coap-client-%s, %s.pem): AE registration 2.01 / 2001" % (tool, leaf),
              r.code == "2.01" and r.rsc == 2001 and r.inner("m2m:ae").get("aei", "").endswith(aei), r)
    rogue, nocert, other = got[2:]
    check("certificates: the same AE-ID from an unknown CA gets no response", rogue.code is None, rogue)
    check("certificates: no client certificate gets no response", nocert.code is None, nocert)
    check("certificates: a valid certificate without an AE-ID (other.pem, a dNSName): no registration",
          other.rsc != 2001 and other.code != "2.01", other)


def raw_public_keys(d, peers, rpk_key, rpk_ni, other_key, m2msec):
    port = d.port("cse-coaps-rpk")
    url = "coaps://localhost:%d/%s" % (port, CSE_NAME)
    if m2msec:
        done = run([m2msec, "cert", "ni", rpk_key])
        check("m2msec cert ni of the fresh key = the ni URI computed in Python (RFC 6920)",
              done.stdout.decode().strip() == rpk_ni, done.stdout + done.stderr)
    body = ae_body("Nallowed.rpk")
    mine, other = together(lambda: peers.coap("gnutls", url, ["-M", rpk_key], "CAE4", "rpk", 2, body, "post"),
                           lambda: peers.coap("gnutls", url, ["-M", other_key], "CAE4b", "rpk-other", 2, body, "post"))
    check("raw public keys (coap-client-gnutls -M): the key the app rule names registers: 2.01 / 2001",
          mine.code == "2.01" and mine.rsc == 2001 and mine.inner("m2m:ae").get("aei", "").endswith("CAE4"), mine)
    check("raw public keys: another key registers nothing: 4126 APP_RULE_VALIDATION_FAILED", other.rsc == 4126, other)
    steal, own = together(lambda: peers.coap("gnutls", url + "/CAE4", ["-M", other_key], "CAE4", "rpk-steal"),
                          lambda: peers.coap("gnutls", url + "/CAE4", ["-M", rpk_key], "CAE4", "rpk-own"))
    check("raw public keys: another key may not speak for CAE4: 4106", steal.rsc == 4106, steal)
    check("raw public keys: CAE4 retrieves its <AE>: 2000", own.rsc == 2000, own)


def plain_udp(d, peers):
    port = d.port("cse-coap")
    u = Udp(port)
    ping = u.exchange(encode(CON, 0, 0x4711))
    check("plain UDP: an Empty CON (ping) is answered by a Reset with its MID (RFC 7252 4.3)",
          ping == bytes([0x70, 0, 0x47, 0x11]), ping)
    got = decode(u.exchange(onem2m(GET, CSE_NAME, "CAE1", "plain-get", mid=0x0101, token=b"tk")) or b"")
    check("plain UDP: a RETRIEVE is answered (ACK, same MID and token, oneM2M-RQI) with 4107 "
          "SECURITY_ASSOCIATION_REQUIRED",
          got and got[0] == ACK and got[2] == 0x0101 and got[3] == b"tk" and got[1] >> 5 == 4 and
          rsc_of(got) == 4107 and option(got, RQI) == b"plain-get", got)
    got = decode(u.exchange(onem2m(GET, CSE_NAME, "CAE1", "plain-non", mid=0x0102, token=b"tn", mtype=NON)) or b"")
    check("plain UDP: a NON request gets a NON response with its token (RFC 7252 5.2.3), 4107",
          got and got[0] == NON and got[3] == b"tn" and rsc_of(got) == 4107, got)
    u.close()
    r = peers.coap("notls", "coap://localhost:%d/%s" % (port, CSE_NAME), [], "CAE1", "plain-reg", 2,
                   ae_body("Nallowed.app1"), "post")
    check("plain UDP (coap-client-notls): a registration without an association: 4107",
          r.rsc == 4107 and r.code and r.code.startswith("4."), r)


def message_layer(d, peers):
    port = d.port("cse-coap")
    u = Udp(port)
    before = d.metric("m2msec_requests_total", 'role="cse",rsc="4107"') or 0
    create = onem2m(POST, CSE_NAME, "CAE9", "dup-1", 2, ae_body("Nallowed.dup"), mid=0xBEEF, token=b"\x01\x02")
    first, second = u.exchange(create), u.exchange(create)
    check("a repeated CON request gets the same octets again (RFC 7252 4.5)",
          first and first == second and decode(first) and decode(first)[2] == 0xBEEF, (first, second))
    after = d.metric("m2msec_requests_total", 'role="cse",rsc="4107"') or 0
    check("... and reaches the CSE once (/metrics: one more 4107, not two)", after - before == 1, (before, after))
    third = decode(u.exchange(onem2m(POST, CSE_NAME, "CAE9", "dup-2", 2, ae_body("Nallowed.dup"), mid=0xBEF0)) or b"")
    check("... while a new MID is processed again", third and rsc_of(third) == 4107 and
          (d.metric("m2msec_requests_total", 'role="cse",rsc="4107"') or 0) - after == 1, third)

    truncated = bytes([0x40, GET, 0x12, 0x34]) + bytes([0xB5]) + b"cs"  # Uri-Path of 5 octets, 2 present
    got = u.exchange(truncated)
    check("a CON whose option runs past the datagram: Reset with its MID (RFC 7252 4.2)",
          got == bytes([0x70, 0, 0x12, 0x34]), got)
    got = u.exchange(bytes([0x40, GET, 0x12, 0x35, 0xD0]))  # option delta 13 without its extension octet
    check("a CON with a missing extended option delta: Reset with its MID", got == bytes([0x70, 0, 0x12, 0x35]), got)
    got = u.exchange(bytes([0x50, GET, 0x12, 0x36, 0xB5]) + b"cs")
    check("the same format error in a NON: silently dropped (RFC 7252 4.3)", got is None, got)

    got = decode(u.exchange(onem2m(GET, CSE_NAME, "CAE1", "crit", mid=0x2001, extra=[(9999, b"x")])) or b"")
    check("an unknown critical option (9999, odd): 4.02 Bad Option (RFC 7252 5.4.1)",
          got and got[1] == code(4, 2) and got[2] == 0x2001, got)
    got = decode(u.exchange(onem2m(GET, CSE_NAME, "CAE1", "elective", mid=0x2002, extra=[(9998, b"x")])) or b"")
    check("an unknown elective option (9998, even) is ignored: the CSE answers (4107)",
          got and rsc_of(got) == 4107, got)

    # Block1 (RFC 7959 2.3, 2.9.3): 1 KiB blocks until the body passes what the server takes.
    blocks, answer, continues = 0, None, 0
    token = b"\xb1"
    for num in range(200):
        block = bytes([num >> 4 & 0xFF, (num & 15) << 4 | 8 | 6]) if num >= 16 else bytes([num << 4 | 8 | 6])
        msg = encode(CON, POST, 0x3000 + num, token, [(URI_PATH, CSE_NAME.encode()), (CONTENT_FORMAT, uint(50)),
                                                      (FR, b"CAE1"), (RQI, b"big"), (TY, uint(4)),
                                                      (BLOCK1, block)], b"a" * 1024)
        got = decode(u.exchange(msg) or b"")
        blocks += 1
        if not got or got[1] != code(2, 31):
            answer = got
            break
        continues += 1
    size1 = option(answer, SIZE1)
    check("Block1 bodies adding up over the limit: 2.31 Continue, then 4.13 with Size1 below what was sent",
          continues >= 1 and answer and answer[1] == code(4, 13) and size1 is not None and
          int.from_bytes(size1, "big") < blocks * 1024, (continues, answer))
    big = os.path.join(peers.work, "big.json")
    with open(big, "w") as f:
        json.dump({"m2m:cin": {"con": "x" * 70000}}, f)
    done = run(["coap-client-notls", "-v", "7", "-B", str(LIBCOAP_WAIT), "-m", "post", "-b", "1024", "-t", "50",
                "-f", big, "-O", "279,CAE1", "-O", "283,big-libcoap", "-O", "267,0x04",
                "coap://localhost:%d/%s" % (port, CSE_NAME)])
    log = (done.stdout + done.stderr).decode(errors="replace")
    codes = [c[1] for c in LIBCOAP_RESPONSE.findall(log)]
    # libcoap announces the whole size in Size1 (60) with the first block (RFC 7959 4): refused at once.
    announced = re.search(r"^v:1 t:CON c:POST .*Size1:70\d\d\d", log, re.M)
    check("coap-client-notls -b 1024 with a 70000-octet body (Size1 announced): 4.13 at the first block",
          announced and codes == ["4.13"], (codes, log[-500:]))
    u.close()


def capture_client_hello(work):
    """The first datagram coap-client-openssl sends to a coaps URL: a ClientHello without a cookie."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.settimeout(5)
    proc = subprocess.Popen(["coap-client-openssl", "-B", "2", "-u", "x", "-k", "y",
                             "coaps://localhost:%d/x" % sink.getsockname()[1]],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        hello = sink.recv(65536)
    except socket.timeout:
        hello = b""
    checks.stop(proc, 5)
    sink.close()
    return hello


def client_hello_flood(d, peers, keys, work):
    port = d.port("cse-coaps")
    hello = capture_client_hello(work)
    # RFC 6347 4.1, 4.2.2: record type 22, handshake type 1 (ClientHello) at 13, an empty cookie.
    sid = 13 + 12 + 2 + 32
    cookie_at = sid + 1 + (hello[sid] if len(hello) > sid else 0)
    if not check("coap-client-openssl's first datagram is a ClientHello without a cookie",
                 len(hello) > cookie_at and hello[0] == 22 and hello[13] == 1 and hello[cookie_at] == 0, hello[:64]):
        return
    failed_before = d.metric("m2msec_failed_handshakes_total", 'listener="cse-coaps"')
    answers, bad = 0, []
    sockets = [Udp(port) for _ in range(300)]
    start = time.time()
    for s in sockets:
        got = s.exchange(hello, 2)
        # A HelloVerifyRequest: record type 22, handshake type 3 at 13, a cookie of 1..255 octets (RFC 6347
        # 4.2.1), and no larger than the ClientHello (no amplification).
        if got and got[0] == 22 and len(got) > 28 and got[13] == 3 and 0 < got[27] and len(got) <= len(hello):
            answers += 1
        elif len(bad) < 3:
            bad.append(got)
    took = time.time() - start
    for s in sockets:
        s.close()
    check("300 cookie-less ClientHellos from 300 source ports: 300 HelloVerifyRequests (%.1f s)" % took,
          answers == 300, (answers, bad))
    time.sleep(0.5)
    failed_after = d.metric("m2msec_failed_handshakes_total", 'listener="cse-coaps"')
    check("/metrics: no failed handshake on cse-coaps for the flood (no association was started)",
          failed_before == 0 and failed_after == failed_before, (failed_before, failed_after))
    r = peers.coap("gnutls", "coaps://localhost:%d/%s" % (port, CSE_NAME), ["-u", AE2_PSK, "-k", keys[AE2_PSK]],
                   "CAE2", "after-flood", 2, ae_body("Nallowed.app2"), "post")
    check("after the flood a real client registers: 2.01 / 2001", r.code == "2.01" and r.rsc == 2001, r)
    # A repeated CON over DTLS (one association: s_client) gets the same octets and creates once.
    s = SClient(port, AE2_PSK, keys[AE2_PSK].encode().hex())
    create = onem2m(POST, CSE_NAME + "/CAE2", "CAE2", "dtls-dup", 3, {"m2m:cnt": {"rn": "dup"}}, mid=0x5151)
    first, second = s.send(create), s.send(create)
    again = s.send(onem2m(POST, CSE_NAME + "/CAE2", "CAE2", "dtls-dup-2", 3, {"m2m:cnt": {"rn": "dup"}}, mid=0x5152))
    s.close()
    m1, m3 = decode(first), decode(again)
    check("DTLS: a repeated CON CREATE: the same octets twice (2001), and the container once (a new MID: 4105)",
          m1 and rsc_of(m1) == 2001 and first == second and m3 and rsc_of(m3) == 4105, (first, second, again))


def mef(m2msecd, m2msec, work, peers):
    data = os.path.join(work, "mef-data")
    kpm_id, kpm = "coap-enrolee", ascii_key(32)
    done = run([m2msec, "admin", "--data-dir", data, "mef", "add-enrolee", "--kpm-id", kpm_id, "--kpm",
                kpm.encode().hex(), "--enrolee-id", "Ccoap1"])
    check("mef: m2msec admin mef add-enrolee", done.returncode == 0, done.stderr)
    d = Daemon(m2msecd, ["--roles", "mef,maf", "--listen", "127.0.0.1:0", "--coaps-listen", "127.0.0.1:0",
                         "--data-dir", data], work, "mef")
    with open(d.out_path) as f:
        coaps = re.findall(r"^listening role=mef url=(coaps://127\.0\.0\.1:\d+/mef) auth=psk$", f.read(), re.M)
    if not check("mef: m2msecd --roles mef,maf prints a coaps MEF listener", coaps, d.urls):
        return
    port = int(re.search(r":(\d+)/", coaps[0]).group(1))
    base = "coaps://localhost:%d/mef" % port
    r, again, wrong = together(
        lambda: peers.coap("gnutls", base, ["-u", kpm_id, "-k", kpm], "10-" + kpm_id, "mef-base"),
        lambda: peers.coap("openssl", base, ["-u", kpm_id, "-k", kpm], "10-" + kpm_id, "mef-base-2"),
        lambda: peers.coap("gnutls", base, ["-u", kpm_id, "-k", ascii_key(32)], "10-" + kpm_id, "mef-wrong"))
    check("mef: RETRIEVE /mef over CoAPS with the KpmID: 2.05 / 2000 with the MEF-FQDN",
          r.code == "2.05" and r.rsc == 2000 and r.json == {"m2m:mefb": {"rn": "mef", "fqdn": "localhost"}}, r)
    check("mef: the same with coap-client-openssl", again.rsc == 2000, again)
    check("mef: a wrong Kpm gets no response", wrong.code is None, wrong)
    done = run([m2msec, "enrol", "--mef", base, "--kpm-id", kpm_id, "--kpm", kpm.encode().hex(), "--show-secrets"])
    got = dict(line.split("=", 1) for line in done.stdout.decode().splitlines() if "=" in line)
    check("mef: m2msec enrol --mef coaps://...: an enrolment (KeID@MEF-FQDN, a 256-bit Ke)",
          done.returncode == 0 and got.get("keid", "").endswith("@localhost") and len(got.get("ke", "")) == 64,
          (done.stdout + done.stderr).decode(errors="replace")[-400:])
    listed = run([m2msec, "admin", "--data-dir", data, "mef", "list-enrolments"])
    check("mef: the MEF's store holds that enrolment (m2msec admin mef list-enrolments)",
          got.get("keid") and re.search(r"^keid=%s " % re.escape(got.get("keid", "")), listed.stdout.decode(), re.M),
          listed.stdout + listed.stderr)
    # The MEF cannot decrypt the client's Finished and DTLS drops such records silently (RFC 6347 4.1.2.7), so
    # m2msec waits out its handshake timeout: stopped after 4 s here.
    done = run([m2msec, "enrol", "--mef", base, "--kpm-id", kpm_id, "--kpm", ascii_key(32).encode().hex(),
                "--show-secrets"], timeout=4)
    check("mef: m2msec enrol over CoAPS with a wrong Kpm: fails, no Ke",
          done.returncode != 0 and b"ke=" not in done.stdout, done.stdout + done.stderr)
    d.stop()


def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    if len(args) < 3:
        print(__doc__)
        return 2
    m2msecd, work, m2msec = args[0], args[1], args[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    pki = args[3] if len(args) > 3 else os.path.join(work, "pki")
    if len(args) <= 3:
        done = run([sys.executable, os.path.join(HERE, "..", "support", "testpki.py"), pki], timeout=120)
        if not check("testpki.py writes a test PKI", done.returncode == 0, done.stderr[-300:]):
            return 1
    if not check("the test PKI is there (%s)" % pki, os.path.exists(os.path.join(pki, "root.pem"))):
        return 1
    peers = Peers(work)
    keys = {name: ascii_key() for name in (AE1_PSK, AE2_PSK)}
    with open(os.path.join(work, "psk"), "w") as f:
        f.write("# psk identity, key (hex of printable ASCII: libcoap's -k takes text)\n" +
                "".join("%s %s\n" % (name, key.encode().hex()) for name, key in keys.items()))
    server_ca = make_ca(work, "server-ca")
    server_chain, server_key = issue(work, server_ca, "localhost", "DNS:localhost")
    rpk_key, rpk_ni = fresh_rpk(work, "rpk-ae")
    other_key, _ = fresh_rpk(work, "rpk-other")
    with open(os.path.join(work, "rules"), "w") as f:
        f.write("%s Nallowed* CAE1,CAE1x,CAE1s,CAE9\n%s Nallowed* CAE2\n%s Nallowed* Cae1\n%s Nallowed* Cae2\n"
                "%s Nallowed* CAE4\n" % (AE1_PSK, AE2_PSK, CERT_AE, CERT_AE2, rpk_ni))
    # libcoap 4.3.1's coap-client-openssl sends its -c certificate without the chain: the intermediates are
    # anchors too, so that both clients are checked against the same configuration.
    client_ca = os.path.join(work, "client-ca.pem")
    with open(client_ca, "w") as out:
        for name in ("root", "int", "estca"):
            with open(os.path.join(pki, name + ".pem")) as f:
                out.write(f.read())
    d = Daemon(m2msecd, ["--roles", "cse", "--listen", "127.0.0.1:0", "--psk-file", os.path.join(work, "psk"),
                         "--data-dir", os.path.join(work, "data"), "--app-rules", os.path.join(work, "rules"),
                         "--cse-name", CSE_NAME, "--coaps-listen", "127.0.0.1:0", "--coaps-cert-listen",
                         "127.0.0.1:0", "--coaps-rpk-listen", "127.0.0.1:0", "--coap-listen", "127.0.0.1:0",
                         "--rpk-key", os.path.join(pki, "rpk_server.key"), "--cert",
                         server_chain, "--key", server_key,
                         "--client-ca", client_ca, "--ops-listen", "127.0.0.1:0"], work, "cse")
    roles = ("cse-coaps", "cse-coaps-cert", "cse-coaps-rpk", "cse-coap")
    if not check("m2msecd --roles cse prints its CoAP listeners (coaps://, coaps://, coaps://, coap://)",
                 all(d.port(r) for r in roles) and all(d.urls[r].startswith("coaps://") for r in roles[:3]) and
                 d.urls["cse-coap"].startswith("coap://"), d.urls):
        return 1
    # The flood first: the failed handshakes of the checks after it end at the handshake timeout (30 s), and
    # must not land between its two readings of /metrics.
    for part, call in (("ClientHello flood", lambda: client_hello_flood(d, peers, keys, work)),
                       ("TD_M2M_SE_01", lambda: td_m2m_se_01(d, peers, keys)),
                       ("certificates", lambda: certificates(d, peers, pki, work, server_ca[0])),
                       ("raw public keys", lambda: raw_public_keys(d, peers, rpk_key, rpk_ni, other_key, m2msec)),
                       ("plain UDP", lambda: plain_udp(d, peers)),
                       ("message layer", lambda: message_layer(d, peers)),
                       ("stop", lambda: check("m2msecd --roles cse stops on SIGTERM", d.stop() == 0)),
                       ("mef", lambda: mef(m2msecd, m2msec, work, peers))):
        began = time.time()
        call()
        if checks.VERBOSE:
            print("---- %s: %.1f s" % (part, time.time() - began))
    return 0


if __name__ == "__main__":
    code_ = 1
    t0 = time.time()
    try:
        code_ = main()
    finally:
        for daemon in started:
            daemon.stop()
    print("%d passed, %d failed (%.0f s)" % (results["passed"], results["failed"], time.time() - t0))
    if results["failed"] == 0 and code_ == 0 and len(sys.argv) > 2:
        shutil.rmtree(sys.argv[2], ignore_errors=True)
    sys.exit(1 if results["failed"] or code_ else 0)

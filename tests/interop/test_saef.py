#!/usr/bin/env python3
"""Interop and negative tests for `m2msec saef serve|connect` against independent TLS stacks.

usage: test_saef.py PATH/TO/m2msec [--peers-only] [-k SUBSTRING] [-v]

Every case pairs a server and a client, one of them ours and the other `openssl s_server|s_client` or
`gnutls-serv|gnutls-cli`, forces a protocol version / profile / cipher suite, and checks that
  - both sides print the same RFC 5705 exporter value (EXPORTER-oneM2M-Bootstrap, 48 bytes),
  - both sides report the forced cipher suite, our side reports the expected bound peer identity,
  - application data makes the round trip,
or, for the negative table, that our side refuses with `error=... alert=N`, prints no export line, and the
independent peer reports receiving that same alert N.
--peers-only runs the positive matrix with openssl and gnutls talking to each other (no m2msec needed): it
checks the peer drivers themselves.

The test PKI comes from tests/support/testpki.py in a temporary directory. gnutls-serv can only listen on
the wildcard address, so the whole run re-executes itself in a private network namespace (`unshare -rn`,
which holds nothing but loopback); where that is not possible the gnutls-serv cases are skipped. Everything
else binds to 127.0.0.1 only. Prints 'N passed, N failed' last and exits non-zero on any failure.
"""
import base64
import concurrent.futures
import dataclasses
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTPKI = os.path.join(HERE, "..", "support", "testpki.py")
NETNS_MARK = "M2MSEC_INTEROP_NETNS"

LABEL, EXPORT_LEN = "EXPORTER-oneM2M-Bootstrap", 48
HOST = "127.0.0.1"
SERVER_NAME = "in-cse.m2m.example.com"         # SNI, and the dNSName of server.pem
CLIENT_NAME = "mn-cse.in-cse.m2m.example.com"  # dNSName of client.pem
PSK_ID = "dev1@sp.example.com"
PSK_KEY = "3f" * 8 + "a5" * 8 + "0102030405060708090a0b0c0d0e0f10"
WRONG_KEY = "40" + PSK_KEY[2:]
WAIT = 6.0        # any single wait for a peer's output
PROC_LIMIT = 15.0  # hard limit on any child's lifetime

# IANA name -> (OpenSSL name, GnuTLS cipher, GnuTLS MAC, key exchange)
SUITES = {
    "TLS_PSK_WITH_AES_128_CBC_SHA256": ("PSK-AES128-CBC-SHA256", "AES-128-CBC", "SHA256", "PSK"),
    "TLS_PSK_WITH_AES_128_CCM_8": ("PSK-AES128-CCM8", "AES-128-CCM-8", "AEAD", "PSK"),
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": ("ECDHE-ECDSA-AES128-SHA256", "AES-128-CBC", "SHA256", "ECDHE-ECDSA"),
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8": ("ECDHE-ECDSA-AES128-CCM8", "AES-128-CCM-8", "AEAD", "ECDHE-ECDSA"),
    "TLS_AES_128_GCM_SHA256": ("TLS_AES_128_GCM_SHA256", "AES-128-GCM", "AEAD", None),
    "TLS_AES_128_CCM_8_SHA256": ("TLS_AES_128_CCM_8_SHA256", "AES-128-CCM-8", "AEAD", None),
    # Not in any profile: only ever offered by a peer, to be refused.
    "TLS_PSK_WITH_AES_256_GCM_SHA384": ("PSK-AES256-GCM-SHA384", "AES-256-GCM", "AEAD", "PSK"),
}
PROFILE_SUITES = {
    ("psk", "tls12"): ["TLS_PSK_WITH_AES_128_CBC_SHA256", "TLS_PSK_WITH_AES_128_CCM_8"],
    ("cert", "tls12"): ["TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"],
    ("tls13",): ["TLS_AES_128_GCM_SHA256", "TLS_AES_128_CCM_8_SHA256"],
}
PROFILE_SUITES[("psk", "dtls12")] = PROFILE_SUITES[("psk", "tls12")]
PROFILE_SUITES[("cert", "dtls12")] = PROFILE_SUITES[("cert", "tls12")]
PROFILE_SUITES[("rpk", "tls12")] = PROFILE_SUITES[("rpk", "dtls12")] = PROFILE_SUITES[("cert", "tls12")]


def profile_suites(profile, transport):
    return PROFILE_SUITES[("tls13",)] if transport == "tls13" else PROFILE_SUITES[(profile, transport)]


def ni_uri(spki_der):
    """RFC 6920 ni URI (sha-256, base64url without padding) of a DER SubjectPublicKeyInfo."""
    return "ni:///sha-256;" + base64.urlsafe_b64encode(hashlib.sha256(spki_der).digest()).decode().rstrip("=")


# ---------------------------------------------------------------------------------------------- processes

class Child:
    """A child in its own process group, its stdout and stderr collected by reader threads."""
    live = set()
    live_lock = threading.Lock()

    def __init__(self, label, argv, env=None):
        self.label, self.argv = label, argv
        self.port, self.udp = None, False   # set by the Impl that started it
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True, env=env)
        self.started = time.monotonic()
        self.buf = {"out": bytearray(), "err": bytearray()}
        self.eof = {"out": False, "err": False}
        self.cond = threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=(name, pipe), daemon=True)
                        for name, pipe in (("out", self.proc.stdout), ("err", self.proc.stderr))]
        for t in self.readers:
            t.start()
        with Child.live_lock:
            Child.live.add(self)

    def _read(self, name, pipe):
        while True:
            chunk = pipe.read1(65536)
            with self.cond:
                if not chunk:
                    self.eof[name] = True
                else:
                    self.buf[name] += chunk
                self.cond.notify_all()
            if not chunk:
                return

    def text(self, name="out"):
        with self.cond:
            return self.buf[name].decode("utf-8", "replace")

    def wait_for(self, pattern, stream="out", timeout=WAIT):
        """The first match of a bytes regex in the stream, or None on timeout or end of stream."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.buf[stream])
                if m or self.eof[stream]:
                    return m
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def send(self, data):
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass

    def close_stdin(self):
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def finish(self, timeout=WAIT):
        """Exit status; the process group is killed if it is still running after `timeout` (status None)."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        self.kill()
        for t in self.readers:
            t.join(2)
        return rc

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.close_stdin()
        with Child.live_lock:
            Child.live.discard(self)

    def report(self):
        # GnuTLS debug lines ('|<5>| ...') are left out, but for the alerts.
        err = "".join(line for line in self.text("err").splitlines(True)
                      if not line.startswith("|<") or "Alert[" in line)
        return (f"--- {self.label}: {' '.join(self.argv)}\n"
                f"--- {self.label} stdout:\n{self.text('out')}\n--- {self.label} stderr:\n{err}\n")

    @classmethod
    def kill_all(cls):
        with cls.live_lock:
            children = list(cls.live)
        for c in children:
            c.kill()


def watchdog():
    """Kills children that outlive PROC_LIMIT, whatever the test code is waiting on."""
    while True:
        time.sleep(0.5)
        with Child.live_lock:
            old = [c for c in Child.live if time.monotonic() - c.started > PROC_LIMIT]
        for c in old:
            c.kill()


def free_port(transport):
    kind = socket.SOCK_DGRAM if transport == "dtls12" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------- setups

@dataclasses.dataclass(frozen=True)
class Setup:
    """What both sides of one connection are configured with."""
    transport: str            # tls12 | tls13 | dtls12
    profile: str              # psk | cert | rpk
    suite: str = None         # IANA name forced on the peer side; None: the profile's whole list


@dataclasses.dataclass(frozen=True)
class Cred:
    """One side's credentials and knobs. Defaults give a working handshake; negative cases override."""
    role: str
    psk_identity: str = PSK_ID
    psk_key: str = PSK_KEY
    psk_modes: str = "dhe"    # TLS 1.3 peers: dhe (psk_dhe_ke) | ke (psk_ke only); ours: ke adds --psk-ke
    leaf: str = None          # cert profile: testpki leaf name; default server / client by role
    chain: bool = True        # send the intermediate too
    crl: bool = False
    flavour: str = None       # ours only: --peer-flavour
    peer_id: str = None       # ours only: --peer-id
    peer_key_id: str = None   # ours only, RPK: --peer-key-id
    version: str = None       # peer only: an OpenSSL version flag (tls1, tls1_1) instead of the setup's
    cipher: str = None        # peer only: a raw cipher list instead of the forced suite
    no_ems: bool = False      # peer only: leave out extended_master_secret

    def leaf_name(self):
        return self.leaf or self.role

    def rpk_name(self):
        return f"rpk_{self.role}"


@dataclasses.dataclass
class Outcome:
    ok: bool = False          # handshake completed
    exporter: str = None      # lowercase hex
    cipher: str = None        # IANA name
    peer: str = None          # bound peer identity (ours only)
    alert: int = None         # ours: the alert on the error line; peers: the alert they received
    error: str = None         # ours: the error category
    reported: bool = True     # False: this side prints no session details (gnutls-serv --udp), only data
    key_share: bool = None    # gnutls-cli: whether the ServerHello carried a key_share (TLS 1.3 psk_dhe_ke)


class Impl:
    """One TLS implementation driven as a server or a client."""
    name = "?"

    def __init__(self, pki):
        self.pki = pki

    def f(self, name):
        return os.path.join(self.pki, name)

    def cert_files(self, cred):
        leaf = cred.leaf_name()
        return self.f(f"{leaf}.chain.pem" if cred.chain else f"{leaf}.pem"), self.f(f"{leaf}.key")

    def serve(self, setup, cred):
        """A started server child, with .port set once it listens, or None if it never does."""
        raise NotImplementedError

    def connect(self, setup, cred, port):
        raise NotImplementedError

    def serve_data(self, child, payload):
        """Server side of the round trip; echo servers need nothing."""

    def client_start(self, child, payload):
        """Client side of the round trip, before the server's part: interactive clients keep stdin open."""
        child.send(payload)

    def client_end(self, child, payload):
        """Whether the payload came back; then the client's stdin is closed, which ends it."""
        echoed = child.wait_for(re.escape(payload)) is not None
        child.close_stdin()
        return echoed

    def outcome(self, child, role):
        raise NotImplementedError


class Ours(Impl):
    name = "m2msec"

    def __init__(self, pki, exe):
        super().__init__(pki)
        self.exe = exe

    def args(self, setup, cred):
        a = []
        if setup.transport == "dtls12":
            a.append("--dtls")
        if setup.transport == "tls13":
            a.append("--tls1.3")
        if setup.profile == "psk":
            a += ["--psk-identity", cred.psk_identity, "--psk", cred.psk_key]
            if cred.psk_modes == "ke":
                a.append("--psk-ke")
        elif setup.profile == "cert":
            chain, key = self.cert_files(cred)
            a += ["--cert", chain, "--key", key, "--ca", self.f("root.pem")]
            if cred.crl:
                a += ["--crl", self.f("crl.pem")]
            if cred.flavour:
                a += ["--peer-flavour", cred.flavour]
        else:
            a += ["--rpk", "--key", self.f(cred.rpk_name() + ".key")]
            if cred.peer_key_id:
                a += ["--peer-key-id", cred.peer_key_id]
        if cred.peer_id:
            a += ["--peer-id", cred.peer_id]
        return a + ["--export", LABEL, "--export-len", str(EXPORT_LEN)]

    def serve(self, setup, cred):
        c = Child("m2msec serve", [self.exe, "saef", "serve", "--listen", f"{HOST}:0"] + self.args(setup, cred))
        m = c.wait_for(rb"^listening=(\d+)\r?$")
        c.port = int(m.group(1)) if m else None
        return c

    def connect(self, setup, cred, port):
        return Child("m2msec connect", [self.exe, "saef", "connect", "--connect", f"{HOST}:{port}",
                                        "--sni", SERVER_NAME] + self.args(setup, cred))

    def client_start(self, child, payload):
        # `connect` reads all of stdin before it sends anything, then reads back as many octets as it sent.
        child.send(payload)
        child.close_stdin()

    def outcome(self, child, role):
        o, text = Outcome(), child.text()
        fields = dict(re.findall(r"^(peer|cipher|export)=(.*?)\r?$", text, re.M))
        o.peer, o.cipher, o.exporter = fields.get("peer"), fields.get("cipher"), fields.get("export")
        o.ok = "cipher" in fields
        m = re.search(r"^error=(\S+) alert=(\d+|none)\r?$", text, re.M)
        if m:
            o.error, o.alert = m.group(1), None if m.group(2) == "none" else int(m.group(2))
        return o


OPENSSL_TO_IANA = {v[0]: k for k, v in SUITES.items()}
NO_EMS_CONF = "openssl_conf = c\n[c]\nssl_conf = s\n[s]\nsystem_default = d\n[d]\nOptions = -ExtendedMasterSecret\n"


class OpenSSL(Impl):
    name = "openssl"

    def args(self, setup, cred):
        version = cred.version or {"tls12": "tls1_2", "tls13": "tls1_3", "dtls12": "dtls1_2"}[setup.transport]
        a = ["-" + version, "-keymatexport", LABEL, "-keymatexportlen", str(EXPORT_LEN), "-groups", "P-256"]
        suites = [setup.suite] if setup.suite else profile_suites(setup.profile, setup.transport)
        if cred.cipher:
            a += ["-cipher", cred.cipher]
        elif setup.transport == "tls13":
            a += ["-ciphersuites", ":".join(suites)]
        else:
            a += ["-cipher", ":".join(SUITES[s][0] for s in suites)]
        if setup.profile == "psk":
            a += ["-psk_identity", cred.psk_identity, "-psk", cred.psk_key]
            if cred.role == "server":
                a.append("-nocert")
            if cred.psk_modes == "ke":
                a.append("-allow_no_dhe_kex")
        elif setup.profile == "cert":
            leaf = cred.leaf_name()
            a += ["-cert", self.f(f"{leaf}.pem"), "-key", self.f(f"{leaf}.key"), "-CAfile", self.f("root.pem"),
                  "-verify_return_error"]
            if cred.chain:
                a += ["-cert_chain", self.f("int.pem")]
            a += ["-Verify", "2"] if cred.role == "server" else ["-verify", "2", "-verify_hostname", SERVER_NAME]
            if cred.crl:
                a += ["-CRL", self.f("crl.pem"), "-crl_check"]
        else:
            raise ValueError("openssl s_server/s_client cannot do raw public keys")
        return a

    def env(self, cred):
        if not cred.no_ems:
            return None
        path = os.path.join(self.pki, "no-ems.cnf")
        with open(path, "w") as fh:
            fh.write(NO_EMS_CONF)
        return dict(os.environ, OPENSSL_CONF=path)

    def serve(self, setup, cred):
        c = Child("openssl s_server", ["openssl", "s_server", "-accept", f"{HOST}:0", "-naccept", "1"]
                  + self.args(setup, cred), env=self.env(cred))
        m = c.wait_for(rb"^ACCEPT 127\.0\.0\.1:(\d+)")
        c.port = int(m.group(1)) if m else None
        return c

    def connect(self, setup, cred, port):
        return Child("openssl s_client", ["openssl", "s_client", "-connect", f"{HOST}:{port}",
                                          "-servername", SERVER_NAME] + self.args(setup, cred), env=self.env(cred))

    def serve_data(self, child, payload):
        # s_server is no echo server: it prints what it receives and sends its stdin, then closes on EOF.
        if child.wait_for(re.escape(payload)):
            child.send(payload)
        child.close_stdin()

    def outcome(self, child, role):
        o, text = Outcome(), child.text() + child.text("err")
        m = re.search(r"Keying material: ([0-9A-F]+)", text)
        o.exporter = m.group(1).lower() if m else None
        m = re.search(r"Cipher is (\S+)", text, re.I)   # s_server: 'CIPHER is X', s_client: 'New, TLSv1.3, Cipher is X'
        if m and m.group(1) != "(NONE)":
            o.cipher = OPENSSL_TO_IANA.get(m.group(1), m.group(1))
        m = re.search(r"SSL alert number (\d+)", text)
        o.alert = int(m.group(1)) if m else None
        # s_client prints the session, exporter included, even when the handshake then fails with an alert.
        # How the connection ends after the handshake (s_server leaves on EOF) is not its concern.
        o.ok = o.exporter is not None and o.alert is None
        return o


class GnuTLS(Impl):
    name = "gnutls"

    def priority(self, setup, cred):
        vers = {"tls12": "+VERS-TLS1.2", "tls13": "+VERS-TLS1.3", "dtls12": "+VERS-DTLS1.2"}[setup.transport]
        suites = [setup.suite] if setup.suite else profile_suites(setup.profile, setup.transport)
        if setup.profile == "psk":
            kx = ["+PSK"] if cred.psk_modes == "ke" or setup.transport != "tls13" else ["+ECDHE-PSK"]
        else:
            kx = ["+ECDHE-ECDSA"]
        p = ["NORMAL", "-VERS-ALL", vers, "-KX-ALL", *kx, "-CIPHER-ALL", "-MAC-ALL", "-GROUP-ALL",
             "+GROUP-SECP256R1"]
        p += sorted({"+" + SUITES[s][1] for s in suites}) + sorted({"+" + SUITES[s][2] for s in suites})
        if setup.profile == "rpk":
            p += ["-CTYPE-ALL", "+CTYPE-CLI-RAWPK", "+CTYPE-SRV-RAWPK"]
        if cred.no_ems:
            p.append("%NO_SESSION_HASH")
        return ":".join(p)

    def args(self, setup, cred):
        # -d 5 logs each record: the only place gnutls-serv, and gnutls-cli over DTLS (which then carries on
        # retransmitting), show the number of an alert they received.
        a = ["-d", "5", "--priority", self.priority(setup, cred), "--keymatexport", LABEL, "--keymatexportsize",
             str(EXPORT_LEN)]
        if setup.transport == "dtls12":
            a.append("--udp")
        if setup.profile == "cert":
            chain, key = self.cert_files(cred)
            a += ["--x509certfile", chain, "--x509keyfile", key, "--x509cafile", self.f("root.pem")]
            if cred.crl:
                a += ["--x509crlfile", self.f("crl.pem")]
        elif setup.profile == "rpk":
            a += ["--rawpkkeyfile", self.f(cred.rpk_name() + ".key"), "--rawpkfile", self.spki_pem(cred.rpk_name())]
        return a

    def spki_pem(self, name):
        path = self.f(name + ".pub.pem")
        if not os.path.exists(path):
            with open(self.f(name + ".spki.der"), "rb") as fh:
                b64 = base64.encodebytes(fh.read()).decode().replace("\n", "")
            body = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
            with open(path, "w") as fh:
                fh.write(f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n")
        return path

    def serve(self, setup, cred):
        a = ["gnutls-serv", "--echo", "-p", str(free_port(setup.transport))] + self.args(setup, cred)
        if setup.profile == "psk":
            path = self.f(f"psk-{a[a.index('-p') + 1]}.txt")
            with open(path, "w") as fh:
                fh.write(f"{cred.psk_identity}:{cred.psk_key}\n")
            a += ["--pskpasswd", path]
        else:
            a += ["--require-client-cert"] + (["--verify-client-cert"] if setup.profile == "cert" else [])
        # Its stdout is block-buffered into our pipe and it never exits on its own: unbuffer it.
        c = Child("gnutls-serv", (["stdbuf", "-oL"] if shutil.which("stdbuf") else []) + a)
        c.udp = setup.transport == "dtls12"
        ok = c.wait_for(rb"listening on IPv4", stream="err")
        c.port = int(a[a.index("-p") + 1]) if ok else None
        return c

    def connect(self, setup, cred, port):
        a = ["gnutls-cli", HOST, "-p", str(port), "--sni-hostname", SERVER_NAME] + self.args(setup, cred)
        if setup.profile == "psk":
            a += ["--pskusername", cred.psk_identity, "--pskkey", cred.psk_key]
        elif setup.profile == "cert":
            a += ["--verify-hostname", SERVER_NAME]
        else:
            a.append("--insecure")   # a raw public key has no PKI to validate; we check its digest instead
        return Child("gnutls-cli", a)

    def outcome(self, child, role):
        o, text = Outcome(), child.text() + child.text("err")
        m = re.search(r"- Key material: ([0-9a-f]+)", text)
        o.exporter = m.group(1) if m else None
        m = re.search(r"- Description: (.*)", text)
        o.cipher = self.iana(m.group(1)) if m else None
        # The fatal alert it received or, when it is the side refusing, the one it sent.
        m = (re.search(r"Received alert \[(\d+)\]|Alert\[2\|(\d+)\] - .* - was received", text)
             or re.search(r"Sending Alert\[2\|(\d+)\]()", text))
        o.alert = int(m.group(1) or m.group(2)) if m else None
        if role == "client":
            o.key_share = "Parsing extension 'Key Share/51'" in text
        failed = re.search(r"Error in handshake", text) or o.alert is not None
        o.ok = o.exporter is not None and not failed
        if child.udp:
            # gnutls-serv --udp prints neither the session nor the exporter: only that a connection was
            # accepted and the data it echoes. The peer priority allows one suite, so our side's cipher= line
            # is still fully checked; the exporter is cross-checked in the other direction.
            o.reported, o.ok = False, "Accepted connection from" in text and not failed
        return o

    @staticmethod
    def iana(description):
        """'(TLS1.2-X.509)-(PSK)-(AES-128-CCM-8)' -> 'TLS_PSK_WITH_AES_128_CCM_8'."""
        parts = re.findall(r"\(([^)]*)\)", description)
        tls13 = parts[0].startswith("TLS1.3")
        mac = parts[-1] if parts[-1] in ("SHA256", "SHA384", "SHA1") else "AEAD"
        for name, (_, cipher, smac, kx) in SUITES.items():
            if cipher in parts and smac == mac and (kx is None) == tls13:
                if tls13 or (kx == "PSK") == ("PSK" in parts[1]):
                    return name
        return description


# ---------------------------------------------------------------------------------------------- cases

@dataclasses.dataclass
class Case:
    name: str
    setup: Setup
    server: Impl
    client: Impl
    scred: Cred
    ccred: Cred
    refused: bool = False        # a negative case: our side must refuse
    expect_alert: int = None     # refused: the alert on the wire; None: any, so long as both sides agree
    expect_peer: str = None      # the identity our side must bind (peer=)
    ours_role: str = None        # negative cases: our role


class Result:
    def __init__(self, name):
        self.name, self.failures, self.logs, self.refusal = name, [], [], None

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)


def run_case(case, payload_tag):
    r = Result(case.name)
    payload = f"m2m-round-trip {payload_tag} {case.name}\n".encode()
    children = []
    try:
        server = case.server.serve(case.setup, case.scred)
        children.append(server)
        if server.port is None:
            r.check(False, f"{case.server.name} never listened")
            return r
        client = case.client.connect(case.setup, case.ccred, server.port)
        children.append(client)
        case.client.client_start(client, payload)
        case.server.serve_data(server, payload)
        echoed = case.client.client_end(client, payload)
        crc = client.finish()
        src = server.finish(timeout=WAIT if isinstance(case.server, Ours) else 1.0)
        so, co = case.server.outcome(server, "server"), case.client.outcome(client, "client")
        if not case.refused:
            check_success(r, case, so, co, echoed, src, crc)
        else:
            check_refusal(r, case, so, co, src, crc)
    except Exception as e:  # a harness bug fails its case, not the run
        r.check(False, f"harness error: {e!r}")
    finally:
        for c in children:
            c.kill()
            r.logs.append(c.report())
    return r


def check_success(r, case, so, co, echoed, src, crc):
    for role, o in (("server", so), ("client", co)):
        r.check(o.ok, f"{role} did not complete the handshake")
        if not o.reported:
            continue
        r.check(o.exporter is not None and len(o.exporter) == 2 * EXPORT_LEN,
                f"{role} exporter {o.exporter!r} is not {EXPORT_LEN} bytes")
        if case.setup.suite:
            r.check(o.cipher == case.setup.suite, f"{role} cipher {o.cipher!r}, forced {case.setup.suite}")
    if so.reported and co.reported:
        r.check(so.exporter == co.exporter, f"exporters differ: server {so.exporter} client {co.exporter}")
        r.check(so.cipher == co.cipher, f"ciphers differ: server {so.cipher} client {co.cipher}")
    r.check(echoed, "application data did not make the round trip")
    if case.setup.transport == "tls13" and case.setup.profile == "psk" and co.key_share is not None:
        dhe = case.ccred.psk_modes != "ke"
        r.check(co.key_share == dhe, f"ServerHello key_share {co.key_share}: the PSK mode is not "
                                     f"{'psk_dhe_ke' if dhe else 'psk_ke'}")
    for role, impl, o, rc in (("server", case.server, so, src), ("client", case.client, co, crc)):
        if isinstance(impl, Ours):
            r.check(rc == 0, f"our {role} exit status {rc}, want 0")
            r.check(o.error is None, f"our {role} printed an error line")
            if case.expect_peer is not None:
                r.check(o.peer == case.expect_peer, f"our {role} peer={o.peer!r}, want {case.expect_peer!r}")


def check_refusal(r, case, so, co, src, crc):
    ours_role = case.ours_role
    ours, peer = (so, co) if ours_role == "server" else (co, so)
    ours_rc = src if ours_role == "server" else crc
    peer_impl = case.client if ours_role == "server" else case.server
    peer_role = "client" if ours_role == "server" else "server"
    r.check(ours_rc == 1, f"our {ours_role} exit status {ours_rc}, want 1")
    r.check(ours.exporter is None, f"our {ours_role} printed export={ours.exporter}")
    want = case.expect_alert if case.expect_alert is not None else peer.alert
    r.check(ours.alert is not None and ours.alert == want,
            f"our {ours_role} error={ours.error} alert={ours.alert}, want alert={want}")
    r.check(not peer.ok, f"{peer_impl.name} completed the handshake")
    r.check(peer.alert is not None and peer.alert == want,
            f"{peer_impl.name} {peer_role} saw alert {peer.alert} on the wire, want {want}")
    r.refusal = (ours.error, ours.alert, peer.alert)


def interop_cases(ours, peers, pki):
    """Both roles x every peer x every profile x TLS 1.2 / TLS 1.3 / DTLS 1.2 x every suite forced in turn."""
    rpk_spki = {role: open(os.path.join(pki, f"rpk_{role}.spki.der"), "rb").read() for role in ("server", "client")}
    cases = []
    for profile in ("psk", "cert", "rpk"):
        for transport in ("tls12", "tls13", "dtls12"):
            for suite in profile_suites(profile, transport):
                setup = Setup(transport, profile, suite)
                for peer in peers:
                    if profile == "rpk" and not isinstance(peer, GnuTLS):
                        continue
                    for ours_role in ("server", "client"):
                        server, client = (ours, peer) if ours_role == "server" else (peer, ours)
                        scred, ccred = Cred("server"), Cred("client")
                        if profile == "cert" and ours_role == "server":
                            scred = dataclasses.replace(scred, flavour="cse-id")
                        expect = {
                            ("psk", "server"): "12-" + PSK_ID, ("psk", "client"): SERVER_NAME,
                            ("cert", "server"): CLIENT_NAME, ("cert", "client"): SERVER_NAME,
                            ("rpk", "server"): ni_uri(rpk_spki["client"]), ("rpk", "client"): SERVER_NAME,
                        }[(profile, ours_role)]
                        name = f"{ours_role}/{peer.name}/{transport}/{profile}/{suite}"
                        cases.append(Case(name, setup, server, client, scred, ccred, expect_peer=expect))
    # TLS 1.3 PSK, psk_ke only on the gnutls side: accepted with --psk-ke, refused without (below).
    for peer in peers:
        if isinstance(peer, GnuTLS):
            setup = Setup("tls13", "psk", "TLS_AES_128_GCM_SHA256")
            ke = dict(psk_modes="ke")
            cases.append(Case("server/gnutls/tls13/psk_ke-only/--psk-ke", setup, ours, peer,
                              Cred("server", **ke), Cred("client", **ke), expect_peer="12-" + PSK_ID))
            cases.append(Case("client/gnutls/tls13/psk_ke-only/--psk-ke", setup, peer, ours,
                              Cred("server", **ke), Cred("client", **ke), expect_peer=SERVER_NAME))
    return cases


def peer_only_cases(openssl, gnutls):
    """The same matrix with the two independent stacks against each other: checks the drivers."""
    cases = []
    for profile in ("psk", "cert"):
        for transport in ("tls12", "tls13", "dtls12"):
            for suite in profile_suites(profile, transport):
                setup = Setup(transport, profile, suite)
                for server, client in ((openssl, gnutls), (gnutls, openssl), (openssl, openssl)):
                    cases.append(Case(f"{server.name}-serv/{client.name}-cli/{transport}/{profile}/{suite}",
                                      setup, server, client, Cred("server"), Cred("client")))
    for transport in ("tls12", "tls13", "dtls12"):
        cases.append(Case(f"gnutls-serv/gnutls-cli/{transport}/rpk", Setup(transport, "rpk"), gnutls, gnutls,
                          Cred("server"), Cred("client")))
    cases.append(Case("gnutls-serv/gnutls-cli/tls13/psk_ke-only", Setup("tls13", "psk"), gnutls, gnutls,
                      Cred("server", psk_modes="ke"), Cred("client", psk_modes="ke")))
    return cases


# Alert numbers (RFC 8446 section 6 / RFC 5246 section 7.2).
HANDSHAKE_FAILURE, BAD_RECORD_MAC, BAD_CERTIFICATE, CERTIFICATE_REVOKED, CERTIFICATE_EXPIRED = 40, 20, 42, 44, 45
ILLEGAL_PARAMETER, UNKNOWN_CA, PROTOCOL_VERSION = 47, 48, 70

# TLS 1.2: a wrong PSK surfaces as the peer's Finished record failing to decrypt: bad_record_mac
# (RFC 5246 7.2.2; OpenSSL 3.0 and GnuTLS 3.7 both send it). TLS 1.3: the PSK binder does not validate,
# which RFC 8446 6.2 lists under decrypt_error; OpenSSL 3.0 and GnuTLS 3.7.9 both send illegal_parameter (47)
# instead, and our OpenSSL backend with them (a recorded backend deviation, docs/conformance.md). What matters
# is that an unknown identity is indistinguishable from a wrong key (RFC 4279 section 2 / RFC 9257): same
# alert, same everything on the wire.
WRONG_PSK_ALERT = {"tls12": BAD_RECORD_MAC, "tls13": ILLEGAL_PARAMETER}

# A certificate that validates but does not carry the configured identifier (TS-0003 8.1.2.5 (a)) is refused
# with bad_certificate: OpenSSL turns a refused certificate into an alert only through its verify-error table,
# which has no access_denied; the GnuTLS backend sends the same alert for a raw key (docs/conformance.md).
#
# Each row: our side must refuse (exit 1, `error=... alert=N`, no export line) and the peer must see that same
# alert N on the wire, whichever side sent it. An OpenSSL 3.0 TLS 1.3 client sends the alert for a server
# certificate it rejects unencrypted, which gnutls-serv cannot read (it answers bad_record_mac), so the TLS 1.3
# client-side certificate refusals face openssl s_server.
# (name, transport, profile, forced suite, our role, peer, our Cred overrides, peer Cred overrides, alert)
NEGATIVE = [
    *[(f"wrong-psk/{t}/{p}", t, "psk", None, "server", p, {}, {"psk_key": WRONG_KEY}, WRONG_PSK_ALERT[t])
      for t in ("tls12", "tls13") for p in ("openssl", "gnutls")],
    *[(f"unknown-identity/{t}/{p}", t, "psk", None, "server", p, {}, {"psk_identity": "nobody@sp.example.com"},
       WRONG_PSK_ALERT[t]) for t in ("tls12", "tls13") for p in ("openssl", "gnutls")],
    ("tls13-psk_ke-only-without--psk-ke/server", "tls13", "psk", None, "server", "gnutls", {},
     {"psk_modes": "ke"}, HANDSHAKE_FAILURE),
    ("tls13-psk_ke-only-without--psk-ke/client", "tls13", "psk", None, "client", "gnutls", {},
     {"psk_modes": "ke"}, HANDSHAKE_FAILURE),
    ("chain-without-intermediate/server-cert", "tls12", "cert", None, "client", "openssl", {}, {"chain": False},
     UNKNOWN_CA),
    ("chain-without-intermediate/client-cert", "tls12", "cert", None, "server", "gnutls", {}, {"chain": False},
     UNKNOWN_CA),
    ("name-constraints-violated", "tls12", "cert", None, "server", "openssl", {}, {"leaf": "outside"},
     BAD_CERTIFICATE),
    ("name-constraints-violated/tls13", "tls13", "cert", None, "client", "openssl", {}, {"leaf": "outside"},
     BAD_CERTIFICATE),
    ("expired-certificate", "tls12", "cert", None, "server", "openssl", {}, {"leaf": "expired"},
     CERTIFICATE_EXPIRED),
    ("expired-certificate/dtls", "dtls12", "cert", None, "client", "gnutls", {}, {"leaf": "expired"},
     CERTIFICATE_EXPIRED),
    ("revoked-certificate", "tls12", "cert", None, "server", "openssl", {"crl": True}, {"leaf": "revoked"},
     CERTIFICATE_REVOKED),
    ("revoked-certificate/tls13", "tls13", "cert", None, "client", "openssl", {"crl": True}, {"leaf": "revoked"},
     CERTIFICATE_REVOKED),
    ("identity-mismatch/client--peer-id", "tls12", "cert", None, "client", "openssl",
     {"peer_id": SERVER_NAME}, {"leaf": "other"}, BAD_CERTIFICATE),
    ("identity-mismatch/server--peer-id", "tls12", "cert", None, "server", "openssl",
     {"peer_id": CLIENT_NAME, "flavour": "cse-id"}, {"leaf": "other"}, BAD_CERTIFICATE),
    ("identity-mismatch/server--peer-id/tls13", "tls13", "cert", None, "server", "gnutls",
     {"peer_id": CLIENT_NAME, "flavour": "cse-id"}, {"leaf": "other"}, BAD_CERTIFICATE),
    ("tls1.0-offered", "tls12", "psk", None, "server", "openssl", {},
     {"version": "tls1", "cipher": "PSK@SECLEVEL=0"}, PROTOCOL_VERSION),
    ("tls1.1-offered", "tls12", "psk", None, "server", "openssl", {},
     {"version": "tls1_1", "cipher": "PSK@SECLEVEL=0"}, PROTOCOL_VERSION),
    ("tls1.0-offered/cert", "tls12", "cert", None, "server", "openssl", {},
     {"version": "tls1", "cipher": "DEFAULT:@SECLEVEL=0"}, PROTOCOL_VERSION),
    ("no-shared-suite/openssl", "tls12", "psk", "TLS_PSK_WITH_AES_256_GCM_SHA384", "server", "openssl", {}, {},
     HANDSHAKE_FAILURE),
    ("no-shared-suite/gnutls", "tls12", "psk", "TLS_PSK_WITH_AES_256_GCM_SHA384", "server", "gnutls", {}, {},
     HANDSHAKE_FAILURE),
    ("no-extended-master-secret/openssl", "tls12", "psk", None, "server", "openssl", {}, {"no_ems": True},
     HANDSHAKE_FAILURE),
    ("no-extended-master-secret/gnutls", "tls12", "psk", None, "server", "gnutls", {}, {"no_ems": True},
     HANDSHAKE_FAILURE),
    ("no-extended-master-secret/dtls", "dtls12", "psk", None, "server", "gnutls", {}, {"no_ems": True},
     HANDSHAKE_FAILURE),
    ("no-extended-master-secret/client", "tls12", "cert", None, "client", "openssl", {}, {"no_ems": True},
     HANDSHAKE_FAILURE),
]


def negative_cases(ours, peers_by_name, pki):
    # Each side expects its own key from the peer: a well-formed ni URI of the wrong key.
    own_key = {role: ni_uri(open(os.path.join(pki, f"rpk_{role}.spki.der"), "rb").read())
               for role in ("server", "client")}
    table = list(NEGATIVE) + [
        (f"rpk-wrong-peer-key-id/{t}/{role}", t, "rpk", None, role, "gnutls", {"peer_key_id": own_key[role]}, {},
         None)
        for t in ("tls12", "tls13", "dtls12") for role in ("server", "client")]
    cases = []
    for name, transport, profile, suite, ours_role, peer_name, ours_over, peer_over, alert in table:
        peer = peers_by_name.get(peer_name)
        if peer is None:
            continue
        peer_role = "client" if ours_role == "server" else "server"
        ocred = dataclasses.replace(Cred(ours_role), **ours_over)
        pcred = dataclasses.replace(Cred(peer_role), **peer_over)
        server, client = (ours, peer) if ours_role == "server" else (peer, ours)
        scred, ccred = (ocred, pcred) if ours_role == "server" else (pcred, ocred)
        cases.append(Case(f"refuse/{name}", Setup(transport, profile, suite), server, client, scred, ccred,
                          refused=True, expect_alert=alert, ours_role=ours_role))
    return cases


def identity_hiding(results):
    """An unknown PSK identity must look exactly like a wrong key: same error line, same alert on the wire."""
    by_name = {r.name: r for r in results}
    out = []
    for r in results:
        if r.name.startswith("refuse/unknown-identity/"):
            twin = by_name.get(r.name.replace("unknown-identity", "wrong-psk"))
            if twin is None:
                continue
            h = Result(r.name.replace("unknown-identity", "identity-hiding"))
            h.check(r.refusal is not None and r.refusal == twin.refusal,
                    f"unknown identity gives (error, our alert, peer's alert) {r.refusal}, wrong key {twin.refusal}")
            out.append(h)
    return out


# ---------------------------------------------------------------------------------------------- main

def enter_private_netns(argv):
    """Re-executes in a fresh network namespace (loopback only); returns only if that is impossible."""
    if os.environ.get(NETNS_MARK) or not shutil.which("unshare"):
        return
    env = dict(os.environ, **{NETNS_MARK: "1"})
    for flags in (["-n"], ["-r", "-n"]) if os.geteuid() == 0 else (["-r", "-n"],):
        probe = subprocess.run(["unshare", *flags, "true"], capture_output=True, timeout=10)
        if probe.returncode == 0:
            proc = subprocess.Popen(["unshare", *flags, sys.executable, os.path.abspath(__file__), *argv], env=env)
            try:
                sys.exit(proc.wait())
            except KeyboardInterrupt:
                proc.send_signal(signal.SIGINT)
                sys.exit(proc.wait())


def loopback_up():
    """Brings `lo` up inside a new network namespace (SIOCGIFFLAGS / SIOCSIFFLAGS with IFF_UP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, 0x8913, ifreq))[1]
        if not flags & 1:
            fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", flags | 1))


def make_pki(tmp):
    pki = os.path.join(tmp, "pki")
    os.mkdir(pki)
    subprocess.run([sys.executable, TESTPKI, pki], check=True, timeout=60, capture_output=True)
    return pki


def main():
    args = sys.argv[1:]
    peers_only = "--peers-only" in args
    verbose = "-v" in args
    pattern = args[args.index("-k") + 1] if "-k" in args else None
    positional = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "-k")]
    exe = positional[0] if positional else os.path.join(HERE, "..", "..", "build", "release", "bin", "m2msec")

    enter_private_netns(args)
    isolated = bool(os.environ.get(NETNS_MARK))
    if isolated:
        loopback_up()
    threading.Thread(target=watchdog, daemon=True).start()

    missing = [t for t in ("openssl", "gnutls-cli", "gnutls-serv") if not shutil.which(t)]
    if missing:
        print(f"missing peers: {' '.join(missing)} (apt-get install -y openssl gnutls-bin)")
        print("0 passed, 1 failed")
        return 1

    tmp = tempfile.mkdtemp(prefix="m2msec-interop-")
    try:
        pki = make_pki(tmp)
        openssl, gnutls = OpenSSL(pki), GnuTLS(pki)
        if peers_only:
            cases = peer_only_cases(openssl, gnutls)
        else:
            ours = Ours(pki, exe)
            cases = interop_cases(ours, [openssl, gnutls], pki) + negative_cases(
                ours, {"openssl": openssl, "gnutls": gnutls}, pki)
        if pattern:
            cases = [c for c in cases if pattern in c.name]
        skipped = []
        if not isolated:
            skipped = [c for c in cases if isinstance(c.server, GnuTLS)]
            cases = [c for c in cases if not isinstance(c.server, GnuTLS)]
        tag = os.urandom(4).hex()
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda c: run_case(c, tag), cases))
    finally:
        Child.kill_all()
        shutil.rmtree(tmp, ignore_errors=True)

    results += identity_hiding(results)
    passed = failed = 0
    for r in results:
        if r.failures:
            failed += 1
            print(f"FAIL {r.name}")
            for f in r.failures:
                print(f"  - {f}")
            for log in r.logs:
                print(log.rstrip())
        else:
            passed += 1
            if verbose:
                print(f"ok   {r.name}" + (f"  (error={r.refusal[0]} alert={r.refusal[1]})" if r.refusal else ""))
    for c in skipped:
        print(f"SKIP {c.name}: gnutls-serv listens on the wildcard address and no private network namespace")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Remote security provisioning with a MEF and the MAF-based SAEF (TS-0003 V3.18.0 clauses 8.3, 8.8, 8.2.2.3)
end to end, real processes on loopback:

  `m2msecd --roles mef,maf` (SQLite, then two replicas sharing PostgreSQL, then MEF and MAF in separate
  processes talking /fetchCredentials over the wire) serves; `m2msec enrol`, `m2msec maf ...` and `m2msec
  admin ...` drive it; `cse_server` (tests/system/cse_server.cpp) is the hosting CSE that retrieves Kc from the
  MAF; `openssl s_client` over TLS-PSK is the independent client, for the CSE and for raw oneM2M HTTP requests
  (bad input, replays, wrong originators). Python's hmac checks the Km derivation (TS-0003 10.3.2).
  IBC Credential Provisioning (seed 002 8.3.7) with the MEF and a KMS in separate processes: the IBC_PROV
  command, the credential checked and kept by `m2msec enrol`, then used by `m2msec ibc sign|verify|encap|decap`.
  Also: the certificate-based MEF and MAF Handshakes (with the test PKI of testpki.py), MEF Client Commands
  (8.3.9), re-enrolment, expired enrolments (10.7), durability of acknowledged enrolments across SIGKILL, and
  the ops endpoint (/health, /metrics).

usage: test_mef_maf.py M2MSEC M2MSECD CSE_SERVER PG_CLUSTER_PY WORKDIR TESTPKI_DIR [-v]

Every key is fresh (os.urandom) for each run; WORKDIR is wiped first and removed after a clean run. Prints 'N passed, N failed' last and
exits non-zero on any failure.
"""
import base64
import concurrent.futures
import datetime
import functools
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import checks  # noqa: E402  (tests/support: check, run, results)
from checks import VERBOSE, HttpAnswer, check, results  # noqa: E402

WAIT = 20
run = functools.partial(checks.run, timeout=WAIT)
# The enrolment whose Kc must still open the CSE after several steps, then fail once expired: long enough for the
# steps in between under ASan on a loaded machine.
SHORT_LIFETIME = 30
FQDN = "localhost"  # the default MEF-FQDN and MAF-FQDN of m2msecd
KM_LABEL = b"oneM2M Enrolment Key to Master Credential derivation"  # TS-0003 10.3.2
RETRY = 4242  # --retry-duration of the SQLite daemon, seen again in NO_MORE_COMMANDS
CMD_ARGS = '{"objp":"./a","otid":1}'

started = []  # every process we start, stopped in the end whatever happens


def hexkey(n=32):
    return os.urandom(n).hex()


def out_of(done):
    return (done.stdout + done.stderr).decode(errors="replace").strip()


def fields(text):
    """'name=value' lines as a dict; 'command k=v k=v' lines as a list of dicts under 'commands'."""
    out = {"commands": []}
    for line in text.splitlines():
        if line.startswith("command "):
            out["commands"].append(dict(w.split("=", 1) for w in line.split()[1:] if "=" in w))
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name.strip()] = value.strip()
    return out


class Proc:
    """A server process whose stdout goes to a file, polled for its 'listening' lines."""

    def __init__(self, name, args, work):
        self.name = name
        self.out_path = os.path.join(work, name + ".stdout")
        self.err_path = os.path.join(work, name + ".stderr")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        started.append(self)

    def stdout(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def wait_for(self, pattern, count=1):
        """The matches of pattern once there are `count` of them (or what there is when it exits/times out)."""
        deadline = time.time() + WAIT
        while True:
            found = re.findall(pattern, self.stdout(), re.M)
            if len(found) >= count or self.proc.poll() is not None or time.time() > deadline:
                return found
            time.sleep(0.02)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        return checks.stop(self.proc, WAIT)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


class Daemon(Proc):
    """m2msecd: the port of its PSK listener and the URL of its ops endpoint."""

    def __init__(self, m2msecd, name, args, work):
        super().__init__(name, [m2msecd] + args, work)
        found = self.wait_for(r"^listening role=ops url=(\S+)$")
        self.ops = found[0] if found else None
        self.roles = dict(re.findall(r"^listening role=(mef|maf|kms) url=https://127\.0\.0\.1:(\d+)/\w+ auth=psk$",
                                     self.stdout(), re.M))
        ports = set(self.roles.values())
        self.port = int(ports.pop()) if len(ports) == 1 else None

    def ok(self):
        return self.ops is not None and self.port is not None

    def url(self, role):
        return "https://localhost:%d/%s" % (self.port, role)


class Cse(Proc):
    def __init__(self, cse_server, name, maf_url, km_id, km, work):
        super().__init__(name, [cse_server, "--listen", "127.0.0.1:0", "--maf", maf_url, "--km-id", km_id, "--km", km],
                         work)
        found = self.wait_for(r"^listening url=https://127\.0\.0\.1:(\d+)$")
        self.port = int(found[0]) if found else None


def s_client(port, request, psk_id, psk, servername=FQDN):
    """One exchange over TLS 1.2 PSK driven by `openssl s_client` (OpenSSL, not our TLS code)."""
    return run(["openssl", "s_client", "-quiet", "-ign_eof", "-tls1_2", "-cipher", "PSK-AES128-CBC-SHA256",
                "-psk", psk, "-psk_identity", psk_id, "-servername", servername,
                "-connect", "127.0.0.1:%d" % port], data=request)


def cse_request(cse_port, key_id, key):
    done = s_client(cse_port, b"GET / HTTP/1.1\r\nHost: cse\r\nConnection: close\r\n\r\n", key_id, key,
                    servername="cse." + FQDN)
    return done.stdout.decode(errors="replace"), done


def raw(port, psk_id, psk, method, path, origin, ri, body=None, content_type=None):
    head = "%s %s HTTP/1.1\r\nHost: %s\r\nX-M2M-Origin: %s\r\nX-M2M-RI: %s\r\nX-M2M-RVI: 3\r\n" % (
        method, path, FQDN, origin, ri)
    if content_type:
        head += "Content-Type: %s\r\n" % content_type
    payload = b""
    if body is not None:
        payload = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
        head += "Content-Length: %d\r\n" % len(payload)
    head += "Connection: close\r\n\r\n"
    return HttpAnswer(s_client(port, head.encode() + payload, psk_id, psk))


def m2m_time(delta_seconds):
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_seconds)
    return at.strftime("%Y%m%dT%H%M%S")


def mef_registration(fqdn=FQDN):
    return {"m2m:mefcr": {"fqdn": fqdn, "et": m2m_time(86400), "adfq": fqdn}}


def maf_key_registration(targets, fqdn=FQDN):
    return {"m2m:mafkr": {"fqdn": fqdn, "et": m2m_time(3600), "adfq": fqdn, "suid": 32, "tgis": targets}}


def unique_ri(tag):
    return "%s-%s" % (tag, os.urandom(8).hex())


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=WAIT) as r:
            return r.status, r.read().decode(errors="replace"), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace"), ""
    except OSError as e:
        return None, str(e), ""


PROM_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
                       r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? '
                       r'([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|NaN|[-+]Inf)(?: -?\d+)?$')
PROM_COMMENT = re.compile(r"^# (?:HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* "
                          r"(?:counter|gauge|summary|histogram|untyped))$")


def metrics(daemon):
    """(problems, samples) of the daemon's /metrics: samples maps (name, frozenset of label pairs) to value."""
    status, text, content_type = http_get(daemon.ops + "/metrics")
    problems, samples, typed = [], {}, set()
    if status != 200:
        return ["status %s: %s" % (status, text)], samples
    if not content_type.startswith("text/plain"):
        problems.append("Content-Type " + content_type)
    if not text.endswith("\n"):
        problems.append("no final newline")
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("#"):
            if not PROM_COMMENT.match(line):
                problems.append("bad comment: " + line)
            elif line.startswith("# TYPE "):
                typed.add(line.split()[2])
            continue
        m = PROM_LINE.match(line)
        if not m:
            problems.append("bad sample: " + line)
            continue
        name = m.group(1)
        base = re.sub(r"_(sum|count|bucket)$", "", name)
        if name not in typed and base not in typed:
            problems.append("no # TYPE before " + name)
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        samples[(name, labels)] = float(m.group(4))
    return problems, samples


def total(samples, name, **labels):
    wanted = set(labels.items())
    return sum(v for (n, l), v in samples.items() if n == name and wanted <= set(l))


class Cli:
    def __init__(self, m2msec, store_args):
        self.m2msec = m2msec
        self.store_args = store_args

    def admin(self, *args):
        return run([self.m2msec, "admin"] + self.store_args + list(args))

    def enrolments(self):
        done = self.admin("mef", "list-enrolments")
        return re.findall(r"^keid=(\S+) expires=\d{8}T\d{6}$", done.stdout.decode(), re.M), done

    def add_enrolee(self, kpm_id, kpm, *extra):
        return self.admin("mef", "add-enrolee", "--kpm-id", kpm_id, "--kpm", kpm, *extra)

    def add_maf_client(self, km_id, km, client_id):
        return self.admin("maf", "add-client", "--km-id", km_id, "--km", km, "--client-id", client_id)

    def enrol(self, mef_url, kpm_id, kpm):
        done = run([self.m2msec, "enrol", "--mef", mef_url, "--kpm-id", kpm_id, "--kpm", kpm, "--show-secrets"])
        return fields(done.stdout.decode()), done

    def derive_km(self, ke, maf_id=FQDN):
        done = run([self.m2msec, "derive", "km", "--ke", ke, "--maf-id", maf_id])
        return done.stdout.decode().strip(), done

    def maf(self, command, maf_url, km_id, km, *extra):
        done = run([self.m2msec, "maf", command, "--maf", maf_url, "--km-id", km_id, "--km", km] + list(extra))
        return fields(done.stdout.decode()), done


def python_km(ke_hex, maf_id=FQDN):
    return hmac.new(bytes.fromhex(ke_hex), KM_LABEL + maf_id.encode(), hashlib.sha256).hexdigest()


def device_to_cse(cli, tag, cse_server, work, maf_for_device, maf_for_cse, enrolment, cse_km_id, cse_km,
                  retrieve_at=None):
    """MAF registration with the KeID (Km from the MEF's Ke), key registration for the CSE Ccse1, and the CSE
    naming the device over TLS-PSK with the Key Identifier. Returns (KmID, Km, key-id, key, cse) or None."""
    ke, ke_id, client_id = enrolment.get("ke", ""), enrolment.get("keid", ""), enrolment.get("client-id", "")
    km, done = cli.derive_km(ke)
    check(tag + ": m2msec derive km = HMAC-SHA256(Ke, label || MAF-FQDN) (Python hmac)",
          done.returncode == 0 and km == python_km(ke), "%s vs %s %s" % (km, python_km(ke), out_of(done)))
    reg, done = cli.maf("register", maf_for_device, ke_id, km)
    km_id = reg.get("km-id", "")
    if not check(tag + ": MAF registration with the KeID and Km (the MAF got Km from the MEF's Ke)",
                 done.returncode == 0 and km_id.endswith("@" + FQDN) and km_id != ke_id and
                 reg.get("client-id") == client_id and reg.get("registration", "").startswith("acr-"), out_of(done)):
        return None
    key, done = cli.maf("register-key", maf_for_device, km_id, km, "--targets", "Ccse1", "--show-secrets")
    key_id, kc = key.get("key-id", ""), key.get("key", "")
    if not check(tag + ": key registration with the assigned KmID for target Ccse1",
                 done.returncode == 0 and re.fullmatch(r"[0-9A-F]{32}@" + re.escape(FQDN), key_id) and len(kc) == 64,
                 out_of(done)):
        return None
    got, done = cli.maf("retrieve-key", retrieve_at or maf_for_cse, cse_km_id, cse_km, "--key-id", key_id,
                        "--show-secrets")
    check(tag + ": the CSE's MAF credential retrieves Kc, source = the device",
          done.returncode == 0 and got.get("key") == kc and got.get("source") == client_id and got.get("suid") == "32",
          out_of(done))
    cse = Cse(cse_server, tag + "-cse", maf_for_cse, cse_km_id, cse_km, work)
    if not check(tag + ": cse_server listens", cse.port is not None, cse.stderr()):
        return None
    text, done = cse_request(cse.port, key_id, kc)
    check(tag + ": openssl s_client with the Key Identifier and Kc: the CSE names the device",
          "identity=%s identifier=%s" % (client_id, key_id) in text, out_of(done)[-400:])
    return km_id, km, key_id, kc, cse


# --- 1, 4, 5, 7: both roles in one m2msecd on SQLite --------------------------------------------------------

def scenario_sqlite(m2msec, m2msecd, cse_server, work):
    data = os.path.join(work, "sqlite")
    cli = Cli(m2msec, ["--data-dir", data])
    kpm = hexkey()
    check("sqlite: admin mef add-enrolee", cli.add_enrolee("dev1", kpm, "--enrolee-id", "Cdevice1").returncode == 0)
    queued = cli.admin("mef", "add-command", "--client-id", "Cdevice1", "--class", "mo-node", "--args", CMD_ARGS)
    m = re.search(r"cmd-id=(\S+)", queued.stdout.decode())
    cmd_id = m.group(1) if m else ""
    check("sqlite: admin mef add-command (mo-node) before enrolment", queued.returncode == 0 and cmd_id, out_of(queued))
    expiring_kpm = hexkey()
    check("sqlite: admin mef add-enrolee --lifetime 2",
          cli.add_enrolee("exp1", expiring_kpm, "--enrolee-id", "Cexp1", "--lifetime", "2").returncode == 0)
    short_kpm = hexkey()
    check("sqlite: admin mef add-enrolee --lifetime %d" % SHORT_LIFETIME,
          cli.add_enrolee("exp2", short_kpm, "--enrolee-id", "Cexp2", "--lifetime", str(SHORT_LIFETIME)).returncode == 0)
    raw_kpm = hexkey()
    check("sqlite: admin mef add-enrolee (raw requests)", cli.add_enrolee("raw1", raw_kpm).returncode == 0)

    d = Daemon(m2msecd, "sqlite-m2msecd", ["--data-dir", data, "--listen", "127.0.0.1:0", "--roles", "mef,maf",
                                           "--retry-duration", str(RETRY)], work)
    if not check("sqlite: m2msecd prints its mef, maf and ops endpoints",
                 d.ok() and set(d.roles) == {"mef", "maf"}, d.stdout() + d.stderr()):
        return
    try:
        # 7: /health and a first /metrics.
        status, text, _ = http_get(d.ops + "/health")
        check("ops: /health answers 200 ok", status == 200 and text.strip() == "ok", "%s %r" % (status, text))
        problems, before = metrics(d)
        check("ops: /metrics parses as Prometheus text", not problems, problems)
        check("ops: /metrics reports the SQLite store up", total(before, "m2msec_store_up", backend="sqlite") == 1,
              before)

        # The expiring enrolment, early: its 2 s run while the rest happens.
        expiring, done = cli.enrol(d.url("mef"), "exp1", expiring_kpm)
        expiring_at = time.time()
        check("expired enrolment: enrols while valid", done.returncode == 0 and "ke" in expiring, out_of(done))
        # 1: enrolment (PPSK RSPF, TLS-PSK KpmID/Kpm) and 4: MEF Client Commands.
        enrolment, done = cli.enrol(d.url("mef"), "dev1", kpm)
        check("enrol: exit 0 with keid, ke, client-id=Cdevice1",
              done.returncode == 0 and re.fullmatch(r"[0-9A-F]{32}@" + FQDN, enrolment.get("keid", "")) and
              re.fullmatch(r"[0-9a-f]{64}", enrolment.get("ke", "")) and enrolment.get("client-id") == "Cdevice1",
              out_of(done))
        commands = enrolment["commands"]
        check("commands: the queued mo-node command is reported with status 41 (CLASS_NOT_SUPPORTED)",
              len(commands) == 1 and commands[0].get("cmd-id") == cmd_id and commands[0].get("class") == "3" and
              commands[0].get("status") == "41", out_of(done))
        lines = done.stdout.decode().splitlines()
        check("commands: then NO_MORE_COMMANDS, retry-after = the daemon's --retry-duration",
              enrolment.get("retry-after") == str(RETRY) and
              [i for i, l in enumerate(lines) if l.startswith("command ")] <
              [i for i, l in enumerate(lines) if l.startswith("retry-after=")], out_of(done))
        listed, done = cli.enrolments()
        check("enrol: the KeID printed equals the MEF's (admin mef list-enrolments)",
              enrolment.get("keid") in listed and len(listed) == 2, out_of(done))

        # A device that lost its state enrols again: the re-enrolment replaces its registration and revokes
        # the previous Ke (docs/conformance.md, choices for the MEF and MAF).
        again, done = cli.enrol(d.url("mef"), "dev1", kpm)
        relisted, _ = cli.enrolments()
        check("enrol again with the same Kpm: a new KeID replaces the previous one",
              done.returncode == 0 and again.get("keid") in relisted and enrolment.get("keid") not in relisted and
              len(relisted) == len(listed), "%s %s" % (out_of(done), relisted))
        revoked_km = python_km(enrolment.get("ke", "00"))
        _, done = cli.maf("register", d.url("maf"), enrolment.get("keid", ""), revoked_km)
        check("the revoked KeID no longer opens a MAF Handshake", done.returncode != 0, out_of(done))
        enrolment = again
        listed = relisted

        # A second short enrolment that registers at the MAF and registers a key for the CSE while valid: made
        # just before the CSE starts, so that a slow (ASan, loaded) run still finds it valid there.
        short, done = cli.enrol(d.url("mef"), "exp2", short_kpm)
        short_at = time.time()
        short_km = python_km(short.get("ke", "00"))
        short_reg, done = cli.maf("register", d.url("maf"), short.get("keid", "x"), short_km)
        short_key, done2 = cli.maf("register-key", d.url("maf"), short_reg.get("km-id", "x"), short_km,
                                   "--targets", "Ccse1", "--show-secrets")
        check("short enrolment (%d s): MAF registration and a key for Ccse1 while valid" % SHORT_LIFETIME,
              done.returncode == 0 and done2.returncode == 0 and short_key.get("key"), out_of(done) + out_of(done2))
        check("short enrolment: nothing made from Ke outlives it (10.7): registration and key expire with it",
              short_reg.get("expires", "9") <= short.get("expires", "0") and
              short_key.get("expires", "9") <= short.get("expires", "0"),
              "enrolment %s, MAF registration %s, key %s" % (short.get("expires"), short_reg.get("expires"),
                                                             short_key.get("expires")))

        cse_km = hexkey()
        check("admin maf add-client for the CSE", cli.add_maf_client("cse1@" + FQDN, cse_km, "Ccse1").returncode == 0)
        chain = device_to_cse(cli, "sqlite", cse_server, work, d.url("maf"), d.url("maf"), enrolment,
                              "cse1@" + FQDN, cse_km)
        if chain:
            km_id, km, key_id, kc, cse = chain
            text, done = cse_request(cse.port, short_key.get("key-id", "x"), short_key.get("key", "00"))
            check("short enrolment: its Kc opens the CSE while valid", "identity=Cexp2" in text, out_of(done)[-300:])
            text, done = cse_request(cse.port, key_id, hexkey())
            check("CSE: openssl s_client with a wrong Kc fails",
                  done.returncode != 0 and "identity=" not in text, out_of(done)[-300:])
            other, done = cli.maf("register-key", d.url("maf"), km_id, km, "--targets", "Cother", "--show-secrets")
            check("key registration for target Cother", done.returncode == 0 and other.get("key"), out_of(done))
            text, done = cse_request(cse.port, other.get("key-id", "x@" + FQDN), other.get("key", hexkey()))
            check("CSE: a Key Identifier for which the CSE is not a target fails",
                  done.returncode != 0 and "identity=" not in text, out_of(done)[-300:])
            got, done = cli.maf("retrieve-key", d.url("maf"), "cse1@" + FQDN, cse_km, "--key-id", other.get("key-id", ""))
            check("MAF key retrieval by a client not on the target list: 4103, exit non-zero",
                  done.returncode != 0 and "4103" in out_of(done), out_of(done))
            text, done = cse_request(cse.port, key_id, kc)
            check("CSE: still serves the right Kc after the refusals", "identity=Cdevice1" in text, out_of(done)[-300:])
            bad_input(cli, d, raw_kpm, km_id, km, enrolment)
        else:
            bad_input(cli, d, raw_kpm, None, None, enrolment)

        # 5: the expired enrolment: the MAF cannot get Km, so the MAF Handshake fails.
        time.sleep(max(0.0, expiring_at + 3.2 - time.time()))
        km_exp, _ = cli.derive_km(expiring.get("ke", "00" * 32))
        reg, done = cli.maf("register", d.url("maf"), expiring.get("keid", "0" * 32 + "@" + FQDN), km_exp)
        check("expired enrolment: maf register with its KeID fails (handshake refused)",
              done.returncode != 0 and "registration" not in reg, out_of(done))
        time.sleep(max(0.0, short_at + SHORT_LIFETIME + 1.2 - time.time()))
        _, done = cli.maf("register-key", d.url("maf"), short_reg.get("km-id", "x@" + FQDN), short_km,
                          "--targets", "Ccse1")
        check("short enrolment expired: its assigned KmID no longer opens a MAF Handshake", done.returncode != 0,
              out_of(done))
        _, done = cli.maf("register", d.url("maf"), short.get("keid", "x@" + FQDN), short_km)
        check("short enrolment expired: nor does its KeID", done.returncode != 0, out_of(done))
        if chain and short_key.get("key"):
            text, done = cse_request(chain[4].port, short_key["key-id"], short_key["key"])
            check("short enrolment expired: its Kc no longer opens the CSE", "identity=" not in text,
                  out_of(done)[-300:])

        # 7: the counters grew.
        problems, after = metrics(d)
        check("ops: /metrics still parses after the requests", not problems, problems)
        for role in ("mef", "maf"):
            check("ops: m2msec_requests_total{role=%s} grew" % role,
                  total(after, "m2msec_requests_total", role=role) > total(before, "m2msec_requests_total", role=role),
                  "%s -> %s" % (total(before, "m2msec_requests_total", role=role),
                                total(after, "m2msec_requests_total", role=role)))
        check("ops: m2msec_requests_total counts the refusals by code (rsc=4000, 4105, 4106)",
              all(total(after, "m2msec_requests_total", rsc=c) >= 1 for c in ("4000", "4105", "4106")), after)
        check("ops: m2msec_failed_handshakes_total grew (unknown KpmID, expired KeID)",
              total(after, "m2msec_failed_handshakes_total") >= total(before, "m2msec_failed_handshakes_total") + 2,
              "%s -> %s" % (total(before, "m2msec_failed_handshakes_total"),
                            total(after, "m2msec_failed_handshakes_total")))
        status, _, _ = http_get(d.ops + "/nothing")
        check("ops: an unknown path is 404", status == 404, status)
        try:
            with urllib.request.urlopen(urllib.request.Request(d.ops + "/health", data=b"x"), timeout=WAIT) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        check("ops: POST /health is 405", status == 405, status)
        check("ops: the request duration summary has _sum and _count per role",
              all((n, frozenset({("role", role)})) in after for role in ("mef", "maf")
                  for n in ("m2msec_request_duration_seconds_sum", "m2msec_request_duration_seconds_count")), after)
        check("sqlite: m2msecd survived everything", d.alive(), d.stderr())
    finally:
        check("sqlite: m2msecd stops on SIGTERM", d.stop() == 0, d.stderr())


def bad_input(cli, d, raw_kpm, km_id, km, enrolment):
    """5: each refused with the right code, and nothing changes."""
    port = d.port
    before, _ = cli.enrolments()
    mef = lambda *a, **k: raw(port, "raw1", raw_kpm, *a, **k)
    reg_type = "application/json;ty=7002"

    r = mef("GET", "/mef", "10-raw1", unique_ri("base"))
    check("raw: RETRIEVE /mef as 10-<KpmID>: 2000 with the MEF-FQDN, X-M2M-RI and X-M2M-RVI echoed",
          r.rsc == 2000 and r.json == {"m2m:mefb": {"rn": "mef", "fqdn": FQDN}} and
          r.headers.get("x-m2m-ri", "").startswith("base-") and r.headers.get("x-m2m-rvi") == "3", r)
    r = mef("POST", "/mef", "10-raw1", unique_ri("json"), '{"m2m:mefcr": {"fqdn": ', reg_type)
    check("raw: malformed JSON: 4000", r.http == 400 and r.rsc == 4000, r)
    r = mef("POST", "/mef", "10-raw1", unique_ri("big"), b'{"m2m:mefcr": {"lbl": ["' + b"a" * 70000 + b'"]}}',
            reg_type)
    check("raw: a body over 64 KiB: HTTP 413", r.http == 413, r)
    r = mef("POST", "/mef", "10-raw1", unique_ri("ty"), mef_registration(), "application/json;ty=9999")
    check("raw: unknown resource type ty=9999: 4000", r.http == 400 and r.rsc == 4000, r)
    r = mef("POST", "/mef", "10-raw1", unique_ri("attr"), {"m2m:mefcr": {"fqdn": FQDN, "et": "tomorrow", "adfq": FQDN}},
            reg_type)
    check("raw: et that is not YYYYMMDDTHHMMSS: 4000", r.rsc == 4000, r)
    r = mef("POST", "/mef", "10-someone-else", unique_ri("origin"), mef_registration(), reg_type)
    check("raw: a wrong X-M2M-Origin: 4106", r.http == 403 and r.rsc == 4106, r)
    r = mef("POST", "/mef", "10-raw1", unique_ri("fqdn"), mef_registration("other.example"), reg_type)
    check("raw: a registration for another MEF-FQDN: 4000", r.rsc == 4000, r)
    r = mef("GET", "/fetchCredentials/%s@other.example/21" % os.urandom(16).hex().upper(), "10-raw1", unique_ri("fc"))
    check("raw: fetchCredentials with a KeID naming another MEF: 4000", r.rsc == 4000, r)
    r = mef("GET", "/fetchCredentials/%s/21" % enrolment.get("keid", ""), "10-raw1", unique_ri("fc"))
    check("raw: fetchCredentials by an enrolee that is not the Enrolment Target: 4103, no credential",
          r.rsc == 4103 and "cred" not in (r.json or {}).get("m2m:fcred", {"cred": ""}), r)
    middle, done = cli.enrolments()
    check("raw: the refused requests changed no enrolment", middle == before, out_of(done))

    ri = unique_ri("replay")
    first = mef("POST", "/mef", "10-raw1", ri, mef_registration(), reg_type)
    inner = (first.json or {}).get("m2m:mefcr", {})
    check("raw: a well-formed MEF Client Registration: 2001 with keid and mcid",
          first.rsc == 2001 and first.headers.get("x-m2m-ri") == ri and re.fullmatch(r"[0-9A-F]{32}@" + FQDN,
                                                                                      inner.get("keid", "")) and
          inner.get("mcid") == "10-raw1", first)
    second = mef("POST", "/mef", "10-raw1", ri, mef_registration(), reg_type)
    check("raw: the same X-M2M-RI again (new connection): 4105 as a replay",
          second.rsc == 4105 and b"used before" in second.body, second)
    after, done = cli.enrolments()
    check("raw: one enrolment more, not two", len(after) == len(before) + 1 and inner.get("keid") in after,
          "%d -> %d %s" % (len(before), len(after), out_of(done)))

    if km_id:
        maf = lambda *a, **k: raw(port, km_id, km, *a, **k)
        key_type = "application/json;ty=7007"
        ri = unique_ri("keyreplay")
        first = maf("POST", "/maf", "11-" + km_id, ri, maf_key_registration(["Ccse1"]), key_type)
        check("raw MAF: key registration as 11-<KmID>: 2001", first.rsc == 2001, first)
        second = maf("POST", "/maf", "11-" + km_id, ri, maf_key_registration(["Ccse1"]), key_type)
        check("raw MAF: the same X-M2M-RI again: 4105", second.rsc == 4105 and b"used before" in second.body, second)
        r = maf("POST", "/maf", "11-other@" + FQDN, unique_ri("origin"), maf_key_registration(["Ccse1"]), key_type)
        check("raw MAF: a wrong X-M2M-Origin: 4106", r.rsc == 4106, r)
        r = maf("POST", "/maf", "11-" + km_id, unique_ri("suid"),
                {"m2m:mafkr": dict(maf_key_registration(["Ccse1"])["m2m:mafkr"], suid=22)}, key_type)
        check("raw MAF: a SUID the MAF does not distribute (22): 4000", r.rsc == 4000, r)
        r = maf("POST", "/maf", "11-" + km_id, unique_ri("ty"), maf_key_registration(["Ccse1"]),
                "application/json;ty=9999")
        check("raw MAF: ty=9999: 4000", r.rsc == 4000, r)
        r = maf("GET", "/maf/" + "0" * 32, "11-" + km_id, unique_ri("nokey"))
        check("raw MAF: retrieving an unknown key: 4103", r.rsc == 4103, r)

    # Plain HTTP to the TLS port: no HTTP answer.
    answer, error = b"", ""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /mef HTTP/1.1\r\nHost: localhost\r\nX-M2M-Origin: 10-raw1\r\nX-M2M-RI: p\r\n\r\n")
            while True:
                piece = s.recv(4096)
                if not piece:
                    break
                answer += piece
    except OSError as e:
        error = str(e)
    check("plain HTTP to the TLS-PSK port: no HTTP response, connection closed",
          not answer.startswith(b"HTTP/") and "timed out" not in error, "%r %s" % (answer[:100], error))

    # An unknown KpmID: the handshake fails, for s_client and for m2msec enrol.
    r = raw(port, "nobody", hexkey(), "GET", "/mef", "10-nobody", unique_ri("nobody"))
    check("unknown KpmID (openssl s_client): the handshake fails", r.http is None and r.done.returncode != 0, r)
    _, done = cli.enrol(d.url("mef"), "nobody", hexkey())
    check("unknown KpmID (m2msec enrol): fails", done.returncode != 0, out_of(done))
    _, done = cli.enrol(d.url("mef"), "raw1", hexkey())
    check("a known KpmID with the wrong Kpm (m2msec enrol): fails", done.returncode != 0, out_of(done))
    final, done = cli.enrolments()
    check("unknown KpmID, wrong Kpm, plain HTTP: no enrolment made", final == after, out_of(done))


# --- 6: durability ------------------------------------------------------------------------------------------

def scenario_durability(m2msec, m2msecd, work):
    data = os.path.join(work, "durable")
    cli = Cli(m2msec, ["--data-dir", data])
    # Twice as many enrolees as the enrolments acknowledged before the kill: the burst is still going when it comes.
    enrolees = [("dur%03d" % i, hexkey()) for i in range(80)]
    check("durability: the store exists", cli.enrolments()[1].returncode == 0)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        added = list(pool.map(lambda e: cli.add_enrolee(e[0], e[1]), enrolees))
    bad = [out_of(a) for a in added if a.returncode != 0]
    check("durability: 80 enrolees provisioned (8 concurrent admin processes)", not bad, bad[:3])

    args = ["--data-dir", data, "--listen", "127.0.0.1:0", "--roles", "mef,maf"]
    d = Daemon(m2msecd, "durable-m2msecd", args, work)
    if not check("durability: m2msecd starts", d.ok(), d.stdout() + d.stderr()):
        d.stop()
        return
    acked, failures, stop = [], [], threading.Event()

    def loop():
        for kpm_id, kpm in enrolees:
            if stop.is_set():
                return
            got, done = cli.enrol(d.url("mef"), kpm_id, kpm)
            if done.returncode == 0:
                acked.append((got.get("keid"), got.get("ke"), kpm_id))
            else:
                failures.append(out_of(done))

    worker = threading.Thread(target=loop)
    worker.start()
    deadline = time.time() + 90
    while len(acked) < 30 and worker.is_alive() and not failures and time.time() < deadline:
        time.sleep(0.01)
    d.kill()
    killed_at = len(acked)
    stop.set()
    worker.join()
    check("durability: about 30 enrolments acknowledged before SIGKILL, none refused before it",
          killed_at >= 30 and len(failures) <= 1, "acked %d, failures %s" % (killed_at, failures[:2]))

    d = Daemon(m2msecd, "durable-m2msecd-2", args, work)
    try:
        check("durability: m2msecd restarts on the same data directory", d.ok(), d.stdout() + d.stderr())
        listed, done = cli.enrolments()
        missing = [k for k, _, _ in acked if k not in listed]
        check("durability: every acknowledged KeID is in list-enrolments after SIGKILL and restart",
              done.returncode == 0 and not missing, "%d missing of %d: %s" % (len(missing), len(acked), missing[:3]))
        check("durability: at most the one enrolment in flight beyond the acknowledged ones",
              len(acked) <= len(listed) <= len(acked) + 1, "%d acked, %d listed" % (len(acked), len(listed)))
        if acked and d.ok():
            ke_id, ke, _ = acked[-1]
            km, _ = cli.derive_km(ke)
            reg, done = cli.maf("register", d.url("maf"), ke_id, km)
            check("durability: the last acknowledged Ke survived (MAF registration with its KeID and Km)",
                  done.returncode == 0 and reg.get("km-id"), out_of(done))
            kpm_id, kpm = enrolees[len(acked) + 2]
            got, done = cli.enrol(d.url("mef"), kpm_id, kpm)
            check("durability: a new enrolment after the restart", done.returncode == 0 and got.get("keid"),
                  out_of(done))
    finally:
        d.stop()


# --- 2: PostgreSQL, two replicas ----------------------------------------------------------------------------

def scenario_postgres(m2msec, m2msecd, cse_server, work, pg_cluster, pg_dir, pg_start):
    try:
        out, err = pg_start.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        pg_start.kill()
        out, err = pg_start.communicate()
    conninfo_path = os.path.join(pg_dir, "conninfo")
    if not check("postgres: pg_cluster.py start", pg_start.returncode == 0 and os.path.exists(conninfo_path),
                 (out + err).decode(errors="replace")):
        return
    with open(conninfo_path) as f:
        conninfo = f.read().strip()
    kek = os.path.join(work, "pg.kek")
    store = ["--database", conninfo, "--kek-file", kek]
    cli = Cli(m2msec, store)
    kpm, cse_km = hexkey(), hexkey()
    check("postgres: admin --database mef add-enrolee",
          cli.add_enrolee("pgdev", kpm, "--enrolee-id", "Cpgdevice").returncode == 0)
    check("postgres: admin --database maf add-client", cli.add_maf_client("cse1@" + FQDN, cse_km, "Ccse1").returncode == 0)
    args = store + ["--listen", "127.0.0.1:0", "--roles", "mef,maf"]
    a = Daemon(m2msecd, "pg-a", args, work)
    b = Daemon(m2msecd, "pg-b", args, work)
    try:
        if not check("postgres: two m2msecd replicas on one database start", a.ok() and b.ok(),
                     a.stderr() + b.stderr()):
            return
        for name, replica in (("A", a), ("B", b)):
            status, text, _ = http_get(replica.ops + "/health")
            check("postgres: replica %s /health 200 ok" % name, status == 200 and text.strip() == "ok", text)
            problems, samples = metrics(replica)
            check("postgres: replica %s /metrics parses, store up" % name,
                  not problems and total(samples, "m2msec_store_up", backend="postgresql") == 1, problems or samples)

        enrolment, done = cli.enrol(a.url("mef"), "pgdev", kpm)
        check("postgres: enrol at replica A", done.returncode == 0 and enrolment.get("client-id") == "Cpgdevice",
              out_of(done))
        listed, done = cli.enrolments()
        check("postgres: the KeID is in admin --database mef list-enrolments",
              enrolment.get("keid") in listed and len(listed) == 1, out_of(done))
        # Register and register the key at B, retrieve at A, the CSE on A.
        chain = device_to_cse(cli, "postgres", cse_server, work, b.url("maf"), a.url("maf"), enrolment,
                              "cse1@" + FQDN, cse_km)
        if chain:
            km_id, km, key_id, kc, cse = chain
            key, done = cli.maf("register-key", a.url("maf"), km_id, km, "--targets", "Ccse1")
            check("postgres: the KmID assigned by B works at A", done.returncode == 0 and key.get("key-id"),
                  out_of(done))
            ri = unique_ri("pgreplay")
            first = raw(a.port, km_id, km, "POST", "/maf", "11-" + km_id, ri, maf_key_registration(["Ccse1"]),
                        "application/json;ty=7007")
            second = raw(b.port, km_id, km, "POST", "/maf", "11-" + km_id, ri, maf_key_registration(["Ccse1"]),
                         "application/json;ty=7007")
            check("postgres: a request replayed at the other replica: 2001 at A, 4105 at B",
                  first.rsc == 2001 and second.rsc == 4105, "%s / %s" % (first, second))
        check("postgres: both replicas alive", a.alive() and b.alive(), a.stderr() + b.stderr())

        # The database goes away: /health says so, requests fail cleanly, the replicas stay up.
        stopped = subprocess.run([sys.executable, pg_cluster, "stop", pg_dir], capture_output=True)
        check("postgres: pg_cluster.py stop (outage)", stopped.returncode == 0, out_of(stopped))
        status, text, _ = http_get(a.ops + "/health")
        check("postgres outage: /health answers 503", status == 503, "%s %s" % (status, text))
        problems, samples = metrics(a)
        check("postgres outage: /metrics parses, store down",
              not problems and total(samples, "m2msec_store_up", backend="postgresql") == 0, problems or samples)
        _, done = cli.enrol(a.url("mef"), "pgdev", kpm)
        check("postgres outage: enrol fails", done.returncode != 0, out_of(done))
        check("postgres outage: both replicas still running", a.alive() and b.alive(), a.stderr() + b.stderr())
    finally:
        check("postgres: replica A stops on SIGTERM", a.stop() == 0, a.stderr())
        check("postgres: replica B stops on SIGTERM", b.stop() == 0, b.stderr())


# --- 3: MEF and MAF in separate processes -------------------------------------------------------------------

def scenario_split(m2msec, m2msecd, cse_server, work):
    mef_cli = Cli(m2msec, ["--data-dir", os.path.join(work, "mef")])
    maf_cli = Cli(m2msec, ["--data-dir", os.path.join(work, "maf")])
    maf_kpm, kpm, kpm4, cse_km = hexkey(), hexkey(), hexkey(), hexkey()
    # The MAF's own credential at the MEF: its authenticated identity is its FQDN, the Enrolment Target.
    check("split: the MAF is an enrolee of the MEF (--enrolee-id localhost)",
          mef_cli.add_enrolee("maf1", maf_kpm, "--enrolee-id", FQDN).returncode == 0)
    check("split: the device is an enrolee of the MEF",
          mef_cli.add_enrolee("dev3", kpm, "--enrolee-id", "Cdevice3").returncode == 0 and
          mef_cli.add_enrolee("dev4", kpm4, "--enrolee-id", "Cdevice4").returncode == 0)
    check("split: the CSE is a client of the MAF", maf_cli.add_maf_client("cse1@" + FQDN, cse_km, "Ccse1").returncode == 0)
    mef = Daemon(m2msecd, "split-mef", ["--data-dir", os.path.join(work, "mef"), "--listen", "127.0.0.1:0",
                                        "--roles", "mef", "--enrolment-target", FQDN], work)
    maf = None
    try:
        if not check("split: MEF-only m2msecd starts", mef.ok() and set(mef.roles) == {"mef"}, mef.stdout() + mef.stderr()):
            return
        maf = Daemon(m2msecd, "split-maf", ["--data-dir", os.path.join(work, "maf"), "--listen", "127.0.0.1:0",
                                            "--roles", "maf", "--maf-fqdn", FQDN, "--mef-url", mef.url("mef"),
                                            "--mef-kpm-id", "maf1", "--mef-kpm", maf_kpm], work)
        if not check("split: MAF-only m2msecd starts", maf.ok() and set(maf.roles) == {"maf"},
                     maf.stdout() + maf.stderr()):
            return
        r = raw(mef.port, "dev3", kpm, "GET", "/maf", "10-dev3", unique_ri("nomaf"))
        check("split: the MEF process serves no /maf: 4004", r.rsc == 4004, r)

        enrolment, done = mef_cli.enrol(mef.url("mef"), "dev3", kpm)
        check("split: enrol at the MEF", done.returncode == 0 and enrolment.get("client-id") == "Cdevice3", out_of(done))
        ke_id = enrolment.get("keid", "")
        # The Enrolment Target fetches Km itself: what the MEF holds is what the device derives.
        r = raw(mef.port, "maf1", maf_kpm, "GET", "/fetchCredentials/%s/21" % ke_id, "10-maf1", unique_ri("fetch"))
        fcred = (r.json or {}).get("m2m:fcred", {})
        got = base64.b64decode(fcred.get("cred", "")).hex() if fcred.get("cred") else ""
        check("split: /fetchCredentials/<KeID>/21 by the Enrolment Target: 2000, Km = HMAC(device's Ke)",
              r.rsc == 2000 and fcred.get("sts") is True and got == python_km(enrolment.get("ke", "00")) and
              fcred.get("eid") == "Cdevice3", r)
        r = raw(mef.port, "dev3", kpm, "GET", "/fetchCredentials/%s/21" % ke_id, "10-dev3", unique_ri("fetch"))
        check("split: /fetchCredentials by the enrolee itself (not the target): 4103",
              r.rsc == 4103 and "cred" not in (r.json or {}).get("m2m:fcred", {"cred": ""}), r)
        r = raw(mef.port, "maf1", maf_kpm, "GET", "/fetchCredentials/%s/99" % ke_id, "10-maf1", unique_ri("fetch"))
        check("split: /fetchCredentials with an unknown SUID: 4000", r.rsc == 4000, r)

        _, before = metrics(mef)
        chain = device_to_cse(maf_cli, "split", cse_server, work, maf.url("maf"), maf.url("maf"), enrolment,
                              "cse1@" + FQDN, cse_km)
        _, after = metrics(mef)
        check("split: the MAF fetched Km over the wire (the MEF answered one more 2000 request)",
              total(after, "m2msec_requests_total", role="mef", rsc="2000") >
              total(before, "m2msec_requests_total", role="mef", rsc="2000"), after)
        # Without the MEF: a KeID cannot be resolved any more, an assigned KmID still works.
        late, done = mef_cli.enrol(mef.url("mef"), "dev4", kpm4)
        check("split: a second device enrols", done.returncode == 0 and late.get("ke"), out_of(done))
        check("split: the MEF stops on SIGTERM", mef.stop() == 0, mef.stderr())
        reg, done = maf_cli.maf("register", maf.url("maf"), late.get("keid", "0" * 32 + "@" + FQDN),
                                python_km(late.get("ke", "00")))
        check("split: MEF down: a MAF registration with a KeID fails", done.returncode != 0, out_of(done))
        if chain:
            km_id, km, _, _, _ = chain
            key, done = maf_cli.maf("register-key", maf.url("maf"), km_id, km, "--targets", "Ccse1")
            check("split: MEF down: the assigned KmID keeps working", done.returncode == 0, out_of(done))
        check("split: MEF down: the MAF is still healthy", maf.alive() and http_get(maf.ops + "/health")[0] == 200,
              maf.stderr())
    finally:
        if maf:
            check("split: the MAF stops on SIGTERM", maf.stop() == 0, maf.stderr())
        mef.stop()


def credential_file(path):
    with open(path) as f:
        return dict(line.split("=", 1) for line in f.read().splitlines() if "=" in line)


def scenario_ibc(m2msec, m2msecd, work):
    """IBC Credential Provisioning (seed 002 8.3.7.2, 8.3.7.3): a KMS-only m2msecd holding master secrets made by
    `m2msec ibc kms-init`, a MEF-only m2msecd asking it over TLS-PSK, `m2msec enrol` executing the IBC_PROV command."""
    cli = Cli(m2msec, ["--data-dir", os.path.join(work, "ibc-mef")])
    master = os.path.join(work, "kms-master")
    done = run([m2msec, "ibc", "kms-init", "--out", master])
    kms_public = fields(done.stdout.decode())
    check("ibc: m2msec ibc kms-init", done.returncode == 0 and kms_public.get("kpak") and kms_public.get("z"),
          out_of(done))
    mef_psk, nosy_psk, kpm = hexkey(), hexkey(), hexkey()
    psk_file = os.path.join(work, "kms-callers")
    with open(psk_file, "w") as f:
        f.write("mef@%s %s\nnosy@%s %s\n" % (FQDN, mef_psk, FQDN, nosy_psk))
    kms = Daemon(m2msecd, "ibc-kms", ["--data-dir", os.path.join(work, "ibc-kms"), "--listen", "127.0.0.1:0",
                                       "--roles", "kms", "--kms-master", master, "--kms-clients", "mef@" + FQDN,
                                       "--psk-file", psk_file], work)
    mef = rogue = None
    try:
        if not check("ibc: KMS-only m2msecd starts", kms.ok() and set(kms.roles) == {"kms"}, kms.stdout() + kms.stderr()):
            return
        r = raw(kms.port, "nosy@" + FQDN, nosy_psk, "GET", "/kms", "nosy@" + FQDN, unique_ri("kms"))
        kmsb = (r.json or {}).get("m2m:kmsb", {})
        check("ibc: any PSK caller reads KPAK and Z_S from the KMS, those kms-init printed",
              r.rsc == 2000 and base64.b64decode(kmsb.get("kpak", "")).hex() == kms_public["kpak"].lower() and
              base64.b64decode(kmsb.get("kmsz", "")).hex() == kms_public["z"].lower(), r)
        r = raw(kms.port, "nosy@" + FQDN, nosy_psk, "POST", "/kms", "nosy@" + FQDN, unique_ri("kms"),
                {"m2m:kmsk": {"ibid": "localhost@43@20990101T000000"}}, "application/json;ty=7010")
        check("ibc: a caller the KMS does not list gets no keys: 4103", r.rsc == 4103 and b"ssk" not in r.body, r)

        check("ibc: the device is an enrolee of the MEF",
              cli.add_enrolee("ibc1", kpm, "--enrolee-id", "Cibc1").returncode == 0)
        mef = Daemon(m2msecd, "ibc-mef", ["--data-dir", os.path.join(work, "ibc-mef"), "--listen", "127.0.0.1:0",
                                           "--roles", "mef", "--kms-url", "https://127.0.0.1:%d/kms" % kms.port,
                                           "--kms-sni", FQDN, "--kms-psk-id", "mef@" + FQDN, "--kms-psk", mef_psk], work)
        if not check("ibc: MEF-only m2msecd with a remote KMS starts", mef.ok(), mef.stdout() + mef.stderr()):
            return
        queued = cli.admin("mef", "add-command", "--client-id", "Cibc1", "--class", "ibc-prov", "--args",
                           json.dumps({"ibcu": mef.url("mef")}))
        check("ibc: admin mef add-command --class ibc-prov", queued.returncode == 0, out_of(queued))
        first = os.path.join(work, "ibc1.cred")
        done = run([m2msec, "enrol", "--mef", mef.url("mef"), "--kpm-id", "ibc1", "--kpm", kpm, "--ibc-out", first])
        got = fields(done.stdout.decode())
        statuses = [c.get("status") for c in got["commands"]]
        expected_prefix = "%s@%s@" % (FQDN, b"Cibc1".hex())
        id2 = got.get("ibc-id2", "")
        check("ibc: enrol executes IBC_PROV: status 20 (OK), ID_2 = FQDN@hexBinary(ID)@expirationTime",
              done.returncode == 0 and statuses == ["20"] and id2.startswith(expected_prefix) and
              re.fullmatch(r"\d{8}T\d{6}", id2[len(expected_prefix):]) is not None, out_of(done))
        check("ibc: the credential file is readable by its owner only",
              os.path.exists(first) and (os.stat(first).st_mode & 0o777) == 0o600)
        cred = credential_file(first) if os.path.exists(first) else {}
        check("ibc: the credential names ID_2 and the KMS's KPAK and Z_S",
              cred.get("id2") == id2 and cred.get("kpak", "").lower() == kms_public["kpak"].lower() and
              cred.get("z", "").lower() == kms_public["z"].lower(), cred.get("id2"))
        message = b"oneM2M IBC credential in use"
        id_args = ["--id", cred.get("id2", "")]
        signed = run([m2msec, "ibc", "sign", "--kpak", cred.get("kpak", ""), "--ssk", cred.get("ssk", ""), "--pvt",
                      cred.get("pvt", "")] + id_args, data=message)
        signature = signed.stdout.decode().strip()
        check("ibc: m2msec ibc sign with the provisioned SSK/PVT", signed.returncode == 0 and signature, out_of(signed))
        verified = run([m2msec, "ibc", "verify", "--kpak", kms_public["kpak"], "--id-hex", id2.encode().hex(),
                        "--sig", signature], data=message)
        check("ibc: m2msec ibc verify: ok", verified.returncode == 0 and verified.stdout.decode().strip() == "ok",
              out_of(verified))
        verified = run([m2msec, "ibc", "verify", "--kpak", kms_public["kpak"], "--id-hex", id2.encode().hex(),
                        "--sig", signature], data=message + b"!")
        check("ibc: another message does not verify", verified.returncode == 1, out_of(verified))
        encap = fields(run([m2msec, "ibc", "encap", "--z", kms_public["z"]] + id_args).stdout.decode())
        decap = fields(run([m2msec, "ibc", "decap", "--z", cred.get("z", ""), "--rsk", cred.get("rsk", ""), "--data",
                            encap.get("data", "")] + id_args).stdout.decode())
        check("ibc: an SSV encapsulated to ID_2 decapsulates with the provisioned RSK",
              encap.get("ssv") and decap.get("ssv") == encap.get("ssv"), (encap, decap))

        # Re-provisioning (8.3.7.3): the client names its current ID_1.
        cli.admin("mef", "add-command", "--client-id", "Cibc1", "--class", "ibc-prov", "--args",
                  json.dumps({"ibcu": mef.url("mef")}))
        second = os.path.join(work, "ibc1-renewed.cred")
        done = run([m2msec, "enrol", "--mef", mef.url("mef"), "--kpm-id", "ibc1", "--kpm", kpm, "--ibc-current", first,
                    "--ibc-out", second])
        renewed = fields(done.stdout.decode())
        check("ibc: re-provisioning with ID_1 gives a new ID_2 for the same ID",
              done.returncode == 0 and [c.get("status") for c in renewed["commands"]] == ["20"] and
              renewed.get("ibc-id2", "").startswith(expected_prefix) and renewed.get("ibc-id2") != id2, out_of(done))

        # Refusals.
        cli.admin("mef", "add-command", "--client-id", "Cibc1", "--class", "ibc-prov", "--args",
                  json.dumps({"ibcu": "https://mef.elsewhere.example:8443/mef"}))
        done = run([m2msec, "enrol", "--mef", mef.url("mef"), "--kpm-id", "ibc1", "--kpm", kpm, "--ibc-out",
                    os.path.join(work, "never.cred")])
        check("ibc: an IBCBasedURI naming another FQDN: status 43, nothing provisioned",
              done.returncode == 0 and [c.get("status") for c in fields(done.stdout.decode())["commands"]] == ["43"] and
              not os.path.exists(os.path.join(work, "never.cred")), out_of(done))
        r = raw(mef.port, "ibc1", kpm, "POST", "/mef", "10-ibc1", unique_ri("ibc"), {"m2m:mefic": {"ibid": "Cother"}},
                "application/json;ty=7008")
        check("ibc: credentials for another entity's ID: 4103", r.rsc == 4103 and b"ssk" not in r.body, r)
        r = raw(mef.port, "ibc1", kpm, "POST", "/mef", "10-ibc1", unique_ri("ibc"),
                {"m2m:mefic": {"ibi1": expected_prefix + "20990101T000000"}}, "application/json;ty=7008")
        check("ibc: re-provisioning of an ID_1 this MEF never issued: 4103", r.rsc == 4103, r)

        # A MEF whose KMS credential is not listed there: the provisioning fails at the KMS.
        rogue = Daemon(m2msecd, "ibc-rogue-mef", ["--data-dir", os.path.join(work, "ibc-mef"), "--listen",
                                                   "127.0.0.1:0", "--roles", "mef", "--kms-url",
                                                   "https://127.0.0.1:%d/kms" % kms.port, "--kms-sni", FQDN,
                                                   "--kms-psk-id", "nosy@" + FQDN, "--kms-psk", nosy_psk], work)
        if check("ibc: a second MEF (KMS caller not listed) starts", rogue.ok(), rogue.stdout() + rogue.stderr()):
            r = raw(rogue.port, "ibc1", kpm, "POST", "/mef", "10-ibc1", unique_ri("ibc"),
                    {"m2m:mefic": {"ibid": "Cibc1"}}, "application/json;ty=7008")
            check("ibc: the KMS refuses that MEF, which answers 5000 and no keys", r.rsc == 5000 and b"ssk" not in r.body, r)

        # The KMS keeps its master secrets across a restart (the same KPAK).
        check("ibc: the KMS stops on SIGTERM", kms.stop() == 0, kms.stderr())
        kms = Daemon(m2msecd, "ibc-kms-again", ["--data-dir", os.path.join(work, "ibc-kms"), "--listen", "127.0.0.1:0",
                                                 "--roles", "kms", "--kms-master", master, "--psk-file", psk_file], work)
        r = raw(kms.port, "nosy@" + FQDN, nosy_psk, "GET", "/kms", "nosy@" + FQDN, unique_ri("kms")) if kms.ok() else None
        check("ibc: after a restart the KMS publishes the same KPAK",
              r is not None and base64.b64decode((r.json or {}).get("m2m:kmsb", {}).get("kpak", "")).hex() ==
              kms_public["kpak"].lower(), r)
    finally:
        for p in (rogue, mef, kms):
            if p:
                p.stop()


def scenario_certificate(m2msec, m2msecd, work, pki):
    """The certificate-based MEF and MAF Handshakes (8.3.2.2, 8.3.5.2.2, 8.8.2.2) with the test PKI of testpki.py:
    the MEF presents its FQDN certificate, clients their CSE-ID certificates."""
    data = os.path.join(work, "cert")
    fqdn = "mef.m2m.example.com"
    args = ["--data-dir", data, "--listen", "127.0.0.1:0", "--roles", "mef,maf", "--cert-listen", "127.0.0.1:0",
            "--cert", os.path.join(pki, "mef.chain.pem"), "--key", os.path.join(pki, "mef.key"),
            "--client-ca", os.path.join(pki, "root.pem"), "--mef-fqdn", fqdn, "--maf-fqdn", fqdn]
    d = Daemon(m2msecd, "cert-m2msecd", args, work)
    found = d.wait_for(r"^listening role=maf url=https://127\.0\.0\.1:(\d+)/maf auth=certificate$")
    if not check("certificate: m2msecd starts with a certificate listener", d.ok() and found, d.stdout() + d.stderr()):
        d.stop()
        return
    port = int(found[0])

    def client(command, leaf, *extra, ca="root.pem"):
        return run([m2msec] + command + ["--sni", fqdn, "--cert", os.path.join(pki, leaf + ".chain.pem"),
                                         "--key", os.path.join(pki, leaf + ".key"), "--ca", os.path.join(pki, ca)]
                   + list(extra))

    mef = "https://127.0.0.1:%d/mef" % port
    maf = "https://127.0.0.1:%d/maf" % port
    done = client(["enrol", "--mef", mef], "client")
    enrolled = fields(done.stdout.decode())
    check("certificate: enrol with a CSE-ID certificate; the client is its CSE-ID",
          done.returncode == 0 and enrolled.get("keid", "").endswith("@" + fqdn) and
          enrolled.get("client-id") == "mn-cse.in-cse.m2m.example.com", out_of(done))
    listed, _ = Cli(m2msec, ["--data-dir", data]).enrolments()
    check("certificate: the MEF recorded that KeID", enrolled.get("keid") in listed, listed)
    done = client(["maf", "register", "--maf", maf], "client")
    check("certificate: MAF Client Registration with a certificate (no KmID assigned)",
          done.returncode == 0 and "km-id=" not in done.stdout.decode() and
          fields(done.stdout.decode()).get("client-id") == "mn-cse.in-cse.m2m.example.com", out_of(done))
    done = client(["maf", "register-key", "--maf", maf, "--targets", "other-cse.m2m.example.com", "--show-secrets"],
                  "client")
    key = fields(done.stdout.decode())
    check("certificate: MAF Key Registration (Kc exported)", done.returncode == 0 and key.get("key"), out_of(done))
    done = client(["maf", "retrieve-key", "--maf", maf, "--key-id", key.get("key-id", "x@" + fqdn), "--show-secrets"],
                  "other")
    got = fields(done.stdout.decode())
    check("certificate: the target retrieves the same key, naming the source",
          done.returncode == 0 and got.get("key") == key.get("key") and
          got.get("source") == "mn-cse.in-cse.m2m.example.com", out_of(done))
    done = client(["maf", "retrieve-key", "--maf", maf, "--key-id", key.get("key-id", "x@" + fqdn)], "server")
    check("certificate: another CSE may not retrieve it (4103)", done.returncode != 0 and "4103" in out_of(done),
          out_of(done))
    for leaf, why in (("expired", "an expired client certificate"),
                      ("outside", "a certificate outside the CA's name constraints")):
        done = client(["enrol", "--mef", mef], leaf)
        check("certificate: %s is refused in the handshake" % why,
              done.returncode != 0 and "keid=" not in done.stdout.decode(), out_of(done))
    done = client(["enrol", "--mef", mef], "client", ca="estca.pem")
    check("certificate: a MEF certificate that does not chain to the client's anchors is refused",
          done.returncode != 0 and "keid=" not in done.stdout.decode(), out_of(done))
    relisted, _ = Cli(m2msec, ["--data-dir", data]).enrolments()
    check("certificate: the refused handshakes enrolled nothing", relisted == listed, relisted)
    check("certificate: m2msecd stops cleanly", d.stop() == 0, d.stderr())


def scenario_config(m2msec, m2msecd, work):
    """m2msecd from one configuration file (name = value lines, '#' comments, bare switches), the command line
    overriding it; the development credential it prints enrols at once."""
    config = os.path.join(work, "m2msecd.conf")
    with open(config, "w") as f:
        f.write("# the MEF and MAF of one box\n"
                "roles = mef,maf\n"
                "data-dir = %s\n"
                "listen = 127.0.0.1:0\n"
                "ops-listen = 127.0.0.1:0\n"
                "mef-fqdn = from-file.example.com\n"
                "dev-credentials\n" % os.path.join(work, "configured"))
    d = Daemon(m2msecd, "config-m2msecd", ["--config", config, "--mef-fqdn", FQDN], work)
    if not check("config: m2msecd starts from --config FILE", d.ok(), d.stdout() + d.stderr()):
        d.stop()
        return
    credential = re.search(r"^dev-credential kpm-id=(\S+) kpm=([0-9a-f]+) \(DEVELOPMENT ONLY", d.stdout(), re.M)
    check("config: the switch line 'dev-credentials' printed a development credential, marked as such",
          credential is not None, d.stdout())
    if credential:
        done = run([m2msec, "enrol", "--mef", d.url("mef"), "--kpm-id", credential.group(1), "--kpm", credential.group(2)])
        keid = fields(done.stdout.decode()).get("keid", "")
        check("config: the command line's --mef-fqdn overrides the file's (the KeID names it)",
              done.returncode == 0 and keid.endswith("@" + FQDN), out_of(done))
    check("config: m2msecd stops cleanly", d.stop() == 0, d.stderr())


def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    if len(args) != 6:
        print(__doc__)
        return 2
    m2msec, m2msecd, cse_server, pg_cluster = (os.path.abspath(a) for a in args[:4])
    work = os.path.abspath(args[4])
    pki = os.path.abspath(args[5])
    pg_dir = os.path.join(work, "pg")
    if os.path.isdir(pg_dir):
        subprocess.run([sys.executable, pg_cluster, "stop", pg_dir], capture_output=True)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    # The PostgreSQL cluster starts while the SQLite scenarios run.
    pg_start = subprocess.Popen([sys.executable, pg_cluster, "start", pg_dir], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    t0 = time.time()
    try:
        for name, scenario in (("sqlite", lambda: scenario_sqlite(m2msec, m2msecd, cse_server, work)),
                               ("split", lambda: scenario_split(m2msec, m2msecd, cse_server, work)),
                               ("ibc", lambda: scenario_ibc(m2msec, m2msecd, work)),
                               ("certificate", lambda: scenario_certificate(m2msec, m2msecd, work, pki)),
                               ("config", lambda: scenario_config(m2msec, m2msecd, work)),
                               ("durability", lambda: scenario_durability(m2msec, m2msecd, work)),
                               ("postgres", lambda: scenario_postgres(m2msec, m2msecd, cse_server, work, pg_cluster,
                                                                      pg_dir, pg_start))):
            t = time.time()
            try:
                scenario()
            except Exception as e:  # a broken scenario fails, the others still run
                check(name + ": ran to the end", False, "%s: %s" % (type(e).__name__, e))
                import traceback
                traceback.print_exc()
            if VERBOSE:
                print("     (%s: %.1f s)" % (name, time.time() - t))
    finally:
        for p in started:
            p.stop()
        if pg_start.poll() is None:
            pg_start.kill()
            pg_start.wait()
        stopped = subprocess.run([sys.executable, pg_cluster, "stop", pg_dir], capture_output=True)
        check("postgres: pg_cluster.py stop", stopped.returncode == 0, out_of(stopped))
    print("%d passed, %d failed (%.0f s)" % (results["passed"], results["failed"], time.time() - t0))
    if not results["failed"]:
        shutil.rmtree(work, ignore_errors=True)  # its keys and databases; kept for a look when a check failed
    else:
        print("logs and data kept in " + work)
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

"""What the system tests (tests/system/test_*.py) share: named checks that count and report, and running a
command with a timeout that never raises.

check(name, condition, detail) counts a pass or prints 'FAIL name: detail' (with -v on the command line also
'ok   name'); results holds the counts; run(args, data, timeout, env) is subprocess.run capturing both streams,
a timeout giving return code -999 and '(timed out)' on stderr instead of an exception.
stop(proc, timeout) ends a process, politely first; HttpAnswer(done) reads an HTTP response out of s_client's output.
"""
import json
import re
import subprocess
import sys

VERBOSE = "-v" in sys.argv
results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    if condition:
        results["passed"] += 1
        if VERBOSE:
            print("ok   " + name)
    else:
        results["failed"] += 1
        print("FAIL " + name + (": " + str(detail) if detail != "" else ""))
    return bool(condition)


def run(args, data=None, timeout=20, env=None):
    try:
        return subprocess.run(args, input=data, capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(args, -999, e.stdout or b"", (e.stderr or b"") + b"\n(timed out)")


def stop(proc, timeout=20):
    """Terminates a process (SIGTERM, then SIGKILL after `timeout` seconds) and returns its exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class HttpAnswer:
    """The answer to a hand-written oneM2M HTTP request (TS-0009) sent with `openssl s_client`: the HTTP status,
    the headers (lower-case names), X-M2M-RSC, the body (Content-Length octets) and its JSON."""

    def __init__(self, done):
        self.done = done
        data = done.stdout
        at = data.find(b"HTTP/1.1 ")
        head, _, body = (data[at:] if at >= 0 else b"").partition(b"\r\n\r\n")
        m = re.match(rb"HTTP/1\.1 (\d+)", head)
        self.http = int(m.group(1)) if m else None
        self.headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            self.headers[name.decode().strip().lower()] = value.decode().strip()
        self.rsc = int(self.headers["x-m2m-rsc"]) if self.headers.get("x-m2m-rsc", "").isdigit() else None
        length = int(self.headers.get("content-length", "0") or 0)
        self.body = body[:length]
        try:
            self.json = json.loads(self.body) if self.body else None
        except ValueError:
            self.json = None

    def __str__(self):
        return "HTTP %s RSC %s %s %s" % (self.http, self.rsc, self.body[:300].decode(errors="replace"),
                                         self.done.stderr.decode(errors="replace")[-300:])

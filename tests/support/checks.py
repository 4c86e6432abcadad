"""What the system tests (tests/system/test_*.py) share: named checks that count and report, and running a
command with a timeout that never raises.

check(name, condition, detail) counts a pass or prints 'FAIL name: detail' (with -v on the command line also
'ok   name'); results holds the counts; run(args, data, timeout, env) is subprocess.run capturing both streams,
a timeout giving return code -999 and '(timed out)' on stderr instead of an exception.
stop(proc, timeout) ends a process, politely first.
"""
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

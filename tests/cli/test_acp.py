#!/usr/bin/env python3
"""Drives `m2msec acp eval` as a user would: grants and denies for each rule member and context, with the
expectations derived from the TS-0003 V3.18.0 / TS-0004 examples by independent oracles (Python's datetime for
calendars, ipaddress for prefixes, math for great-circle distances), plus every refused input: one line on
stderr, exit status 2, nothing on stdout. A grant prints "grant" and "rule <id>/pv/<n>" and exits 0; a deny
prints "deny" and "no rule grants: ..." and exits 1.

usage: test_acp.py PATH/TO/m2msec
Prints 'N passed, N failed' and exits non-zero on any failure.
"""
import datetime
import ipaddress
import json
import math
import os
import subprocess
import sys
import tempfile

SP, CSE = "//m2msec.example", "/id-in"


class Runner:
    def __init__(self, exe, workdir):
        self.exe, self.dir, self.passed, self.failed, self.n = exe, workdir, 0, 0, 0

    def write(self, content):
        self.n += 1
        path = os.path.join(self.dir, f"f{self.n}.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        return path

    def run(self, args):
        return subprocess.run([self.exe] + args, capture_output=True, timeout=30)

    def evaluate(self, policy, request, extra=()):
        r = self.run(["acp", "eval", "--policy", self.write(policy), "--request", self.write(request), *extra])
        return r.returncode, r.stdout.decode().splitlines(), r.stderr.decode(errors="replace")

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}")

    def expect(self, name, policy, request, grant, rule=None, reason=None, extra=()):
        rc, out, err = self.evaluate(policy, request, extra)
        if grant:
            ok = rc == 0 and len(out) == 2 and out[0] == "grant" and (rule is None or out[1] == f"rule {rule}") and err == ""
        else:
            ok = (rc == 1 and len(out) == 2 and out[0] == "deny" and out[1].startswith("no rule grants: ")
                  and (reason is None or reason in out[1]))
        self.check(name, ok, f"want {'grant' if grant else 'deny'} rc={rc} stdout={out} stderr={err!r}")

    def expect_error(self, name, args=None, policy=None, request=None):
        if args is None:
            args = ["acp", "eval", "--policy", self.write(policy), "--request", self.write(request)]
        r = self.run(args)
        err = r.stderr.decode(errors="replace")
        self.check(name, r.returncode == 2 and r.stdout == b"" and err.count("\n") == 1 and err.startswith("m2msec: "),
                   f"rc={r.returncode} stdout={r.stdout!r} stderr={err!r}")


def acp(*rules, rn="acp1"):
    return {"m2m:acp": {"rn": rn, "pv": {"acr": list(rules)}, "pvs": {"acr": [{"acor": ["CAdmin"], "acop": 63}]}}}


def stamp(t):
    return t.strftime("%Y%m%dT%H%M%S")


def haversine(lat1, lon1, lat2, lon2, r=6371008.8):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def originators(t):
    # TS-0003 V3.18.0 Table 7.1.3-2 with its meaning column: absolute entries match any SP, SP-relative ones only
    # ours; a '*' stays inside its segment.
    cases = [
        ("//*/myCSE*", ["//a.example/myCSE", "//b.example/myCSE42"], ["//a.example/myCSE4/C1", "//a.example/yourCSE"]),
        ("/myCSE*/C98*", ["/myCSE1/C981", SP + "/myCSE/C98"], ["//other.example/myCSE1/C981", "/myCSE1/x/C98"]),
        ("/SmyAE*", ["/SmyAE1", "SmyAE2"], [CSE + "/SmyAE1"]),
        ("Capp*", ["Capp1", CSE + "/Capp2", SP + CSE + "/Capp3"], ["/other/Capp1", "Cap"]),
        ("C.*", ["C.*", "C.x"], ["Cabc", "Cx"]),  # '.' is a character, '*' the oneM2M wildcard
        ("C[a-z]+", ["C[a-z]+"], ["Cabc", "Ca"]),  # never a regular expression
        ("//sp.example", ["//sp.example/cse1", "//sp.example/cse1/Cae"], ["//sp.example.evil/cse1", "//sp.example"]),
    ]
    for entry, yes, no in cases:
        policy = acp({"acor": [entry], "acop": 2})
        for who in yes:
            t.expect(f"acor {entry} admits {who}", policy, {"fr": who, "op": 2}, True, "acp1/pv/0")
        for who in no:
            t.expect(f"acor {entry} refuses {who}", policy, {"fr": who, "op": 2}, False, reason="originator not listed")
    role = acp({"acor": ["1234abcd@role-issuer.com"], "acop": 2})
    t.expect("role held", role, {"fr": "Cx", "op": 2, "rids": ["1234abcd@role-issuer.com"]}, True)
    t.expect("role not held", role, {"fr": "Cx", "op": 2, "rids": ["other@role-issuer.com"]}, False)
    t.expect("other SP-ID", acp({"acor": ["Capp1"], "acop": 2}), {"fr": "//sp2.example/id-in/Capp1", "op": 2}, False)
    t.expect("--sp-id/--cse-id", acp({"acor": ["Capp1"], "acop": 2}), {"fr": "//sp2.example/cse7/Capp1", "op": 2}, True,
             extra=["--sp-id", "//sp2.example", "--cse-id", "/cse7"])


def operations(t):
    # TS-0004 Table 6.3.4.2.29-1: CREATE 1, RETRIEVE 2, UPDATE 4, DELETE 8, NOTIFY 16, DISCOVERY 32.
    bits = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16}
    # Single bits, a combination and all (the bit arithmetic itself is covered exhaustively by authz_test).
    for mask in (1, 16, 34, 63):
        policy = acp({"acor": ["all"], "acop": mask})
        for op, bit in bits.items():
            req = {"fr": "Cx", "op": op}
            if op == 1:
                req["ty"] = 4
            t.expect(f"acop {mask} op {op}", policy, req, bool(mask & bit))
        t.expect(f"acop {mask} discovery", policy, {"fr": "Cx", "op": 2, "fu": 1}, bool(mask & 32))
        t.expect(f"acop {mask} fu=2", policy, {"fr": "Cx", "op": 2, "fu": 2}, bool(mask & 2))


def windows(t):
    # The TS-0004 example "* 0-5 2,6,10 * * * *": 2:00-2:05, 6:00-6:05 and 10:00-10:05 every day (UTC).
    policy = acp({"acor": ["all"], "acop": 63, "acco": [{"actw": ["* 0-5 2,6,10 * * * *"]}]})
    start = datetime.datetime(2026, 12, 4, 0, 0, 0)
    samples = [start + datetime.timedelta(minutes=m, seconds=m % 60) for m in range(0, 24 * 60, 131)]
    samples += [start.replace(hour=h, minute=m, second=s) for h in (1, 2, 6, 10, 11) for m, s in ((0, 0), (5, 59), (6, 0))]
    for when in samples:
        inside = when.hour in (2, 6, 10) and when.minute <= 5
        t.expect(f"window {stamp(when)}", policy, {"fr": "Cx", "op": 2, "time": stamp(when)}, inside,
                 reason=None if inside else "outside time window")
    for edge, inside in (("20261204T020559", True), ("20261204T020600", False), ("20261204T015959", False)):
        t.expect(f"window edge {edge}", policy, {"fr": "Cx", "op": 2, "time": edge}, inside)
    # The digest's example "* * 8-17 * * 1-5 *": office hours Monday to Friday; the weekday from datetime
    # (cron counts 0 = Sunday).
    office = acp({"acor": ["all"], "acop": 63, "acco": [{"actw": ["* * 8-17 * * 1-5 *"]}]})
    for day in range(1, 8):
        when = datetime.datetime(2026, 12, day, 9 if day % 3 else 18, 30)
        inside = 1 <= when.isoweekday() % 7 <= 5 and 8 <= when.hour <= 17
        t.expect(f"office hours {stamp(when)} ({when.strftime('%A')})", office,
                 {"fr": "Cx", "op": 2, "time": stamp(when)}, inside)
    year = acp({"acor": ["all"], "acop": 63, "acco": [{"actw": ["* * * * * * 2026"]}]})
    t.expect("year inside", year, {"fr": "Cx", "op": 2, "time": "20261231T235959"}, True)
    t.expect("year outside", year, {"fr": "Cx", "op": 2, "time": "20270101T000000"}, False)
    always = acp({"acor": ["all"], "acop": 63, "acco": [{"actw": ["* * * * * * *"]}]})
    t.expect("no time given: now", always, {"fr": "Cx", "op": 2}, True)
    bad = acp({"acor": ["all"], "acop": 63, "acco": [{"actw": ["* * * * * 7 *"]}]})
    t.expect("malformed schedule", bad, {"fr": "Cx", "op": 2}, False, reason="malformed actw entry")


def addresses(t):
    prefixes = {"ipv4": ["192.168.0.0/16", "10.1.2.3", "172.16.0.0/12"], "ipv6": ["2001:db8::/32", "fadf:ddd0::/31"]}
    policy = acp({"acor": ["all"], "acop": 63, "acco": [{"acip": prefixes}]})
    nets = [ipaddress.ip_network(p) for p in prefixes["ipv4"] + prefixes["ipv6"]]
    for address in ("192.168.0.0", "192.168.255.255", "192.169.0.0", "192.167.255.255", "10.1.2.3", "10.1.2.4",
                    "172.31.255.255", "172.32.0.0", "172.15.255.255", "2001:db8::1", "2001:db8:ffff:ffff::",
                    "2001:db9::", "2001:db7:ffff::", "fadf:ddd1:ffff::1", "fadf:ddd2::", "::1", "127.0.0.1"):
        inside = any(ipaddress.ip_address(address) in n for n in nets)
        t.expect(f"acip {address}", policy, {"fr": "Cx", "op": 2, "ip": address}, inside,
                 reason=None if inside else "address not listed")
    t.expect("acip without rq_ip", policy, {"fr": "Cx", "op": 2}, False, reason="carries no IP address")
    for entry in ("1.2.3", "10.125.1.0/16", "1.2.3.4/33", "2001:db8::/32"):
        bad = acp({"acor": ["all"], "acop": 63, "acco": [{"acip": {"ipv4": [entry]}}]})
        t.expect(f"malformed ipv4 entry {entry}", bad, {"fr": "Cx", "op": 2, "ip": "1.2.3.4"}, False,
                 reason="malformed ipv4 entry")


def regions(t):
    countries = acp({"acor": ["all"], "acop": 63, "acco": [{"aclr": {"accc": ["KR", "FR"]}}]})
    for cc, inside in (("KR", True), ("FR", True), ("DE", False), ("US", False)):
        t.expect(f"accc {cc}", countries, {"fr": "Cx", "op": 2, "cc": cc}, inside)
    t.expect("accc with a point only", countries, {"fr": "Cx", "op": 2, "lat": 48.85, "lon": 2.35}, False,
             reason="carries no country")
    t.expect("accc without location", countries, {"fr": "Cx", "op": 2}, False)
    centre, radius = (48.8566, 2.3522), 10000.0
    circle = acp({"acor": ["all"], "acop": 63, "acco": [{"aclr": {"accr": [centre[0], centre[1], radius]}}]})
    for lat, lon in ((48.8566, 2.3522), (48.9, 2.4), (48.94, 2.3522), (48.9465, 2.3522), (48.95, 2.3522),
                     (51.5074, -0.1278), (48.8566, 2.4888), (48.8566, 2.4892)):
        inside = haversine(centre[0], centre[1], lat, lon) <= radius
        t.expect(f"accr point {lat},{lon} ({'inside' if inside else 'outside'})", circle,
                 {"fr": "Cx", "op": 2, "lat": lat, "lon": lon}, inside)
    t.expect("accr with a country only", circle, {"fr": "Cx", "op": 2, "cc": "FR"}, False, reason="carries no position")
    t.expect("aclr user-assigned code", acp({"acor": ["all"], "acop": 63, "acco": [{"aclr": {"accc": ["XA"]}}]}),
             {"fr": "Cx", "op": 2, "cc": "XA"}, True)


def rule_members(t):
    acaf = acp({"acor": ["all"], "acop": 63, "acaf": True})
    t.expect("acaf authenticated", acaf, {"fr": "Cx", "op": 2, "authn": True}, True)
    t.expect("acaf not authenticated", acaf, {"fr": "Cx", "op": 2, "authn": False}, False, reason="not authenticated")
    t.expect("acaf default false", acaf, {"fr": "Cx", "op": 2}, False)
    acod = acp({"acor": ["Capp1"], "acop": 1, "acod": [{"chty": [4]}]})  # the TS-0004 example, chty only
    t.expect("acod chty listed", acod, {"fr": "Capp1", "op": 1, "ty": 4}, True)
    t.expect("acod chty not listed", acod, {"fr": "Capp1", "op": 1, "ty": 3}, False, reason="object details")
    with_ty = acp({"acor": ["Capp1"], "acop": 1, "acod": [{"ty": 3, "chty": [4]}]})
    t.expect("acod ty without a target type", with_ty, {"fr": "Capp1", "op": 1, "ty": 4}, False)
    unknown = acp({"acor": ["all"], "acop": 63, "acxx": 1}, {"acor": ["Cy"], "acop": 2})
    t.expect("unknown member", unknown, {"fr": "Cx", "op": 2}, False, reason="acp1/pv/0: unknown member 'acxx'")
    t.expect("unknown member, next rule", unknown, {"fr": "Cy", "op": 2}, True, "acp1/pv/1")
    ctx = acp({"acor": ["all"], "acop": 63, "acco": [{"acui": ["u"]}]})
    t.expect("unknown context member", ctx, {"fr": "Cx", "op": 2}, False, reason="unknown context member 'acui'")
    t.expect("pvs is not evaluated", acp({"acor": ["Cx"], "acop": 2}), {"fr": "CAdmin", "op": 2}, False)
    t.expect("policy id from ri", {"m2m:acp": {"ri": "acpR", "pv": {"acr": [{"acor": ["all"], "acop": 2}]}}},
             {"fr": "Cx", "op": 2}, True, "acpR/pv/0")
    t.expect("policy id default", {"pv": {"acr": [{"acor": ["all"], "acop": 2}]}}, {"fr": "Cx", "op": 2}, True, "acp/pv/0")
    t.expect("empty pv", acp(), {"fr": "Cx", "op": 2}, False, reason="acp1/pv: no rules")


def refusals(t):
    good = acp({"acor": ["all"], "acop": 63})
    for name, request in (
        ("bad JSON", '{"fr":"Cx","op":2'),
        ("not an object", '["Cx"]'),
        ("unknown member", {"fr": "Cx", "op": 2, "to": "/id-in"}),
        ("no originator", {"op": 2}),
        ("empty originator", {"fr": "", "op": 2}),
        ("no op", {"fr": "Cx"}),
        ("op 0", {"fr": "Cx", "op": 0}),
        ("op 6", {"fr": "Cx", "op": 6}),
        ("op text", {"fr": "Cx", "op": "2"}),
        ("fu 3", {"fr": "Cx", "op": 2, "fu": 3}),
        ("discovery not a retrieve", {"fr": "Cx", "op": 4, "fu": 1}),
        ("ty without CREATE", {"fr": "Cx", "op": 2, "ty": 4}),
        ("CREATE without ty", {"fr": "Cx", "op": 1}),
        ("ty negative", {"fr": "Cx", "op": 1, "ty": -1}),
        ("bad ip", {"fr": "Cx", "op": 2, "ip": "192.168.1"}),
        ("ip with prefix", {"fr": "Cx", "op": 2, "ip": "192.168.1.0/24"}),
        ("bad time format", {"fr": "Cx", "op": 2, "time": "2026-12-04T09:00:00"}),
        ("bad time date", {"fr": "Cx", "op": 2, "time": "20261304T090000"}),
        ("time with zone", {"fr": "Cx", "op": 2, "time": "20261204T090000Z"}),
        ("bad cc lower case", {"fr": "Cx", "op": 2, "cc": "fr"}),
        ("bad cc not assigned", {"fr": "Cx", "op": 2, "cc": "EU"}),
        ("lat without lon", {"fr": "Cx", "op": 2, "lat": 1.0}),
        ("lat out of range", {"fr": "Cx", "op": 2, "lat": 91, "lon": 0}),
        ("lon text", {"fr": "Cx", "op": 2, "lat": 1, "lon": "2"}),
        ("authn text", {"fr": "Cx", "op": 2, "authn": "true"}),
        ("rids not roles", {"fr": "Cx", "op": 2, "rids": ["not a role"]}),
        ("rids not a list", {"fr": "Cx", "op": 2, "rids": "a@b.example"}),
    ):
        t.expect_error(f"request: {name}", policy=good, request=request)
    ok = {"fr": "Cx", "op": 2}
    for name, policy in (("bad JSON", '{"m2m:acp":'), ("no pv", {"m2m:acp": {"rn": "x"}}), ("not an object", "[1]"),
                         ("pv not a set", {"m2m:acp": {"pv": []}})):
        t.expect_error(f"policy: {name}", policy=policy, request=ok)
    p, r = t.write(good), t.write(ok)
    for name, args in (
        ("no sub-command", ["acp"]),
        ("unknown sub-command", ["acp", "check"]),
        ("missing --request", ["acp", "eval", "--policy", p]),
        ("missing --policy", ["acp", "eval", "--request", r]),
        ("unknown option", ["acp", "eval", "--policy", p, "--request", r, "--pv", "x"]),
        ("missing file", ["acp", "eval", "--policy", p + ".none", "--request", r]),
        ("bad --sp-id", ["acp", "eval", "--policy", p, "--request", r, "--sp-id", "m2msec.example"]),
        ("bad --cse-id", ["acp", "eval", "--policy", p, "--request", r, "--cse-id", "/a/b"]),
    ):
        t.expect_error(name, args=args)


def main():
    with tempfile.TemporaryDirectory() as workdir:
        t = Runner(sys.argv[1], workdir)
        for part in (originators, operations, windows, addresses, regions, rule_members, refusals):
            part(t)
    print(f"{t.passed} passed, {t.failed} failed")
    sys.exit(1 if t.failed else 0)


if __name__ == "__main__":
    main()

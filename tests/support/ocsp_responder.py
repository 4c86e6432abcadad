#!/usr/bin/env python3
"""An OCSP responder over HTTP (RFC 6960 Appendix A) on loopback only: `openssl ocsp -port` listens on every
interface, so this front end listens on 127.0.0.1 and lets `openssl ocsp -reqin/-respout` (the independent
responder) answer each POSTed request.

usage: ocsp_responder.py [--nrequest N] -- OPENSSL-OCSP-ARGS...   (e.g. -index F -CA F -rsigner F -rkey F -ndays 1)

Prints "ACCEPT 127.0.0.1:<port> PID=<pid>" once it listens, answers N requests (default: until killed), exits.
"""
import http.server
import os
import subprocess
import sys
import tempfile


def main():
    args = sys.argv[1:]
    if "--" not in args:
        print(__doc__, file=sys.stderr)
        return 2
    split = args.index("--")
    own, ocsp_args = args[:split], args[split + 1:]
    limit = int(own[own.index("--nrequest") + 1]) if "--nrequest" in own else None
    work = tempfile.mkdtemp(prefix="ocsp-responder-")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            request = os.path.join(work, "request.der")
            response = os.path.join(work, "response.der")
            with open(request, "wb") as f:
                f.write(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            done = subprocess.run(["openssl", "ocsp", *ocsp_args, "-reqin", request, "-respout", response],
                                  capture_output=True)
            if done.returncode != 0 or not os.path.exists(response):
                self.send_error(500)
                return
            with open(response, "rb") as f:
                body = f.read()
            os.remove(response)
            self.send_response(200)
            self.send_header("Content-Type", "application/ocsp-response")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    print("ACCEPT 127.0.0.1:%d PID=%d" % (server.server_address[1], os.getpid()), flush=True)
    served = 0
    while limit is None or served < limit:
        server.handle_request()
        served += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

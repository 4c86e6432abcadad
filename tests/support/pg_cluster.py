#!/usr/bin/env python3
"""A throwaway PostgreSQL cluster for tests (Python 3 standard library only).

    pg_cluster.py start DIR   wipes DIR, creates a cluster in DIR/data and starts it; prints the conninfo
                              and writes it to DIR/conninfo (one line, libpq key=value form:
                              "host=127.0.0.1 port=N dbname=m2msec user=m2msec").
    pg_cluster.py stop DIR    stops the cluster of DIR (if running) and removes DIR/conninfo.

The server listens on 127.0.0.1 only, on a free port, with trust authentication (no password) for local
and 127.0.0.1 connections, its Unix socket in the cluster directory, fsync on. The database m2msec is owned by
the role m2msec, which may create schemas in it (the store tests make one schema per test). The cluster
directory (data/, log, the socket) is DIR itself, or, when the cluster's user cannot reach DIR (a checkout under
a private home) or DIR is too long for a socket path, a fresh directory under the system temp dir whose path
DIR/cluster names (`stop` removes it).

PostgreSQL refuses to run as root: as root, the cluster runs as the `postgres` user (runuser) and DIR is
given to it; as any other user, it runs as that user. The binaries are PostgreSQL 15's (Debian package
postgresql-15), or those of $PG_BINDIR.
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

BINDIR = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")
SERVICE_USER = "postgres"


def as_root():
    return os.geteuid() == 0


def run(args, **kwargs):
    """Runs a PostgreSQL program as the cluster's user; raises with its output when it fails."""
    if as_root():
        args = ["runuser", "-u", SERVICE_USER, "--"] + args
    done = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def running(data):
    return os.path.exists(os.path.join(data, "postmaster.pid"))


def reachable(directory):
    """Whether the cluster's user may create files in directory (every parent searchable)."""
    if not as_root():
        return os.access(directory, os.W_OK | os.X_OK)
    return subprocess.run(["runuser", "-u", SERVICE_USER, "--", "test", "-w", directory, "-a", "-x", directory],
                          stdin=subprocess.DEVNULL, capture_output=True).returncode == 0


def cluster_of(directory):
    """The directory that holds the cluster of DIR: DIR/cluster names it when it is not DIR itself."""
    try:
        with open(os.path.join(directory, "cluster")) as f:
            return f.read().strip()
    except FileNotFoundError:
        return directory


def stop(directory):
    cluster = cluster_of(directory)
    data = os.path.join(cluster, "data")
    try:
        os.remove(os.path.join(directory, "conninfo"))
    except FileNotFoundError:
        pass
    if os.path.isdir(data) and running(data):
        run([os.path.join(BINDIR, "pg_ctl"), "stop", "-D", data, "-m", "fast", "-w", "-t", "60"])
    if cluster != directory:
        shutil.rmtree(cluster, ignore_errors=True)
        os.remove(os.path.join(directory, "cluster"))


def start(directory):
    directory = os.path.abspath(directory)
    # A cluster left running by an interrupted run is stopped, then everything is made anew.
    if os.path.isdir(directory):
        try:
            stop(directory)
        except RuntimeError as e:
            print(f"pg_cluster: could not stop the old cluster: {e}", file=sys.stderr)
        shutil.rmtree(directory)
    os.makedirs(directory, mode=0o700)
    cluster = directory
    if as_root():
        user = pwd.getpwnam(SERVICE_USER)
        os.chown(directory, user.pw_uid, user.pw_gid)
    # A Unix socket path holds at most 107 octets ("/.s.PGSQL.NNNNN" included).
    if not reachable(directory) or len(directory) > 80:
        cluster = tempfile.mkdtemp(prefix="m2msec-pg-")
        if as_root():
            os.chown(cluster, user.pw_uid, user.pw_gid)
        with open(os.path.join(directory, "cluster"), "w") as f:
            f.write(cluster + "\n")
    data = os.path.join(cluster, "data")
    run([os.path.join(BINDIR, "initdb"), "-D", data, "-U", SERVICE_USER, "-E", "UTF8", "--locale=C",
         "--auth=trust", "--no-instructions"])
    # Only the Unix socket and 127.0.0.1: no other address may connect, even with trust.
    hba = os.path.join(data, "pg_hba.conf")
    with open(hba, "w") as f:
        f.write("local all all trust\nhost all all 127.0.0.1/32 trust\n")

    last_error = None
    for _ in range(5):  # the port is free when chosen; another process may take it before the server does
        port = free_port()
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='{cluster}'"
                   " -c fsync=on -c synchronous_commit=on -c max_connections=200")
        try:
            run([os.path.join(BINDIR, "pg_ctl"), "start", "-D", data, "-l", os.path.join(cluster, "log"),
                 "-w", "-t", "60", "-o", options])
            break
        except RuntimeError as e:
            last_error = e
            time.sleep(0.2)
    else:
        raise RuntimeError(f"the cluster did not start: {last_error}")

    psql = [os.path.join(BINDIR, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", cluster, "-p", str(port),
            "-U", SERVICE_USER, "-d", "postgres"]
    run(psql + ["-c", "CREATE ROLE m2msec LOGIN"])
    run(psql + ["-c", "CREATE DATABASE m2msec OWNER m2msec"])

    conninfo = f"host=127.0.0.1 port={port} dbname=m2msec user=m2msec"
    with open(os.path.join(directory, "conninfo"), "w") as f:
        f.write(conninfo + "\n")
    print(conninfo)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        (start if sys.argv[1] == "start" else stop)(sys.argv[2])
    except RuntimeError as e:
        print(f"pg_cluster: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Slow and idle clients against a real host, on 127.0.0.1 only.

Starts `garrison serve` on a scratch data directory, makes one server that logs about 400
lines/s (the generic adapter running python3), then opens

  - 500 idle connections (one request each, then silence, keep-alive),
  - 200 half-sent requests (a request head without its end),
  - 200 WebSocket clients subscribed to everything that never read,

and prints, at fixed times after opening them, how many of each the host still holds, the
host's resident memory, and the bytes queued in TCP buffers on both ends (host send queues;
what the non-reading clients' receive queues hold). Prints figures, asserts nothing, stops the
host and removes its data directory when done (also on Ctrl-C).

    scripts/slow-clients.py --bin target/debug/garrison [-- extra serve options]

Extra options go to `garrison serve`; for example, to see the host without its limits:
`-- --idle-timeout 1h --header-timeout 1h --max-connections-per-address 0
--ws-send-buffer-kib 0`.
"""

import argparse
import base64
import json
import os
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

IDLE, HALF, WS = 500, 200, 200
CHECKPOINTS = [5, 15, 35, 65]
LOGGER = (
    "import sys, time\n"
    "n = 0\n"
    "while True:\n"
    "    for _ in range(20):\n"
    "        n += 1\n"
    "        print(f'[{n:08d}] tick ok entities=1234 load=0.42 ' + 'x' * 60)\n"
    "    sys.stdout.flush()\n"
    "    time.sleep(0.05)\n"
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(port, method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1{path}", data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}") from e


def tcp_table():
    """Local port -> (state, tx_queue, rx_queue, remote port) for IPv4 TCP sockets."""
    table = {}
    with open("/proc/net/tcp") as f:
        next(f)
        for row in f:
            cols = row.split()
            local, remote, state, queues = cols[1], cols[2], cols[3], cols[4]
            lport = int(local.split(":")[1], 16)
            rport = int(remote.split(":")[1], 16)
            tx, rx = (int(q, 16) for q in queues.split(":"))
            table.setdefault(lport, []).append((state, tx, rx, rport))
    return table


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for row in f:
            if row.startswith("VmRSS:"):
                return int(row.split()[1]) / 1024
    return 0.0


def ws_frame(text):
    payload = text.encode()
    mask = os.urandom(4)
    head = bytes([0x81])
    if len(payload) < 126:
        head += bytes([0x80 | len(payload)])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def read_head(sock):
    data = b""
    sock.settimeout(10)
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed during the answer head")
        data += chunk
    return data


def still_held(ports, port, table):
    """How many of our client sockets (by local port) the host has not closed."""
    held = 0
    for p in ports:
        for state, _, _, rport in table.get(p, []):
            if rport == port and state == "01":  # ESTABLISHED: the host has not closed it
                held += 1
    return held


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True, help="the garrison binary")
    parser.add_argument("serve_args", nargs="*", help="extra `garrison serve` options")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="garrison-slow-clients-")
    env = dict(os.environ, GARRISON_LOG="warn")
    host = subprocess.Popen(
        [args.bin, "serve", "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}"]
        + args.serve_args,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    clients = []
    token, server = None, None
    try:
        password_file = os.path.join(data_dir, "initial-admin-password")
        for _ in range(600):
            try:
                api(port, "GET", "/system/health")
                if os.path.exists(password_file):
                    break
            except OSError:
                pass
            time.sleep(0.2)
        password = open(password_file).read().strip()
        token = api(port, "POST", "/auth/login", body={"username": "admin", "password": password})[
            "token"
        ]
        server = api(
            port,
            "POST",
            "/servers",
            token,
            {
                "name": "chatty",
                "adapter": "generic",
                "settings": {"executable": sys.executable, "args": ["-u", "-c", f"exec({LOGGER!r})"]},
            },
        )["id"]
        api(port, "POST", f"/servers/{server}/actions/start", token)
        for _ in range(100):
            if api(port, "GET", f"/servers/{server}", token)["actual_state"] == "running":
                break
            time.sleep(0.2)
        time.sleep(2)
        base_rss = rss_mib(host.pid)

        idle, half, ws = [], [], []
        refused = {"idle": 0, "half": 0, "ws": 0}
        for _ in range(IDLE):
            s = socket.create_connection(("127.0.0.1", port))
            clients.append(s)
            try:
                s.sendall(b"GET /api/v1/system/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                read_head(s)
                idle.append(s.getsockname()[1])
            except OSError:
                refused["idle"] += 1
        for _ in range(HALF):
            s = socket.create_connection(("127.0.0.1", port))
            clients.append(s)
            try:
                s.sendall(b"GET /api/v1/system/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                half.append(s.getsockname()[1])
            except OSError:
                refused["half"] += 1
        for _ in range(WS):
            s = socket.create_connection(("127.0.0.1", port))
            clients.append(s)
            try:
                key = base64.b64encode(os.urandom(16)).decode()
                s.sendall(
                    (
                        "GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n"
                    ).encode()
                )
                if not read_head(s).startswith(b"HTTP/1.1 101"):
                    raise ConnectionError("not upgraded")
                s.sendall(ws_frame(json.dumps({"type": "auth", "token": token})))
                s.sendall(ws_frame(json.dumps({"type": "subscribe", "all": True})))
                ws.append(s.getsockname()[1])
            except OSError:
                refused["ws"] += 1
        opened = time.monotonic()
        print(
            f"host rss before the clients: {base_rss:.1f} MiB; "
            f"opened {len(idle)} idle, {len(half)} half-sent, {len(ws)} WebSocket "
            f"(refused or failed: {refused})"
        )
        print(
            " t(s)  idle held  half held  ws held  host conns  host rss MiB  "
            "host send-q KiB  ws clients' recv-q KiB"
        )
        for at in CHECKPOINTS:
            time.sleep(max(0.0, opened + at - time.monotonic()))
            table = tcp_table()
            host_side = table.get(port, [])
            established = sum(1 for state, _, _, _ in host_side if state == "01")
            send_q = sum(tx for _, tx, _, _ in host_side)
            recv_q = sum(rx for p in ws for _, _, rx, rport in table.get(p, []) if rport == port)
            print(
                f"{at:5d}  {still_held(idle, port, table):9d}  {still_held(half, port, table):9d}"
                f"  {still_held(ws, port, table):7d}  {established:10d}  {rss_mib(host.pid):12.1f}"
                f"  {send_q / 1024:15.0f}  {recv_q / 1024:22.0f}"
            )
    finally:
        for s in clients:
            s.close()
        if server is not None:
            # The logging game outlives the host by design: kill it through the API first.
            try:
                api(port, "POST", f"/servers/{server}/actions/kill", token)
                for _ in range(50):
                    if api(port, "GET", f"/servers/{server}", token)["actual_state"] != "running":
                        break
                    time.sleep(0.2)
            except OSError as e:
                print(f"could not kill the logging server: {e}", file=sys.stderr)
        try:
            os.killpg(host.pid, signal.SIGTERM)
            host.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(host.pid, signal.SIGKILL)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Idle keep-alive viewers for bench/idle.sh.

    idle_client.py --pid PID --port PORT --count N [--tls --ca ROOT.pem --sni NAME]
                   [--path /x] [--window W] [--connect-window C] [--settle S] [--warmup W]

Against the proxy listening on 127.0.0.1:PORT whose main process is PID:

1. warm-up: WARMUP connections, one GET each (WINDOW at a time), then closed;
   this fills the proxy's origin connection pool (and its TLS session caches)
   so that the measured difference holds viewer connections only;
2. RSS before: the sum of VmRSS over PID and all its descendants;
3. COUNT connections, each sends one keep-alive GET and reads the whole response
   (at most CONNECT_WINDOW connections being opened, TCP and TLS handshake, and
   WINDOW requests in progress at a time, so the proxy needs at most WINDOW
   origin connections); every connection is then kept open and idle;
4. waits SETTLE seconds, RSS after;
5. checks every response was 200 with its full body, that every connection is
   still open on our side (no EOF, no error) and that the proxy holds COUNT
   ESTABLISHED sockets on PORT (/proc/net/tcp and tcp6);
6. prints one JSON object on stdout, closes everything. Exit 1 on any failure.
"""
import argparse
import asyncio
import json
import os
import resource
import ssl
import sys
import time


def tree_pids(root):
    parent = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        parent[int(d)] = int(s[s.rindex(")") + 2:].split()[1])
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(c for c, pp in parent.items() if pp == p)
    return out


def tree_rss_kb(root):
    total, procs = 0, []
    for p in tree_pids(root):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        kb = int(line.split()[1])
                        total += kb
                        procs.append(kb)
                        break
        except OSError:
            pass
    return total, procs


def established_on(port):
    n = 0
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        n += 1
        except OSError:
            pass
    return n


class Failure(Exception):
    pass


async def one_get(args, ctx, keep, connect_sem, request_sem):
    # At most CONNECT_WINDOW connections between connect() and the end of their
    # response (so none waits long for its turn: the proxy's header timeout
    # runs from the accept), at most WINDOW of them with a request in flight.
    async with connect_sem:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            "127.0.0.1", args.port, ssl=ctx, server_hostname=args.sni if ctx else None), 30)
        try:
            async with request_sem:
                return await asyncio.wait_for(request(args, reader, writer, keep), 30)
        except BaseException:
            writer.close()
            raise


async def request(args, reader, writer, keep):
    writer.write(f"GET {args.path} HTTP/1.1\r\nHost: {args.host}\r\nUser-Agent: idle-bench\r\n\r\n"
                 .encode())
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    else:
        raise Failure(f"response without Content-Length or chunked body: {lines[0]}")
    if status != 200:
        raise Failure(f"status {status}: {lines[0]}")
    if args.body_len is not None and len(body) != args.body_len:
        raise Failure(f"body of {len(body)} bytes, expected {args.body_len}")
    if "close" in headers.get("connection", "").lower():
        raise Failure("the response says Connection: close")
    if not keep:
        writer.close()
        return None
    return reader, writer


async def run_many(args, ctx, count, keep):
    connect_sem = asyncio.Semaphore(args.connect_window)
    request_sem = asyncio.Semaphore(args.window)
    conns, errors = [], []

    async def task():
        try:
            c = await one_get(args, ctx, keep, connect_sem, request_sem)
            if c:
                conns.append(c)
        except Exception as e:  # noqa: BLE001 - every failure is reported
            errors.append(f"{type(e).__name__}: {e!r}")

    await asyncio.gather(*(task() for _ in range(count)))
    return conns, errors


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--ca")
    ap.add_argument("--sni", default="viewer.bench.test")
    ap.add_argument("--host", default="viewer.bench.test")
    ap.add_argument("--path", default="/")
    ap.add_argument("--body-len", type=int)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--connect-window", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=64)
    ap.add_argument("--settle", type=float, default=1.0)
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.count + 256
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            sys.exit(f"idle_client: RLIMIT_NOFILE hard limit {hard} < {need} needed for {args.count} connections")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))

    ctx = None
    if args.tls:
        ctx = ssl.create_default_context(cafile=args.ca)
        ctx.set_alpn_protocols(["http/1.1"])

    # 1. warm-up, closed again
    _, errors = await run_many(args, ctx, args.warmup, keep=False)
    if errors:
        sys.exit(f"idle_client: warm-up failed: {errors[0]} ({len(errors)} of {args.warmup})")
    await asyncio.sleep(0.5)
    before, before_procs = tree_rss_kb(args.pid)

    # 3. the idle viewers
    t0 = time.monotonic()
    conns, errors = await run_many(args, ctx, args.count, keep=True)
    opened_s = time.monotonic() - t0
    tls_info = ""
    if args.tls and conns:
        sslobj = conns[0][1].get_extra_info("ssl_object")
        tls_info = f"{sslobj.version()} {sslobj.cipher()[0]}"

    # 4. idle
    await asyncio.sleep(args.settle)
    after, after_procs = tree_rss_kb(args.pid)

    # 5. checks
    server_open = established_on(args.port)
    await asyncio.sleep(0)
    client_open = sum(1 for r, w in conns if not r.at_eof() and r.exception() is None and not w.is_closing())
    problems = []
    if errors:
        problems.append(f"{len(errors)} of {args.count} requests failed, first: {errors[0]}")
    if client_open != args.count:
        problems.append(f"{client_open} of {args.count} connections still open when measured")
    if server_open < args.count:
        problems.append(f"the proxy holds {server_open} ESTABLISHED sockets on port {args.port}, expected {args.count}")

    print(json.dumps({
        "count": args.count, "ok": len(conns), "client_open": client_open, "server_open": server_open,
        "before_kb": before, "after_kb": after, "before_procs": before_procs, "after_procs": after_procs,
        "open_s": round(opened_s, 2), "tls": tls_info, "problems": problems,
    }))
    for r, w in conns:
        w.close()
    await asyncio.sleep(0.1)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

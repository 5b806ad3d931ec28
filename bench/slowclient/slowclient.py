#!/usr/bin/env python3
"""Slow-client scenario against a running m110d (issue 14).

Opens N connections that trickle a request head (one header byte every INTERVAL seconds, never
finishing it) or stay idle (send nothing), for DURATION seconds. Meanwhile it samples the
server's resident memory (VmRSS of PID) and times `GET /healthz` on fresh connections. Prints
RSS before / peak during / after, /healthz latency percentiles and failures during, and how many
of the slow connections the server closed and how fast.

    slowclient.py --url http://127.0.0.1:8110 --pid 1234 [--connections 2000] [--mode trickle|idle]
                  [--duration 60] [--interval 1.0] [--settle 10]

Standard library only; the client needs `ulimit -n` above the connection count.
"""

import argparse
import asyncio
import json
import statistics
import time
import urllib.parse


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


async def healthz(host, port, timeout=5.0):
    """Seconds for one GET /healthz on a fresh connection, or None when it failed."""
    start = time.monotonic()
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        w.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        await w.drain()
        data = await asyncio.wait_for(r.read(4096), timeout)
        w.close()
        if not data.startswith(b"HTTP/1.1 200"):
            return None
        return time.monotonic() - start
    except Exception:
        return None


class Slow:
    def __init__(self):
        self.opened = 0
        self.failed_open = 0
        self.closed_by_server = []  # seconds from open to the server's close
        self.still_open = 0


async def slow_conn(host, port, mode, interval, stop, stats):
    try:
        r, w = await asyncio.open_connection(host, port)
    except Exception:
        stats.failed_open += 1
        return
    stats.opened += 1
    opened = time.monotonic()
    stats.still_open += 1
    try:
        if mode == "trickle":
            w.write(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n")
            await w.drain()

        async def reader():
            while True:
                data = await r.read(1024)
                if not data:
                    return

        read_task = asyncio.ensure_future(reader())
        stop_task = asyncio.ensure_future(stop.wait())
        while not stop.is_set():
            if mode == "trickle":
                try:
                    w.write(b"X")
                    await w.drain()
                except Exception:
                    break
            done, _ = await asyncio.wait(
                [read_task, stop_task],
                timeout=interval,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if read_task in done:
                break
        if not stop.is_set():
            stats.closed_by_server.append(time.monotonic() - opened)
        read_task.cancel()
        stop_task.cancel()
    except Exception:
        stats.closed_by_server.append(time.monotonic() - opened)
    finally:
        stats.still_open -= 1
        try:
            w.close()
        except Exception:
            pass


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--mode", choices=["trickle", "idle"], default="trickle")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--settle", type=float, default=10.0)
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    host, port = u.hostname, u.port

    base_lat = [x for x in [await healthz(host, port) for _ in range(20)] if x is not None]
    rss_before = rss_mib(a.pid)
    stop = asyncio.Event()
    stats = Slow()
    tasks = []
    for i in range(a.connections):
        tasks.append(asyncio.ensure_future(slow_conn(host, port, a.mode, a.interval, stop, stats)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    lat, failures, rss_samples, open_samples = [], 0, [], []
    end = time.monotonic() + a.duration
    while time.monotonic() < end:
        rss_samples.append(rss_mib(a.pid))
        open_samples.append(stats.still_open)
        x = await healthz(host, port)
        if x is None:
            failures += 1
        else:
            lat.append(x)
        await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(a.settle)
    rss_after = rss_mib(a.pid)
    after_lat = [x for x in [await healthz(host, port) for _ in range(20)] if x is not None]
    ms = lambda v: round(v * 1000, 1)
    report = {
        "mode": a.mode,
        "connections": a.connections,
        "opened": stats.opened,
        "failed_to_open": stats.failed_open,
        "closed_by_server": len(stats.closed_by_server),
        "closed_after_s_p50": round(pct(stats.closed_by_server, 50), 2),
        "closed_after_s_max": round(max(stats.closed_by_server, default=float("nan")), 2),
        "slow_conns_open_max": max(open_samples, default=0),
        "slow_conns_open_at_end": open_samples[-1] if open_samples else 0,
        "rss_mib_before": round(rss_before, 1),
        "rss_mib_peak_during": round(max(rss_samples), 1),
        "rss_mib_after": round(rss_after, 1),
        "healthz_before_ms_p50": ms(statistics.median(base_lat)) if base_lat else None,
        "healthz_during_n": len(lat) + failures,
        "healthz_during_failures": failures,
        "healthz_during_ms_p50": ms(pct(lat, 50)) if lat else None,
        "healthz_during_ms_p99": ms(pct(lat, 99)) if lat else None,
        "healthz_during_ms_max": ms(max(lat)) if lat else None,
        "healthz_after_ms_p50": ms(statistics.median(after_lat)) if after_lat else None,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())

"""Soak of emotion-server (stdlib only; run by scripts/soak-server.sh, which builds and starts it).

Phases: CALIBRATE s of closed-loop clients at the concurrency limit measure the capacity
(requests/s); then DURATION s at 75 % of it (still images paced across 4 clients) with 4
WebSocket streams (FPS frames/s each) alongside; then OVERLOAD s at twice the concurrency limit,
half the clients well-behaved, a quarter stalling their uploads (headers, half the body, then
silence past --body-timeout) and a quarter dropping the connection mid-body. Every 10 s: requests/s,
p50/p99 (ms) of the well-behaved requests, status codes, transport errors, the server's RSS and
whether /healthz answered. The end: the issue's targets checked, exit 1 if one fails.
"""
import argparse, base64, collections, http.client, os, socket, statistics, struct, sys, threading, time

p = argparse.ArgumentParser()
p.add_argument("--host", default="127.0.0.1"); p.add_argument("--port", type=int, required=True)
p.add_argument("--pid", type=int, required=True); p.add_argument("--photo", required=True)
p.add_argument("--limit", type=int, required=True); p.add_argument("--duration", type=float, default=600)
p.add_argument("--overload", type=float, default=120); p.add_argument("--calibrate", type=float, default=20)
p.add_argument("--fps", type=float, default=2.0); p.add_argument("--interval", type=float, default=10)
a = p.parse_args()
PHOTO = open(a.photo, "rb").read()
lock = threading.Lock()
window = {"lat": [], "status": collections.Counter(), "errors": collections.Counter(), "ws": 0}
totals = {"status": collections.Counter(), "errors": collections.Counter()}
stop = threading.Event()

def record(status=None, latency=None, error=None):
    with lock:
        if status is not None:
            window["status"][status] += 1; totals["status"][status] += 1
        if latency is not None:
            window["lat"].append(latency)
        if error is not None:
            window["errors"][error] += 1; totals["errors"][error] += 1

def post_once():
    t = time.monotonic()
    try:
        c = http.client.HTTPConnection(a.host, a.port, timeout=60)
        c.request("POST", "/v1/analyze", PHOTO, {"Content-Type": "image/png"})
        r = c.getresponse(); r.read(); c.close()
        record(r.status, (time.monotonic() - t) * 1e3 if r.status == 200 else None)
    except Exception as e:
        record(error=type(e).__name__)

def paced(rate, until):
    period = 1.0 / rate; nxt = time.monotonic()
    while not stop.is_set() and time.monotonic() < until:
        post_once(); nxt += period
        time.sleep(max(0.0, nxt - time.monotonic()))

def closed_loop(until):
    while not stop.is_set() and time.monotonic() < until:
        post_once()

def bad_client(kind, until):
    # Deliberately broken clients: their own resets and timeouts are expected, not counted.
    while not stop.is_set() and time.monotonic() < until:
        try:
            s = socket.create_connection((a.host, a.port), timeout=30)
            s.sendall(b"POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n" % len(PHOTO))
            s.sendall(PHOTO[: len(PHOTO) // 2])
            if kind == "stall":
                s.settimeout(30); data = s.recv(4096)
                record(status=int(data.split()[1]) if data.startswith(b"HTTP/") else None)
            s.close()
        except Exception:
            pass
        with lock:
            window["status"]["%s-client" % kind] += 1

def ws_stream(until):
    try:
        s = socket.create_connection((a.host, a.port), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall(("GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(1)
        assert b" 101 " in head.split(b"\r\n")[0], head
        f = s.makefile("rb")
        while not stop.is_set() and time.monotonic() < until:
            t = time.monotonic(); mask = os.urandom(4); n = len(PHOTO)
            hdr = b"\x82" + (bytes([0x80 | 127]) + struct.pack(">Q", n) if n > 65535 else bytes([0x80 | 126]) + struct.pack(">H", n))
            s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(PHOTO)))
            b1, b2 = f.read(2); ln = b2 & 0x7F
            ln = struct.unpack(">H", f.read(2))[0] if ln == 126 else struct.unpack(">Q", f.read(8))[0] if ln == 127 else ln
            reply = f.read(ln)
            record("ws-ok" if b'"faces"' in reply else "ws-error")
            with lock:
                window["ws"] += 1
            time.sleep(max(0.0, 1.0 / a.fps - (time.monotonic() - t)))
        s.close()
    except Exception as e:
        record(error="ws-" + type(e).__name__)

def rss_mib():
    for line in open("/proc/%d/status" % a.pid):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024

def healthz():
    try:
        c = http.client.HTTPConnection(a.host, a.port, timeout=5); c.request("GET", "/healthz")
        ok = c.getresponse().status == 200; c.close(); return ok
    except Exception:
        return False

def pct(xs, q):
    return sorted(xs)[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")

rows = []
def sampler(phase_of):
    t0 = time.monotonic()
    while not stop.is_set():
        time.sleep(a.interval)
        with lock:
            lat, st, er, ws = window["lat"], dict(window["status"]), dict(window["errors"]), window["ws"]
            window.update(lat=[], status=collections.Counter(), errors=collections.Counter(), ws=0)
        row = dict(t=time.monotonic() - t0, phase=phase_of(), rps=len(lat) / a.interval, p50=pct(lat, .5),
                   p99=pct(lat, .99), status=st, errors=er, ws=ws, rss=rss_mib(), healthz=healthz())
        rows.append(row)
        print("%6.0fs %-9s %6.2f req/s  p50 %6.0f ms  p99 %6.0f ms  ws %3d  RSS %6.1f MiB  healthz %s  %s %s" % (
            row["t"], row["phase"], row["rps"], row["p50"], row["p99"], ws, row["rss"], row["healthz"], st, er or ""), flush=True)

def run(threads):
    for t in threads: t.start()
    for t in threads: t.join()

phase = ["calibrate"]
threading.Thread(target=sampler, args=(lambda: phase[0],), daemon=True).start()
t = time.monotonic(); until = t + a.calibrate
run([threading.Thread(target=closed_loop, args=(until,)) for _ in range(a.limit)])
with lock:
    done = totals["status"][200]
capacity = done / (time.monotonic() - t)
print("capacity: %.2f requests/s with %d closed-loop clients" % (capacity, a.limit), flush=True)
base = totals["status"][200]

phase[0] = "steady"
until = time.monotonic() + a.duration
# 75 % of capacity in all: the WebSocket frames count, the stills take the rest.
rate = max(0.1, 0.75 * capacity - 4 * a.fps) / 4
run([threading.Thread(target=paced, args=(rate, until)) for _ in range(4)] + [threading.Thread(target=ws_stream, args=(until,)) for _ in range(4)])

phase[0] = "overload"
until = time.monotonic() + a.overload
n = 2 * a.limit
run([threading.Thread(target=closed_loop, args=(until,)) for _ in range(n // 2)]
    + [threading.Thread(target=bad_client, args=("stall", until)) for _ in range(n // 4)]
    + [threading.Thread(target=bad_client, args=("drop", until)) for _ in range(n - n // 2 - n // 4)])
time.sleep(a.interval + 0.5); stop.set()

steady = [r for r in rows if r["phase"] == "steady"]
per_min = max(1, int(60 / a.interval))
first, last = steady[:per_min], steady[-per_min:]
p99 = lambda rs: max((r["p99"] for r in rs if r["p99"] == r["p99"]), default=float("nan"))
warm = steady[min(len(steady) - 1, per_min)]["rss"] if steady else float("nan")
peak = max((r["rss"] for r in steady), default=float("nan"))
five = {s: c for s, c in totals["status"].items() if isinstance(s, int) and s >= 500 and s != 503}
checks = [
    ("transport errors (well-behaved clients) == 0", sum(totals["errors"].values()) == 0, dict(totals["errors"])),
    ("5xx other than 503 == 0", not five, five),
    ("p99 last minute <= 1.5 x first (steady)", p99(last) <= 1.5 * p99(first), "%.0f vs %.0f ms" % (p99(last), p99(first))),
    ("RSS growth after warm-up < 10 %", peak <= 1.10 * warm, "%.1f -> peak %.1f MiB" % (warm, peak)),
    ("/healthz answered throughout and after", all(r["healthz"] for r in rows) and healthz(), ""),
]
print("status codes: %s" % dict(totals["status"]))
for name, ok, detail in checks:
    print("%s %s %s" % ("PASS" if ok else "FAIL", name, detail))
sys.exit(0 if all(ok for _, ok, _ in checks) else 1)

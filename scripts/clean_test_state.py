"""Remove what earlier test runs left on the local servers (run by scripts/clean-test-state.sh).

  RabbitMQ    vhosts named  test-*   (management API)
  PostgreSQL  schemas named test_*   in DATABASE_URL's database (DROP SCHEMA ... CASCADE)
  Redis       keys named    test:*   (SCAN + UNLINK)
  MongoDB     databases     test_*   (needs pymongo: run with .venv/bin/python)

Other people's test runs may be going on at the same time on this machine, so something that
looks in use is kept (unless CLEAN_MIN_AGE=0, as in CI):
  - a vhost with open connections;
  - a schema with a relation locked by another session, named in another session's last
    query, or whose files (local server) were written less than MIN_AGE seconds ago;
  - a Redis key touched less than MIN_AGE seconds ago (OBJECT IDLETIME);
  - a database whose nx-27017 file was written less than MIN_AGE seconds ago;
  - any name with a time stamp younger than MIN_AGE right after its prefix (10 digits: unix
    seconds; 13: milliseconds; or a UUIDv7 in hex, e.g. `test-{Uuid::now_v7().simple()}`).
At most CLEAN_MAX_VHOSTS (25) vhosts go per run: RabbitMQ starts and stops vhosts one at a
time and holds new connections meanwhile. The parts run in parallel threads and stop at the
deadline (CLEAN_SECONDS, 8); whatever is left goes next time. CLEAN_DRY_RUN=1 only counts.
Never raises: problems are reported as warnings. Prints one summary line when it did something.
"""

import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

NOW = time.time()
MIN_AGE = float(os.environ.get("CLEAN_MIN_AGE", "600"))
DEADLINE = NOW + float(os.environ.get("CLEAN_SECONDS", "8"))
RUN_DIR = os.environ.get("CLEAN_RUN_DIR", "")
DRY_RUN = os.environ.get("CLEAN_DRY_RUN", "") not in ("", "0")

results = {}
warnings = []
lock = threading.Lock()


def warn(msg):
    with lock:
        warnings.append(msg)


def left():
    return DEADLINE - time.time()


def stamp_of(rest):
    """Unix time encoded at the start of `rest`, or None."""
    m = re.match(r"(\d{13}|\d{10})(?!\d)", rest)
    if m:
        ts = int(m.group(1))
        return ts / 1000 if len(m.group(1)) == 13 else ts
    hexes = re.match(r"[0-9a-fA-F]{32}", rest.replace("-", "")[:32])
    if hexes and hexes.group(0)[12] == "7":  # UUIDv7: 48-bit millisecond time stamp first
        return int(hexes.group(0)[:12], 16) / 1000
    return None


def old_enough(name, prefix_len):
    ts = stamp_of(name[prefix_len:])
    return ts is None or NOW - ts >= MIN_AGE


def record(part, removed, kept):
    with lock:
        results[part] = (removed, kept)


# --- RabbitMQ ----------------------------------------------------------------------------------
def rabbitmq():
    url = urllib.parse.urlsplit(os.environ["RABBITMQ_MANAGEMENT_URL"].rstrip("/"))
    base = f"{url.scheme}://{url.hostname}" + (f":{url.port}" if url.port else "") + url.path
    creds = f"{urllib.parse.unquote(url.username or 'guest')}:{urllib.parse.unquote(url.password or 'guest')}"
    auth = "Basic " + base64.b64encode(creds.encode()).decode()

    def call(method, path):
        req = urllib.request.Request(base + path, method=method, headers={"Authorization": auth})
        with urllib.request.urlopen(req, timeout=max(1.0, min(5.0, left()))) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    names = [v["name"] for v in call("GET", "/api/vhosts?columns=name")]
    busy = {c.get("vhost") for c in call("GET", "/api/connections?columns=vhost")}
    candidates = [n for n in names if n.startswith("test-")]
    todo = [n for n in candidates if n not in busy and old_enough(n, 5)]
    # The broker starts and stops vhosts one at a time (quorum queues make that slow on
    # 2 cores), and new connections wait meanwhile: delete a few per run, one at a time.
    todo = todo[: int(os.environ.get("CLEAN_MAX_VHOSTS", "25"))]

    def delete(name):
        if left() <= 0.5:
            return False
        if DRY_RUN:
            return True
        try:
            call("DELETE", "/api/vhosts/" + urllib.parse.quote(name, safe=""))
            return True
        except Exception as e:  # noqa: BLE001 - a leftover that cannot go now goes next time
            if getattr(e, "code", None) != 404:
                warn(f"RabbitMQ: could not delete vhost {name}: {e}")
            return False

    removed = sum(delete(name) for name in todo)
    record("RabbitMQ vhosts", removed, len(candidates) - removed)


# --- PostgreSQL --------------------------------------------------------------------------------
def psql(sql, timeout):
    env = dict(os.environ, PGCONNECT_TIMEOUT="3")
    return subprocess.run(
        ["psql", os.environ["DATABASE_URL"], "-X", "-q", "-tA", "-f", "-"],
        input=sql, capture_output=True, text=True, timeout=timeout, env=env,
    )


def postgres():
    # busy: another session holds a lock on one of its relations, or its last query names it.
    out = psql(
        r"""SELECT n.nspname,
                   EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                           WHERE c.relnamespace = n.oid AND l.pid <> pg_backend_pid())
                   OR EXISTS (SELECT 1 FROM pg_stat_activity a
                              WHERE a.pid <> pg_backend_pid() AND position(n.nspname IN a.query) > 0)
            FROM pg_namespace n WHERE n.nspname LIKE 'test\_%';""",
        max(1.0, left()),
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    rows = [line.split("|") for line in out.stdout.splitlines() if "|" in line]
    todo = [name for name, busy in rows if busy != "t" and old_enough(name, 5)]
    if MIN_AGE > 0 and todo:
        written = schema_last_written()
        todo = [name for name in todo if NOW - written.get(name, 0.0) >= MIN_AGE]
    if not todo or DRY_RUN:
        record("PostgreSQL schemas", len(todo), len(rows) - len(todo))
        return
    # One statement per schema, each in its own transaction; never wait on a lock.
    script = "SET lock_timeout = '1s';\nSET client_min_messages = warning;\n" + "".join(
        'DROP SCHEMA IF EXISTS "%s" CASCADE;\n' % name.replace('"', '""') for name in todo
    )
    try:
        out = psql(script, max(1.0, left()))
        failed = out.stderr.count("ERROR:")
    except subprocess.TimeoutExpired:
        failed = None
    # Count what is really gone.
    out = psql(r"SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'test\_%';", 5)
    remaining = int(out.stdout.strip() or len(rows)) if out.returncode == 0 else len(rows)
    if failed:
        warn(f"PostgreSQL: {failed} schema(s) could not be dropped now (in use?)")
    record("PostgreSQL schemas", max(0, len(rows) - remaining), remaining)


def schema_last_written():
    """Newest mtime of each test schema's relation files, when the server's data directory is
    readable here (a local server, run as root); {} otherwise. Files get their mtime when
    created and when written back, so a schema a test still uses looks recent."""
    out = psql(
        r"""SELECT current_setting('data_directory'), n.nspname, pg_relation_filepath(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname LIKE 'test\_%' AND pg_relation_filepath(c.oid) IS NOT NULL;""",
        max(1.0, left()),
    )
    newest = {}
    if out.returncode != 0:
        return newest
    for line in out.stdout.splitlines():
        parts = line.split("|")
        if len(parts) != 3:
            continue
        datadir, schema, rel = parts
        try:
            mtime = os.path.getmtime(os.path.join(datadir, rel))
        except OSError:
            continue
        newest[schema] = max(newest.get(schema, 0.0), mtime)
    return newest


# --- Redis -------------------------------------------------------------------------------------
UNLINK_IDLE = """
local n = 0
for _, k in ipairs(KEYS) do
  local idle = redis.call('OBJECT', 'IDLETIME', k)
  if idle and idle >= tonumber(ARGV[1]) then
    if ARGV[2] ~= 'dry' then redis.call('UNLINK', k) end
    n = n + 1
  end
end
return n
"""


def redis():
    url = os.environ["REDIS_URL"]
    scan = subprocess.run(
        ["redis-cli", "-u", url, "--scan", "--pattern", "test:*"],
        capture_output=True, text=True, timeout=max(1.0, left()),
    )
    if scan.returncode != 0:
        raise RuntimeError(scan.stderr.strip() or scan.stdout.strip())
    keys = [k for k in scan.stdout.splitlines() if k]
    todo = [k for k in keys if old_enough(k, 5)]
    removed = 0
    for i in range(0, len(todo), 500):
        if left() <= 0.5:
            break
        batch = todo[i : i + 500]
        out = subprocess.run(
            ["redis-cli", "-u", url, "EVAL", UNLINK_IDLE, str(len(batch)), *batch, str(int(MIN_AGE)), "dry" if DRY_RUN else "go"],
            capture_output=True, text=True, timeout=max(1.0, left()),
        )
        count = (out.stdout.split() or ["?"])[-1]
        if out.returncode != 0 or not count.isdigit():
            raise RuntimeError((out.stderr or out.stdout).strip())
        removed += int(count)
    record("Redis keys", removed, len(keys) - removed)


# --- MongoDB -----------------------------------------------------------------------------------
def mongodb():
    try:
        from pymongo import MongoClient
    except ImportError:
        warn("MongoDB: pymongo not installed (run scripts/infra-up.sh), skipped")
        return
    client = MongoClient(
        os.environ["MONGODB_URL"],
        serverSelectionTimeoutMS=int(max(1.0, min(3.0, left())) * 1000),
        connectTimeoutMS=3000,
    )
    try:
        names = [n for n in client.list_database_names() if n.startswith("test_")]
        data_dir = standin_data_dir() if MIN_AGE > 0 else None
        removed = 0
        for name in names:
            if left() <= 0.5 or not old_enough(name, 5) or recently_written(name, data_dir):
                continue
            if not DRY_RUN:
                client.drop_database(name)
            removed += 1
        record("MongoDB databases", removed, len(names) - removed)
    finally:
        client.close()


def standin_data_dir():
    """The data directory of the nx-27017 stand-in listening on MONGODB_URL's port, read off its
    command line (--data-dir), whichever checkout started it; None for a real MongoDB."""
    host_port = os.environ["MONGODB_URL"].split("://", 1)[-1].split("/", 1)[0].split("@")[-1]
    port = host_port.split(",")[0].rsplit(":", 1)[-1] if ":" in host_port else "27017"
    try:
        ss = subprocess.run(["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, timeout=3)
        pid = re.search(r"pid=(\d+)", ss.stdout).group(1)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().decode(errors="replace").split("\0")
    except (OSError, AttributeError, subprocess.SubprocessError):
        return os.path.join(RUN_DIR, "mongo") if RUN_DIR else None
    if not any("nx-27017" in a or "nx_27017" in a for a in argv) or "--data-dir" not in argv:
        return None
    data_dir = argv[argv.index("--data-dir") + 1]
    return data_dir if os.path.isabs(data_dir) else None


def recently_written(db, data_dir):
    """The stand-in keeps one SQLite file per database: use its mtime."""
    if not data_dir:
        return False
    newest = 0.0
    for suffix in (".db", ".db-wal"):
        try:
            newest = max(newest, os.path.getmtime(os.path.join(data_dir, db + suffix)))
        except OSError:
            pass
    return NOW - newest < MIN_AGE


def guarded(name, fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - cleaning must never fail the run
        warn(f"{name}: skipped ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")


def main():
    parts = [("RabbitMQ", rabbitmq), ("PostgreSQL", postgres), ("Redis", redis), ("MongoDB", mongodb)]
    only = set(sys.argv[1:])
    threads = [
        threading.Thread(target=guarded, args=p, daemon=True)
        for p in parts
        if not only or p[0].lower() in only
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, left() + 1.5))
    if any(t.is_alive() for t in threads):
        warn("some cleaning did not finish in time; the rest goes next time")
    for w in warnings:
        print(f"clean-test-state: warning: {w}", file=sys.stderr)
    done = [f"{r} {part}" for part, (r, _) in sorted(results.items()) if r]
    kept = [f"{k} {part}" for part, (_, k) in sorted(results.items()) if k]
    if done or os.environ.get("CLEAN_VERBOSE"):
        msg = ("would remove " if DRY_RUN else "removed ") + (", ".join(done) or "nothing")
        if kept:
            msg += f" (kept for now, in use, younger than {int(MIN_AGE)} s or over a run's limit: {', '.join(kept)})"
        print(f"clean-test-state: {msg}", file=sys.stderr)


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # do not wait for a thread stuck past the deadline

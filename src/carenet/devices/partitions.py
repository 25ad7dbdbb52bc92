"""Monthly partitions of devices_deviceevent on PostgreSQL (issue 15); SQLite keeps one plain table.

About 1,000 rows per home and day: a district of 10,000 homes adds 300 million rows a month. The table is
partitioned by RANGE (ts), one partition per local (Asia/Shanghai) month, named devices_deviceevent_yYYYYmMM,
plus devices_deviceevent_default for anything outside the months created (a replay of 2019, a clock far ahead).

Keys. PostgreSQL requires the partition key in every unique index of a partitioned table, so:
- the primary key is (id, ts); id alone stays unique in practice (one sequence), and Django's ORM keeps using
  `id` as the pk (it never needs the database to enforce it);
- the unique constraint `device_event_once` is (device_id, event_id, ts): a redelivered message (same event,
  same ts) is refused by the database itself. (device, event id) with a *different* ts is refused by ingest:
  its duplicate check reads all months and runs, with the insert, under a transaction-scoped advisory lock on
  the device, so no two transactions can both find the pair new (monitoring/fastpath.py, lock_devices).
  The btree (device_id, event_id, ts) also serves that check's (device_id, event_id) lookups in every month.

Months are created ahead (ensure_partitions, run by the migration, by `manage.py event_partitions` and by the
ingest worker every hour); rows that reached the default partition for a month created later are moved into it.
`manage.py event_partitions --keep-months N` detaches the months before the last N, writes each to
var/archive/devices_deviceevent_yYYYYmMM.csv.gz (verified row count), then drops it.
"""
from __future__ import annotations

import datetime as dt
import gzip
import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

TABLE = "devices_deviceevent"
DEFAULT = f"{TABLE}_default"
NAME = re.compile(rf"^{TABLE}_y(\d{{4}})m(\d{{2}})$")
MONTHS_AHEAD = 3


def supported() -> bool:
    return connection.vendor == "postgresql"


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_start(year: int, month: int) -> dt.datetime:
    return dt.datetime(year, month, 1, tzinfo=local_tz())


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def add_months(year: int, month: int, n: int) -> tuple[int, int]:
    k = year * 12 + (month - 1) + n
    return k // 12, k % 12 + 1


def partition_name(year: int, month: int) -> str:
    return f"{TABLE}_y{year:04d}m{month:02d}"


def is_partitioned(cur) -> bool:
    cur.execute("SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relname = %s AND n.nspname = current_schema()", [TABLE])
    row = cur.fetchone()
    return bool(row) and row[0] == "p"


def attached(cur) -> list[str]:
    cur.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY c.relname", [TABLE])
    return [r[0] for r in cur.fetchall()]


def months(cur) -> list[tuple[int, int]]:
    """The (year, month) partitions attached now, oldest first."""
    return sorted((int(m.group(1)), int(m.group(2))) for m in map(NAME.match, attached(cur)) if m)


def create_month(cur, year: int, month: int) -> bool:
    """Create and attach one month; rows of that month waiting in the default partition are moved into it.
    Returns False when it exists already."""
    name = partition_name(year, month)
    if name in attached(cur):
        return False
    lo, hi = month_start(year, month), month_start(*next_month(year, month))
    cur.execute(f'CREATE TABLE IF NOT EXISTS "{name}" (LIKE {TABLE} INCLUDING DEFAULTS)')
    if DEFAULT in attached(cur):
        cur.execute(f'WITH moved AS (DELETE FROM "{DEFAULT}" WHERE ts >= %s AND ts < %s RETURNING *) '
                    f'INSERT INTO "{name}" SELECT * FROM moved', [lo, hi])
    cur.execute(f'ALTER TABLE {TABLE} ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)', [lo, hi])
    return True


def ensure_partitions(today: dt.date | None = None, ahead: int = MONTHS_AHEAD, since: dt.date | None = None) -> list[str]:
    """Make sure every month from `since` (default: this month) to `ahead` months on exists. PostgreSQL only."""
    if not supported():
        return []
    today = today or dt.datetime.now(local_tz()).date()
    first = since or today
    created = []
    with transaction.atomic(), connection.cursor() as cur:
        if not is_partitioned(cur):
            return []
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [TABLE])  # two workers never race here
        y, m = first.year, first.month
        last = add_months(today.year, today.month, ahead)
        while (y, m) <= last:
            if create_month(cur, y, m):
                created.append(partition_name(y, m))
            y, m = next_month(y, m)
    return created


def archive_dir() -> Path:
    return Path(os.environ.get("CARENET_ARCHIVE_DIR") or Path(settings.VAR_DIR) / "archive")


def archive_before(year: int, month: int, directory: Path | None = None, dry_run: bool = False) -> list[tuple]:
    """Detach every month before (year, month), write it to <dir>/<partition>.csv.gz, check the row count, drop
    it. A month detached by an earlier run that stopped half-way is finished too. [(name, rows, path)]."""
    if not supported():
        raise RuntimeError("event partitions exist on PostgreSQL only")
    directory = directory or archive_dir()
    done = []
    with connection.cursor() as cur:
        old = [(y, m) for y, m in months(cur) if (y, m) < (year, month)]
        cur.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE %s",
                    [f"{TABLE}_y%"])
        leftovers = [r[0] for r in cur.fetchall() if NAME.match(r[0]) and r[0] not in attached(cur)]
    names = sorted({partition_name(y, m) for y, m in old} | {n for n in leftovers if _ym(n) < (year, month)})
    if dry_run:
        return [(n, None, directory / f"{n}.csv.gz") for n in names]
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        with transaction.atomic(), connection.cursor() as cur:
            if name in attached(cur):
                cur.execute(f'ALTER TABLE {TABLE} DETACH PARTITION "{name}"')
        path = directory / f"{name}.csv.gz"
        rows = _dump(name, path)
        with connection.cursor() as cur:
            cur.execute(f'SELECT count(*) FROM "{name}"')
            expected = cur.fetchone()[0]
            if rows != expected:
                raise RuntimeError(f"{name}: wrote {rows} rows to {path}, the table has {expected}; not dropped")
            cur.execute(f'DROP TABLE "{name}"')
        done.append((name, rows, path))
    return done


def _ym(name: str) -> tuple[int, int]:
    m = NAME.match(name)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _dump(name: str, path: Path) -> int:
    """COPY the table to a gzip CSV with a header (written to a temporary name, renamed when complete)."""
    tmp = path.with_suffix(".tmp")
    with connection.cursor() as cur, gzip.open(tmp, "wb") as out:
        with cur.cursor.copy(f'COPY (SELECT id, device_id, event_id, kind, ts, received, value FROM "{name}" '
                             f'ORDER BY ts, id) TO STDOUT WITH (FORMAT csv, HEADER true)') as copy:
            for chunk in copy:
                out.write(bytes(chunk))
    os.replace(tmp, path)
    return _count_rows(path)


def _count_rows(path: Path) -> int:
    """Data rows in the archive, read back with the csv module (a JSON value may hold a newline)."""
    import csv

    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1

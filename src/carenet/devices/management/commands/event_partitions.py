"""Monthly partitions of the device event table (PostgreSQL): create the months ahead, archive the old ones.

    manage.py event_partitions                      # list the months, create the next ones
    manage.py event_partitions --keep-months 13     # also archive (detach, CSV.gz, verify, drop) older months
    manage.py event_partitions --archive-before 2026-01 [--dir var/archive] [--dry-run]
"""
import datetime as dt
import re

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from carenet.devices import partitions as P


class Command(BaseCommand):
    help = "Create the coming months of devices_deviceevent and archive old months (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument("--keep-months", type=int, default=None,
                            help="keep this many months including the current one; archive the older ones")
        parser.add_argument("--archive-before", default=None, help="archive the months before YYYY-MM")
        parser.add_argument("--ahead", type=int, default=P.MONTHS_AHEAD, help="months to create ahead")
        parser.add_argument("--dir", default=None, help="archive directory (default var/archive)")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, keep_months, archive_before, ahead, dir, dry_run, **opts):
        if not P.supported():
            raise CommandError("设备事件按月分区仅用于 PostgreSQL；SQLite 使用单表，无需归档。")
        with connection.cursor() as cur:
            if not P.is_partitioned(cur):
                raise CommandError("devices_deviceevent 尚未分区：请先运行 migrate。")
        created = [] if dry_run else P.ensure_partitions(ahead=ahead)
        for name in created:
            self.stdout.write(f"created {name}")
        cutoff = None
        if archive_before:
            m = re.fullmatch(r"(\d{4})-(\d{2})", archive_before)
            if not m or not 1 <= int(m.group(2)) <= 12:
                raise CommandError("--archive-before 的格式应为 YYYY-MM，例如 2026-01。")
            cutoff = (int(m.group(1)), int(m.group(2)))
        elif keep_months is not None:
            if keep_months < 1:
                raise CommandError("--keep-months 至少为 1（当前月份）。")
            today = dt.datetime.now(P.local_tz()).date()
            cutoff = P.add_months(today.year, today.month, -(keep_months - 1))
        if cutoff:
            from pathlib import Path

            for name, rows, path in P.archive_before(*cutoff, directory=Path(dir) if dir else None, dry_run=dry_run):
                self.stdout.write(f"{'would archive' if dry_run else 'archived'} {name}"
                                  + ("" if rows is None else f": {rows} rows") + f" → {path}")
        with connection.cursor() as cur:
            names = P.attached(cur)
            counts = []
            for name in names:
                cur.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [name])
                counts.append((name, cur.fetchone()[0]))
        for name, n in counts:
            self.stdout.write(f"{name}  ~{max(n, 0)} rows")

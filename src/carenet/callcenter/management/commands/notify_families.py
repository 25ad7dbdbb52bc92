import logging
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connection

from carenet.callcenter.notify import get_backend, notify_new_alarms


class Command(BaseCommand):
    help = ("Tell families about raised and closed alarms (SMS/app push through the notification backend). "
            "Runs once, or with --loop every --interval seconds. Idempotent: safe next to other instances.")

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true")
        parser.add_argument("--interval", type=float, default=2.0)
        parser.add_argument("--backend", default=None, help="notification backend name (default: db)")

    def handle(self, *args, loop, interval, backend, **opts):
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        b = get_backend(backend)
        while True:
            try:
                counts = notify_new_alarms(backend=b)
                if counts["raised"] or counts["closed"] or not loop:
                    self.stdout.write(f"notified: raised={counts['raised']} closed={counts['closed']}")
            except DatabaseError as exc:
                self.stderr.write(f"database unavailable ({exc.__class__.__name__}); retrying")
                connection.close()
            if not loop:
                return
            time.sleep(interval)
            close_old_connections()

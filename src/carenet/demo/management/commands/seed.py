from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from carenet.core.models import Division
from carenet.demo import loader
from carenet.demo.synth import District


class Command(BaseCommand):
    help = "Generate a deterministic synthetic district: divisions, households, elders, demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--elders", type=int, default=2000, help="number of residents aged 60+ (default 2000)")
        parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, same district)")
        parser.add_argument("--communities", type=int, default=15, help="communities per street (about)")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when a district is already loaded")
        parser.add_argument("--no-users", action="store_true", help="do not create the demo logins")

    def handle(self, *args, elders, seed, communities, if_empty, no_users, **opts):
        if Division.objects.exists():
            if if_empty:
                self.stdout.write("A district is already loaded; nothing to do.")
                return
            raise CommandError("The database already holds a district. Use a fresh database, or --if-empty.")
        if elders < 1:
            raise CommandError("--elders must be at least 1")
        district = District(seed=seed, communities_per_street=communities)
        with transaction.atomic():
            divisions = loader.load_divisions(district)
        self.stdout.write(f"divisions: {len(divisions)}")

        def progress(done, total, seconds):
            self.stdout.write(f"\r  elders {done}/{total}  {seconds:.1f}s", ending="")
            self.stdout.flush()

        counts = loader.load_people(district, elders, divisions, progress=progress)
        self.stdout.write("")
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:  # fresh statistics, or the planner guesses 2 rows after a bulk load
                cur.execute("ANALYZE")
        self.stdout.write(f"households: {counts['households']}  residents: {counts['residents']}  elders: {counts['elders']}")
        if not no_users:
            for username, role, division in loader.create_demo_users(divisions):
                self.stdout.write(f"login {username:<10} role {role:<15} area {division}  password {loader.DEMO_PASSWORD}")

from django.core.management.base import BaseCommand

from carenet.policy.models import QAPair
from carenet.policy.services import check_citations
from carenet.policy.starter import load_starter_into


class Command(BaseCommand):
    help = "Load the curated starter Q&A set (missing pairs only, unless --update)."

    def add_arguments(self, parser):
        parser.add_argument("--draft", action="store_true", help="load new pairs as drafts instead of published")
        parser.add_argument("--update", action="store_true", help="overwrite pairs that came from the starter set")
        parser.add_argument("--path", default=None, help="another JSON file in the same format")
        parser.add_argument("--check", action="store_true", help="verify every citation against the index")

    def handle(self, *args, **opts):
        result = load_starter_into(QAPair, publish=not opts["draft"], update=opts["update"], path=opts["path"])
        self.stdout.write(self.style.SUCCESS(
            "created {created}, updated {updated}, unchanged {skipped}".format(**result)))
        if opts["check"]:
            bad = 0
            for pair in QAPair.objects.all():
                for err in check_citations(pair.citations):
                    bad += 1
                    self.stdout.write(f"#{pair.pk} {pair.question}: {err}")
            self.stdout.write(f"citation problems: {bad}")

"""Create an Open311 client (e.g. the 12345 hotline) and print its api_key once."""
from django.core.management.base import BaseCommand, CommandError

from carenet.civic import services
from carenet.core.models import Division


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--division", help="division code the client may create requests in (default: the district)")

    def handle(self, *args, name, division, **opts):
        div = Division.objects.filter(code=division).first() if division else \
            Division.objects.filter(level=Division.Level.DISTRICT).order_by("code").first()
        if div is None:
            raise CommandError("division not found")
        client, key = services.create_api_client(None, name, div)
        self.stdout.write(f"Open311 client {client.name} for {div.name}: api_key={key}")

"""One scheduled pass of home care: visit plans from the elder registry, escalation of overdue visits (community,
then street), orders of recurring plans, and SMS reminders through the call center's notification backend.
Idempotent: run it every few minutes from cron or a systemd timer (the demo's background services run it every
10 minutes)."""
from django.core.management.base import BaseCommand


def sms_sender():
    """(send, backend name): the call center's notification backend as a plain function for homecare.reminders
    (a management command is a composition point: it may import any app; homecare itself does not import the call
    center, which imports homecare)."""
    from carenet.callcenter.notify import Recipient, get_backend

    backend = get_backend()

    def send(name: str, phone: str, text: str) -> tuple[bool, str]:
        result = backend.send(Recipient(name, phone, 0), "sms", text)
        return result.ok, result.error

    return send, backend.name


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--no-sms", action="store_true", help="record the reminders without sending them")

    def handle(self, *args, no_sms=False, **opts):
        from carenet.homecare import reminders

        send, name = (None, "none") if no_sms else sms_sender()
        out = reminders.tick(send, name)
        self.stdout.write("home care tick: " + ", ".join(f"{k} {v}" for k, v in out.items()))

"""Access from outside the staff UI: the resident's home code (terminal or phone) and Open311 API clients."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carenet.civic import models as m
from carenet.civic.engine.common import CivicError
from carenet.core import audit
from carenet.core.models import AuditLog, Division
from carenet.core.permissions import require, require_in_area
from carenet.people.models import Resident


class CivicServiceError(CivicError):
    """A refusal with a message for the user (not from the engine)."""

    code = "civic.refused"


def now() -> dt.datetime:
    return timezone.now()


# ------------------------------------------------------------------ home access (terminal or phone)

MAX_FAILURES, LOCK_MINUTES = 5, 15


@transaction.atomic
def issue_home_access(user, resident: Resident) -> str:
    """A new 6-digit code for the resident's home page (given to the elder on paper or set on the terminal)."""
    require(user, "civic.apply")
    require_in_area(user, resident.division)
    if not resident.phone:
        raise CivicServiceError(_("The resident has no phone number on file; add it first."))
    code = f"{secrets.randbelow(10**6):06d}"
    m.HomeAccess.objects.update_or_create(resident=resident, defaults={
        "phone": resident.phone, "code_hash": make_password(code), "failures": 0, "locked_until": None,
        "issued_by": user})
    audit.record(AuditLog.Action.UPDATE, resident, actor=user, note="civic.home_access issued",
                 division_path=resident.division.path)
    return code


def home_login(phone: str, code: str) -> Resident:
    phone, code = (phone or "").strip(), (code or "").strip()
    access = m.HomeAccess.objects.select_related("resident").filter(phone=phone).first()
    if access is None:
        raise CivicServiceError(_("Phone number or code is wrong."))
    if access.locked_until and access.locked_until > now():
        raise CivicServiceError(_("Too many wrong codes. Please try again in %(n)s minutes.") % {"n": LOCK_MINUTES})
    if not check_password(code, access.code_hash):
        access.failures += 1
        if access.failures >= MAX_FAILURES:
            access.locked_until, access.failures = now() + dt.timedelta(minutes=LOCK_MINUTES), 0
        access.save(update_fields=["failures", "locked_until"])
        raise CivicServiceError(_("Phone number or code is wrong."))
    if access.failures:
        access.failures = 0
        access.save(update_fields=["failures"])
    return access.resident


# ------------------------------------------------------------------ Open311 clients

def key_hash(api_key: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), api_key.encode(), hashlib.sha256).hexdigest()


@transaction.atomic
def create_api_client(user, name: str, division: Division) -> tuple[m.ApiClient, str]:
    """A new Open311 client and its api_key (shown once; only its keyed hash is stored)."""
    if user is not None:
        require(user, "civic.catalogue")
        require_in_area(user, division)
    key = secrets.token_urlsafe(24)
    client = m.ApiClient.objects.create(name=name[:60], key_hash=key_hash(key), division=division)
    audit.record(AuditLog.Action.CREATE, client, actor=user, division_path=division.path, note="civic.open311 client")
    return client, key


def client_for_key(api_key: str) -> m.ApiClient | None:
    if not api_key:
        return None
    return m.ApiClient.objects.select_related("division").filter(key_hash=key_hash(api_key), active=True).first()

import base64
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

HOME = (30.5312, 117.0587)


def png(color="navy", shape="rect") -> str:
    """A small photo as the phone sends it (a data URL)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (64, 48), "white")
    d = ImageDraw.Draw(img)
    (d.rectangle if shape == "rect" else d.ellipse)((8, 8, 40, 40), fill=color)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


class HC:
    pass


@pytest.fixture
def hc(area, settings, tmp_path):
    """Home-care world on top of the `area` fixture: standards, two service types, one provider covering
    street 1, helper 'helper1' (area.helper) in street 1, a second provider with its own helper and office user."""
    from carenet.core.roles import Role
    from carenet.homecare import models as m
    from carenet.homecare import services
    from carenet.people.models import ElderCategory
    from tests.factories import UserFactory

    settings.VAR_DIR = tmp_path
    w = HC()
    w.area = area
    services.seed_standards(area.district)
    w.bath = m.ServiceType.objects.create(code="bath", name="助浴", unit="visit", price=Decimal("60"), min_minutes=45, max_minutes=90)
    w.clean = m.ServiceType.objects.create(code="clean", name="助洁", unit="hour", price=Decimal("40"), min_minutes=60, max_minutes=180)
    w.provider = m.Provider.objects.create(name="安康居家服务社", division=area.district, contract_start=dt.date(2024, 1, 1),
                                           contract_end=dt.date(2030, 12, 31))
    w.provider.areas.add(area.street1)
    w.helper = m.Helper.objects.create(provider=w.provider, user=area.helper, name="李助老", division=area.street1,
                                       work_start=dt.time(0, 0), work_end=dt.time(23, 59))
    w.helper.skills.add(w.bath, w.clean)
    w.provider2 = m.Provider.objects.create(name="夕阳红服务中心", division=area.district, contract_start=dt.date(2024, 1, 1),
                                            contract_end=dt.date(2030, 12, 31))
    w.provider2.areas.add(area.district)
    w.helper2_user = UserFactory(username="helper2", role=Role.HELPER, division=area.street2)
    w.helper2 = m.Helper.objects.create(provider=w.provider2, user=w.helper2_user, name="王助老", division=area.street2,
                                        work_start=dt.time(0, 0), work_end=dt.time(23, 59))
    w.helper2.skills.add(w.bath, w.clean)
    w.office2 = UserFactory(username="office2", role=Role.HELPER, division=area.district)
    m.ProviderStaff.objects.create(user=w.office2, provider=w.provider2)
    r = area.elder_a.resident
    r.lat, r.lon = HOME
    r.save()
    ElderCategory.objects.create(elder=area.elder_a, code="tekun")
    ElderCategory.objects.create(elder=area.elder_c, code="dibao")
    # tomorrow 10:00 local: inside working hours whatever the time the suite runs
    w.soon = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    return w

"""factory_boy factories and a small seeded district for tests."""
import datetime as dt
import itertools

import factory
from django.utils import timezone

from carenet.core import idcard
from carenet.core.models import Division, User
from carenet.core.roles import Role
from carenet.people.models import ElderProfile, EmergencyContact, HealthArchive, Household, Resident

_seq = itertools.count(1)
PASSWORD = "test-pass-123"


def new_id_number(birth: dt.date = dt.date(1950, 3, 4), sex: str = "M") -> str:
    n = next(_seq)
    seq = (n * 2 + (1 if sex == "M" else 0)) % 1000
    return idcard.make("110105", birth, seq if seq else 1)


class DivisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Division

    code = factory.Sequence(lambda n: f"9900{n:08d}")
    name = factory.Sequence(lambda n: f"社区{n}")
    level = Division.Level.COMMUNITY


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.WORKER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    name = factory.Sequence(lambda n: f"测试{n}")
    sex = "M"
    birth_date = dt.date(1950, 3, 4)
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    address = "测试路1号"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = model_class(*args, **kwargs)
        obj.set_id_number(new_id_number(obj.birth_date, obj.sex))
        if obj.household_id is None:
            obj.household = Household.objects.create(division=obj.division, address=obj.address)
        obj.save()
        return obj


class ElderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ElderProfile
        skip_postgeneration_save = True

    resident = factory.SubFactory(ResidentFactory)
    living = ElderProfile.Living.ALONE

    @factory.post_generation
    def health(obj, create, extracted, **kwargs):
        if create:
            HealthArchive.objects.create(elder=obj, chronic_conditions="高血压", medications="氨氯地平 5mg", allergies="青霉素")
            EmergencyContact.objects.create(elder=obj, order=1, name="联系人", relation="儿子", phone="13900000000")


# ---- devices, monitoring, call center, policy (one factory per model the tests build directly) ----
class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "devices.Device"

    device_id = factory.Sequence(lambda n: f"DEV-{n:06d}")
    type = "pir"
    room = "客厅"
    elder = factory.SubFactory(ElderFactory)


class AlarmFactory(factory.django.DjangoModelFactory):
    """An open alarm of an elder, in the elder's division."""

    class Meta:
        model = "monitoring.Alarm"

    elder = factory.SubFactory(ElderFactory)
    division = factory.LazyAttribute(lambda a: a.elder.resident.division)
    type = "sos"
    key = factory.Sequence(lambda n: f"sos:{n}")
    severity = "critical"
    message = "SOS"
    condition_at = factory.LazyFunction(timezone.now)
    last_at = factory.LazyAttribute(lambda a: a.condition_at)


class OnlineServiceFactory(factory.django.DjangoModelFactory):
    """A planned care call (主动关怀) for an elder."""

    class Meta:
        model = "callcenter.OnlineService"

    elder = factory.SubFactory(ElderFactory)
    division = factory.LazyAttribute(lambda s: s.elder.resident.division)
    kind = "care_call"
    direction = "out"
    status = "planned"


class QAPairFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "policy.QAPair"

    question = factory.Sequence(lambda n: f"问题{n}？")
    answer = "依照有关规定办理。"
    citations = factory.LazyFunction(lambda: [{"law": "中华人民共和国老年人权益保障法", "article": "第十四条"}])

def image_bytes(fmt: str = "JPEG", size=(8, 8)) -> bytes:
    """A small real image (Pillow), for upload tests: uploads are verified as images before they are stored."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buf, fmt)
    return buf.getvalue()

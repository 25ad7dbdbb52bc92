"""#18 phone report page: the ID error is shown where the user looks, help type has no default, a location button."""
import pytest
from django.urls import reverse

from carenet.assistance import models as m
from carenet.assistance import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(area, client):
    services.seed_default_standards(area.district)
    client.force_login(area.worker_a)
    return area.worker_a


def test_an_invalid_id_opens_the_section_with_its_message(area, client, worker):
    r = client.post(reverse("assistance:report"), {"new_name": "张三", "new_id_number": "123", "route": "temp_aid",
                                                   "description": "生活困难"})
    page = r.content.decode()
    assert r.status_code == 200 and not m.GridReport.objects.exists()
    details = page.split('data-testid="new-person"')[1].split("</details>")[0]
    assert details.lstrip().startswith("open>") and 'data-testid="error-new_id_number"' in details


def test_help_type_has_no_default_and_must_be_chosen(area, client, worker):
    page = client.get(reverse("assistance:report")).content.decode()
    select = page.split('name="route"')[1].split("</select>")[0]
    assert '<option value="" selected>' in select
    r = client.post(reverse("assistance:report"), {"applicant": area.worker_a.pk, "description": "生活困难"})
    assert 'data-testid="error-route"' in r.content.decode() and not m.GridReport.objects.exists()


def test_location_is_a_button_with_hidden_fields(area, client, worker):
    page = client.get(reverse("assistance:report")).content.decode()
    assert 'data-testid="geo-button"' in page and "使用我的位置" in page
    assert 'type="hidden" name="lat"' in page and 'type="hidden" name="lon"' in page
    assert "white-space: nowrap" in page

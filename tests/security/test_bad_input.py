"""Issue 9 §4: bad input gets a clear 4xx or a form error in Chinese, never a 500; uploads are capped and
verified; the API docs need a login and load nothing from another host."""
import os
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from carenet.assistance import models as am
from carenet.assistance import services as asv
from tests.factories import image_bytes
from tests.security.sweep import concrete_urls

pytestmark = pytest.mark.django_db


@pytest.fixture
def everything(area, login):
    """Logged in as the district admin (superuser: every page is open), with the URLs that take no object id."""
    area.admin.is_superuser = True
    area.admin.save()
    return login(area.admin), [u for u, needs_object in concrete_urls(area) if not needs_object]


def test_nul_in_any_search_box_is_a_clear_400(everything):
    client, urls = everything
    assert len(urls) > 25
    bad = []
    for url in urls:
        for params in ({"q": "a\x00b"}, {"division": "\x00", "status": "\x00", "month": "\x00", "date_from": "\x00"}):
            r = client.get(url, params)
            if r.status_code != 400:
                bad.append((url, params, r.status_code))
            elif "api" not in url:
                assert "控制字符" in r.content.decode()  # the page says why, in Chinese
    assert bad == []


def test_nul_in_a_posted_form_is_a_clear_400(area, login):
    r = login(area.worker_a).post("/assistance/relatives/", {"id_number": "1\x00", "relation": "parent"})
    assert r.status_code == 400


def test_audit_log_with_a_date_that_is_not_a_date(area, login):
    r = login(area.supervisor).get("/audit/", {"date_from": "notadate", "date_to": "2026-13-45"})
    assert r.status_code == 200
    page = r.content.decode()
    assert page.count('data-testid="filter-error"') == 2 and "不是日期" in page


# ---------------------------------------------------------------- uploads

@pytest.fixture
def media(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_thirty_megabytes_of_random_bytes_are_not_a_photo(area, media):
    asv.seed_default_standards(area.district)
    junk = SimpleUploadedFile("big.jpg", os.urandom(30 * 1024 * 1024), content_type="image/jpeg")
    with pytest.raises(asv.AssistanceError, match="过大|too large"):
        asv.grid_report(area.worker_a, applicant=area.elder_a.resident, route="dibao_urban", description="x",
                        photos=[junk])
    small_junk = SimpleUploadedFile("x.jpg", os.urandom(2000), content_type="image/jpeg")
    with pytest.raises(asv.AssistanceError):
        asv.grid_report(area.worker_a, applicant=area.elder_a.resident, route="dibao_urban", description="x",
                        photos=[small_junk])
    assert not am.Photo.objects.exists() and not am.GridReport.objects.exists()
    assert not list(media.rglob("*.jpg"))


def test_a_real_photo_is_stored_with_the_type_pillow_found(area, media):
    png = SimpleUploadedFile("p.jpg", image_bytes("PNG"), content_type="image/jpeg")  # the browser's claim is wrong
    rep = asv.grid_report(area.worker_a, applicant=area.elder_a.resident, route="dibao_urban", description="x",
                          photos=[png])
    assert rep.photos.get().content_type == "image/png"


def test_the_report_form_says_why_a_photo_was_refused(area, login, media):
    junk = SimpleUploadedFile("x.jpg", b"<html>not a photo</html>", content_type="image/jpeg")
    r = login(area.worker_a).post(reverse("assistance:report"), {
        "applicant": area.elder_a.resident.pk, "route": "dibao_urban", "description": "x", "photos": [junk]})
    assert r.status_code == 200 and "不是照片" in r.content.decode()
    assert not am.GridReport.objects.exists()


def test_an_oversized_import_file_is_refused_before_reading(area, login, monkeypatch):
    from carenet.core import import_views
    from carenet.core.models import ImportUpload

    monkeypatch.setattr(import_views, "MAX_UPLOAD", 1000)
    r = login(area.worker_a).post("/imports/people.elders/", {"file": SimpleUploadedFile("e.xlsx", b"x" * 2000)},
                                  follow=True)
    assert r.status_code == 200 and not ImportUpload.objects.exists()


# ---------------------------------------------------------------- API docs

def test_api_docs_need_a_login_and_load_nothing_from_another_host(area, client, login):
    assert client.get("/api/docs").status_code == 302
    assert client.get("/api/openapi.json").status_code == 302
    page = login(area.worker_a).get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert "cdn" not in html.lower()
    for s in sources:
        assert client.get(s).status_code == 200  # the vendored asset is really there

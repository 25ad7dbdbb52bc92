import pytest

pytestmark = pytest.mark.django_db


def test_chinese_by_default_even_for_an_english_browser(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "登录织网平台" in page


def test_english_when_chosen(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    page = client.get("/login/").content.decode()
    assert "Log in to CareNet" in page

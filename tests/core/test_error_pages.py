"""403 and 404 pages are Chinese, inside the staff layout, and a refusal logs no traceback."""
import logging


from carenet.core.logfilters import QuietClientErrors


def test_403_is_chinese_with_the_menu(area, login):
    client = login(area.helper)
    response = client.get("/users/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "无权访问" in text and "返回我的首页" in text
    assert 'data-testid="whoami"' in text          # the staff layout, with the menu


def test_404_is_chinese_with_the_menu(area, login):
    client = login(area.worker_a)
    response = client.get(f"/people/elders/{area.elder_c.pk}/")     # another street's elder
    assert response.status_code == 404
    text = response.content.decode()
    assert "页面不存在" in text and 'data-testid="whoami"' in text


def test_client_errors_lose_their_traceback_and_server_errors_keep_it():
    quiet = QuietClientErrors()
    try:
        raise PermissionError("x")
    except PermissionError:
        import sys
        info = sys.exc_info()
    forbidden = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden", (), info)
    forbidden.status_code = 403
    crash = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Server error", (), info)
    crash.status_code = 500
    assert quiet.filter(forbidden) and forbidden.exc_info is None
    assert quiet.filter(crash) and crash.exc_info is not None


def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")

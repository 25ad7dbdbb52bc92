"""While the index is built in the background, the policy pages say so instead of asking for a command."""
import os

import pytest

from carenet.policy import runtime


@pytest.fixture
def no_index(settings, tmp_path):
    settings.POLICY_INDEX_DIR = str(tmp_path / "policy_index")
    runtime.reset()
    yield tmp_path
    runtime.reset()


def test_building_marker_with_a_live_pid_shows_building(no_index, client, area, login):
    runtime.building_marker().write_text(str(os.getpid()))
    assert runtime.index_building()
    page = client.get("/policy/?q=低保").content.decode()
    assert "正在建立索引" in page and 'data-testid="index-building"' in page
    staff = login(area.worker_a).get("/policy/staff/?q=低保").content.decode()
    assert "正在建立索引" in staff


def test_a_dead_builder_is_not_building(no_index, client):
    runtime.building_marker().write_text("999999999")
    assert not runtime.index_building()
    page = client.get("/policy/?q=低保").content.decode()
    assert 'data-testid="index-missing"' in page and "系统管理员" in page


def test_staff_menu_links_to_the_staff_search(area, login):
    page = login(area.worker_a).get("/people/elders/").content.decode()
    assert 'href="/policy/staff/"' in page

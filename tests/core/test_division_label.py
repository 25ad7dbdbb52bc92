"""A grid is shown with its community ("甲社区 › 第2网格") wherever a division is listed."""
from carenet.core.models import Division
from tests.factories import ElderFactory, ResidentFactory


def test_grid_label_carries_its_community(area, login):
    grid = Division.objects.create(code="340899001001002", name="第2网格", level=Division.Level.GRID, parent=area.comm_a)
    assert grid.label == "甲社区 › 第2网格"
    assert area.comm_a.label == "甲社区"
    ElderFactory(resident=ResidentFactory(division=grid, name="网格老人"))
    page = login(area.worker_a).get("/people/elders/").content.decode()
    assert "甲社区 › 第2网格" in page

import pytest

from carenet.civic import services


@pytest.fixture
def catalogue(db):
    services.load_catalogue()
    from carenet.civic.models import ServiceItem

    return {i.name: i for i in ServiceItem.objects.all()}


@pytest.fixture
def media(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path

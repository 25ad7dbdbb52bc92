"""The suite's own check that the real services it was asked to use are the ones in use."""
import pytest
from django.db import connection


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_is_postgresql():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        assert cur.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_prefix_scoping_uses_the_path_index(area):
    from carenet.people.models import ElderProfile

    sql = str(ElderProfile.objects.visible_to(area.worker_a).query)
    assert "LIKE" in sql.upper()
    assert list(ElderProfile.objects.visible_to(area.worker_a)) == [area.elder_a]

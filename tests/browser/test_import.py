"""A worker imports a register from a system CareNet has never seen: upload, map its columns, preview, import."""
import pytest

from carenet.core.models import ColumnMapping, ImportRun
from carenet.people.models import Resident
from tests import spreadsheets as fx
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_map_a_column_preview_and_import(area, live_server, browser_page, artifacts, tmp_path):
    page = browser_page
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "worker_a")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")

    page.goto(live_server.url + "/people/elders/import/")  # the elder list's Import button goes here
    page.wait_for_url("**/imports/people.elders/")
    filename, data = fx.new_source()
    upload = tmp_path / filename
    upload.write_bytes(data)
    page.set_input_files("[data-testid=import-file]", str(upload))
    page.click("[data-testid=import-upload]")

    # The file's columns are unknown: the mapping screen asks for the required ones.
    missing = page.locator("[data-testid=mapping-missing]")
    assert "姓名" in missing.inner_text() and "身份证号" in missing.inner_text()
    page.screenshot(path=str(artifacts / "import-mapping.png"), full_page=True)
    page.select_option("[data-testid='map-人员名称']", "name")
    page.select_option("[data-testid='map-证照号码']", "id_number")
    page.select_option("[data-testid='map-所在单元']", "division")
    page.click("[data-testid=mapping-save]")

    # The preview: rows as understood, IDs masked, nothing written yet.
    summary = page.locator("[data-testid=preview-summary]").inner_text()
    assert "2" in summary
    table = page.locator("[data-testid=preview-rows]").inner_text()
    first = fx.person(80)
    assert first["name"] in table and "甲社区" in table and first["id"] not in table and first["id"][:4] in table
    assert page.locator("[data-testid=preview-row] td").first.inner_text() == "2"  # the row number Excel shows
    assert not Resident.objects.filter(name=first["name"]).exists()
    page.screenshot(path=str(artifacts / "import-preview.png"), full_page=True)

    page.click("[data-testid=import-confirm]")
    # The import runs as a background job: the result page follows its progress (htmx polling) until it is done.
    page.wait_for_selector("[data-testid=import-progress][data-status=done]", timeout=60_000)
    result = page.locator("[data-testid=import-result]")
    assert "导入 2 行" in result.inner_text()
    page.screenshot(path=str(artifacts / "import-result.png"), full_page=True)
    assert set(Resident.objects.filter(name__startswith="测试").values_list("name", flat=True)) == {
        fx.person(80)["name"], fx.person(81)["name"]}
    assert ImportRun.objects.get().accepted == 2
    assert ColumnMapping.objects.get().mapping["证照号码"] == "id_number"


def test_a_register_with_bad_rows_imports_in_the_background_and_gives_back_the_reasons(
        area, live_server, browser_page, artifacts, tmp_path):
    """From the menu: the import page, a register with IDs typed as numbers, the job's result, the rejects file."""
    import io

    from openpyxl import load_workbook

    page = browser_page
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "worker_a")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    page.click("[data-testid=nav-system]")            # the System menu: import, audit log, users
    # 导入 is in the menu (under System, folded on narrower screens): follow its link
    page.goto(live_server.url + page.get_attribute("[data-testid=nav-imports]", "href"))
    page.click("[data-testid='importer-people.elders']")
    filename, data = fx.ids_as_numbers()
    upload = tmp_path / filename
    upload.write_bytes(data)
    page.set_input_files("[data-testid=import-file]", str(upload))
    page.click("[data-testid=import-upload]")
    assert "1" in page.locator("[data-testid=preview-summary]").inner_text()
    page.click("[data-testid=import-confirm]")
    page.wait_for_selector("[data-testid=import-progress][data-status=done]", timeout=60_000)
    assert "导入 1 行" in page.locator("[data-testid=import-result]").inner_text()
    page.screenshot(path=str(artifacts / "import-rejects.png"), full_page=True)
    with page.expect_download() as download:
        page.click("[data-testid=import-report]")
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("工作表", "行号", "错误原因") and len(rows) == 3
    assert all("身份证号被存成了数字" in r[2] for r in rows[1:])


def test_a_street_imports_its_facility_ledger_as_proposals(area, live_server, browser_page, artifacts, tmp_path):
    """The facility importer through the same pages: a street reviewer's ledger becomes proposals to approve."""
    from carenet.facilities.models import FacilityChange

    page = browser_page
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "reviewer1")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    # 导入 is in the menu (under System, folded on narrower screens): follow its link
    page.goto(live_server.url + page.get_attribute("[data-testid=nav-imports]", "href"))
    page.click("[data-testid='importer-facilities.registry']")
    filename, data = fx.facilities_register()
    upload = tmp_path / filename
    upload.write_bytes(data)
    page.set_input_files("[data-testid=import-file]", str(upload))
    page.click("[data-testid=import-upload]")
    table = page.locator("[data-testid=preview-rows]").inner_text()
    assert "甲社区养老服务站" in table and "护理型床位数（8）超过床位数（5）" in table
    assert "社区养老服务站" in table and "社区居家养老服务站" not in table  # a type shows by its usual name
    page.screenshot(path=str(artifacts / "import-facilities-preview.png"), full_page=True)
    page.click("[data-testid=import-confirm]")
    page.wait_for_selector("[data-testid=import-progress][data-status=done]", timeout=60_000)
    assert "导入 2 行" in page.locator("[data-testid=import-result]").inner_text()
    page.click("[data-testid=import-next]")  # to the proposals waiting for the district's approval
    page.wait_for_url("**/facilities/changes/")
    assert "甲社区养老服务站" in page.content()
    assert FacilityChange.objects.filter(state="pending").count() == 2

"""Open311 GeoReport v2 against the specification's own example requests (wiki.open311.org/GeoReport_v2).

The spec's examples use jurisdiction_id=city.gov, api_key=xyz, service 001 with attributes WHISPAWN and
WHISDORN, and service DMV66 with a singlevaluelist WHISHETN; the test sets those up and sends the example
requests as the spec writes them, then compares the answers with the spec's example responses field by field.
"""
import pytest

from carenet.civic import models as m
from carenet.civic import services
from carenet.core.models import Division

pytestmark = pytest.mark.django_db

# GET Service List: example response (JSON tab)
SPEC_SERVICE_KEYS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
# GET Service Definition: example response (JSON tab)
SPEC_DEFINITION = {"service_code": "DMV66", "attributes": [{
    "variable": True, "code": "WHISHETN", "datatype": "singlevaluelist", "required": True,
    "datatype_description": None, "order": 1, "description": "What is the ticket/tag/DL number?",
    "values": [{"key": "123", "name": "Ford"}, {"key": "124", "name": "Chrysler"}]}]}
# POST Service Request: example request body, verbatim
SPEC_POST = ("api_key=xyz&jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043"
             "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456"
             "&first_name=john&last_name=smith&phone=111111111&description=A+large+sinkhole+is+destroying+the+street"
             "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
             "&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001")
SPEC_POST_RESPONSE_KEYS = {"service_request_id", "service_notice", "account_id"}
# GET Service Requests: example response keys
SPEC_REQUEST_KEYS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                     "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                     "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}
FORM = "application/x-www-form-urlencoded; charset=utf-8"


@pytest.fixture
def city(db):
    city = Division.objects.create(code="city.gov", name="示例市", level=1)
    m.ServiceItem.objects.create(code="001", name="Cans left out 24x7", category="sanitation", department="市容",
                                 deadline_days=2, help_text="Garbage or recycling cans left out.", fields=[
                                     {"code": "WHISPAWN", "label": "Whispawn", "datatype": "string", "required": True,
                                      "values": [], "help": ""},
                                     {"code": "WHISDORN", "label": "Whisdorn", "datatype": "string", "required": False,
                                      "values": [], "help": ""}])
    m.ServiceItem.objects.create(code="DMV66", name="DMV", category="street", department="交通", deadline_days=5,
                                 fields=[{"code": "WHISHETN", "label": "What is the ticket/tag/DL number?",
                                          "datatype": "singlevaluelist", "required": True,
                                          "values": [{"key": "123", "name": "Ford"}, {"key": "124", "name": "Chrysler"}],
                                          "help": ""}])
    m.ApiClient.objects.create(name="12345热线", key_hash=services.key_hash("xyz"), division=city)
    return city


def test_service_list_and_definition(client, city):
    r = client.get("/open311/v2/services.json?jurisdiction_id=city.gov")
    assert r.status_code == 200 and r["Content-Type"] == "application/json; charset=utf-8"
    services_ = r.json()
    assert {s["service_code"] for s in services_} == {"001", "DMV66"}
    assert all(set(s) == SPEC_SERVICE_KEYS for s in services_)
    assert services_[0]["metadata"] is True and services_[0]["type"] == "realtime"
    d = client.get("/open311/v2/services/DMV66.json?jurisdiction_id=city.gov").json()
    expected = SPEC_DEFINITION["attributes"][0]
    got = d["attributes"][0]
    assert d["service_code"] == "DMV66" and set(got) == set(expected)
    assert {k: got[k] for k in ("variable", "code", "datatype", "required", "order")} == \
        {k: expected[k] for k in ("variable", "code", "datatype", "required", "order")}
    assert got["values"] == expected["values"]            # choices with a key and a different name, as in the spec
    xml = client.get("/open311/v2/services.xml?jurisdiction_id=city.gov")
    assert xml["Content-Type"] == "text/xml; charset=utf-8"
    assert xml.content.decode().startswith('<?xml version="1.0" encoding="utf-8"?>\n<services><service>')


def test_the_spec_example_post_then_status(client, city):
    r = client.post("/open311/v2/requests.json", SPEC_POST, content_type=FORM)
    assert r.status_code == 200, r.content
    body = r.json()
    # the spec answers with service_request_id or a token; we give both (a client may follow either)
    assert len(body) == 1 and set(body[0]) == SPEC_POST_RESPONSE_KEYS | {"token"} and body[0]["account_id"] == "123456"
    req = m.ServiceRequest.objects.get(pk=body[0]["service_request_id"])
    assert req.answers == {"WHISPAWN": "123456", "WHISDORN": "COISL001"} and req.channel == "open311"
    assert req.contact_name == "smith john" and req.lat == pytest.approx(37.76524078) and req.division == city
    assert req.description == "A large sinkhole is destroying the street" and req.address == "1234 5th street"
    # GET service_request_id from a token: the spec's example response is [{"service_request_id":…,"token":…}]
    token = body[0]["token"]
    t = client.get(f"/open311/v2/tokens/{token}.json?jurisdiction_id=city.gov")
    assert t.status_code == 200 and t.json() == [{"service_request_id": req.pk, "token": token}]
    assert client.get(f"/open311/v2/tokens/{token}.xml").content.decode().endswith(
        f"<service_requests><request><service_request_id>{req.pk}</service_request_id><token>{token}</token></request></service_requests>")
    assert client.get("/open311/v2/tokens/12345.json").status_code == 404      # a guessed token finds nothing
    assert client.get(f"/open311/v2/tokens/{req.pk}-forged.json").status_code == 404
    # the example's remote media_url is not fetched (no network at run time, no SSRF): no media is kept
    assert not req.attachments.exists()

    one = client.get(f"/open311/v2/requests/{req.pk}.json?jurisdiction_id=city.gov").json()
    assert len(one) == 1 and set(one[0]) == SPEC_REQUEST_KEYS
    assert one[0]["status"] == "open" and one[0]["service_code"] == "001"
    assert one[0]["requested_datetime"].endswith("+08:00") and one[0]["expected_datetime"]
    assert one[0]["address"] == city.name and one[0]["lat"] is None  # public read: no home address
    own = client.get(f"/open311/v2/requests/{req.pk}.json?api_key=xyz").json()[0]
    assert own["address"] == "1234 5th street" and own["long"] == pytest.approx(-122.4212043)

    # the spec's example query (2010) finds nothing; the same query for now finds the request
    old = client.get("/open311/v2/requests.json?start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z"
                     "&status=open&jurisdiction_id=city.gov")
    assert old.status_code == 200 and old.json() == []
    assert [x["service_request_id"] for x in client.get(
        "/open311/v2/requests.json?status=open&jurisdiction_id=city.gov").json()] == [req.pk]
    assert client.get("/open311/v2/requests.json?status=closed&jurisdiction_id=city.gov").json() == []

    # the department closes it: the status follows, with the reason as status_notes
    from tests.factories import UserFactory

    admin = UserFactory(role="district_admin", division=city)
    services.act_on_request(req, "route", user=admin)
    services.act_on_request(req, "refuse", user=admin, reason="Duplicate request.")
    closed = client.get(f"/open311/v2/requests.json?service_request_id={req.pk}").json()[0]
    assert closed["status"] == "closed" and closed["status_notes"].endswith("Duplicate request.")


@pytest.mark.parametrize("body,status,words", [
    (SPEC_POST.replace("api_key=xyz", "api_key=wrong"), 403, "api_key"),
    (SPEC_POST.replace("service_code=001", "service_code=999"), 404, "service_code 999"),
    (SPEC_POST.replace("service_code=001", "service_code="), 400, "service_code was not provided"),
    (SPEC_POST.replace("jurisdiction_id=city.gov", "jurisdiction_id=nowhere.gov"), 404, "jurisdiction_id"),
    (SPEC_POST.replace("&lat=37.76524078&long=-122.4212043", "").replace("&address_string=1234+5th+street", ""),
     400, "location"),
    (SPEC_POST.replace("&attribute[WHISPAWN]=123456", ""), 400, "attribute[WHISPAWN]"),
])
def test_errors_follow_the_spec(client, city, body, status, words):
    r = client.post("/open311/v2/requests.json", body, content_type=FORM)
    assert r.status_code == status
    err = r.json()
    assert err[0]["code"] == status and words in err[0]["description"]
    assert not m.ServiceRequest.objects.exists()


def test_unknown_things_answer_404_and_400(client, city):
    assert client.get("/open311/v2/services/NOPE.json").status_code == 404
    assert client.get("/open311/v2/requests/99999.json").status_code == 404
    assert client.get("/open311/v2/services.json?jurisdiction_id=nowhere").json()[0]["code"] == 404
    r = client.get("/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z")
    assert r.status_code == 400 and "90 days" in r.json()[0]["description"]
    assert client.get("/open311/v2/services.csv").status_code == 400
    assert client.get("/open311/discovery.json").json()["endpoints"][0]["specification"].endswith("GeoReport_v2")


def test_choice_keys_are_what_a_request_sends(client, city):
    body = SPEC_POST.replace("service_code=001", "service_code=DMV66").replace(
        "&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001", "&attribute[WHISHETN]=124")
    r = client.post("/open311/v2/requests.json", body, content_type=FORM)
    assert r.status_code == 200
    assert m.ServiceRequest.objects.get().answers == {"WHISHETN": "124"}
    bad = client.post("/open311/v2/requests.json", body.replace("WHISHETN]=124", "WHISHETN]=Chrysler"), content_type=FORM)
    assert bad.status_code == 400                                  # the name is not the key


def test_media_uploaded_is_stored_and_served_from_media_url(client, city, settings, tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.VAR_DIR = tmp_path
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buf, "PNG")
    fields = dict(x.split("=", 1) for x in SPEC_POST.replace("+", " ").split("&"))
    from urllib.parse import unquote
    fields = {unquote(k): unquote(v) for k, v in fields.items()}
    fields["media"] = SimpleUploadedFile("hole.png", buf.getvalue(), content_type="image/png")
    r = client.post("/open311/v2/requests.json", fields)
    assert r.status_code == 200, r.content
    pk = r.json()[0]["service_request_id"]
    own = client.get(f"/open311/v2/requests/{pk}.json?api_key=xyz").json()[0]
    assert own["media_url"] and "/open311/v2/media/" in own["media_url"]
    photo = client.get(own["media_url"].replace("http://testserver", ""))
    assert photo.status_code == 200 and b"".join(photo.streaming_content).startswith(b"\x89PNG")
    public = client.get(f"/open311/v2/requests/{pk}.json").json()[0]
    assert public["media_url"] is None                             # documents are personal: only the sender
    assert client.get("/open311/v2/media/1-forged").status_code == 404

"""Django pages and API of the policy app, over the small test index."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from carenet.core.models import AuditLog, User
from carenet.core.roles import Role
from carenet.policy import runtime
from carenet.policy.models import QAPair

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_index(settings, small_index):
    settings.POLICY_INDEX_DIR = str(small_index["dir"])
    runtime.reset()
    yield
    runtime.reset()


@pytest.fixture
def without_index(settings, tmp_path):
    settings.POLICY_INDEX_DIR = str(tmp_path / "missing")
    runtime.reset()
    yield
    runtime.reset()


def make_user(role, name=None):
    return User.objects.create_user(username=name or f"u_{role}", password="pw-123456", role=role)


def test_starter_set_is_loaded_by_migration():
    assert QAPair.objects.filter(status=QAPair.Status.PUBLISHED).count() >= 200
    assert QAPair.objects.exclude(starter_id="").count() >= 200


def test_load_policy_qa_is_idempotent(capsys):
    before = QAPair.objects.count()
    call_command("load_policy_qa")
    assert QAPair.objects.count() == before
    assert "created 0" in capsys.readouterr().out


def test_public_page_without_index_says_what_to_do(client, without_index):
    r = client.get("/policy/?q=低保")
    assert r.status_code == 200
    assert 'data-testid="index-missing"' in r.content.decode() and "系统管理员" in r.content.decode()


def test_public_page_answers_first_without_login(client, with_index):
    r = client.get("/policy/", {"q": "申请低保要到哪里去办"})
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-testid="answer"' in html
    assert html.index('data-testid="answer"') < html.index('data-testid="hit"')
    assert "社会救助暂行办法" in html and "<mark>" in html


def test_public_page_falls_back_to_articles(client, with_index):
    html = client.get("/policy/", {"q": "特种设备的安全监察由哪个部门负责"}).content.decode()
    # no curated answer, but the card quotes the sentence that says who is responsible (issue 17)
    assert 'data-testid="curated-answer"' not in html
    assert 'data-testid="answer-lead"' in html and "安全监督管理部门" in html
    assert 'data-testid="hit"' in html


def test_staff_page_says_how_far_the_dense_stage_is(client, with_index, django_user_model):
    user = django_user_model.objects.create_user(username="dense_staff", password="pw-123456")
    client.force_login(user)
    html = client.get("/policy/staff/", {"q": "低保"}).content.decode()
    assert 'data-testid="dense-status"' in html
    assert "语义检索" in html


def test_public_page_escapes_query(client, with_index):
    html = client.get("/policy/", {"q": "<script>alert(1)</script>低保"}).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_public_page_shows_examples_when_empty(client, with_index):
    html = client.get("/policy/").content.decode()
    assert 'name="q"' in html and "?q=" in html


def test_staff_search_requires_login(client, with_index):
    r = client.get("/policy/staff/?q=低保")
    assert r.status_code == 302 and "login" in r["Location"]


def test_staff_search_with_filters(client, with_index):
    client.force_login(make_user(Role.WORKER))
    html = client.get("/policy/staff/", {"q": "老年人权益保障", "level": "local", "region": "上海"}).content.decode()
    assert 'data-testid="hit"' in html
    hits = html[html.index('data-testid="hit"'):]  # the article list, after any curated answer
    assert "上海市老年人权益保障条例" in hits
    assert "中华人民共和国老年人权益保障法》" not in hits
    html = client.get("/policy/staff/", {"q": "老年人权益保障", "level": "national"}).content.decode()
    hits = html[html.index('data-testid="hit"'):]
    assert "中华人民共和国老年人权益保障法" in hits and "上海市老年人权益保障条例" not in hits


def test_article_page_and_related(client, with_index):
    from carenet.policy.runtime import get_searcher

    hit = get_searcher().find_article("社会救助暂行办法", "第十一条")
    html = client.get(f"/policy/article/{hit.article_id}/", {"q": "低保"}).content.decode()
    assert "书面申请" in html and "第十二条" in html
    assert client.get("/policy/article/nope-1/").status_code == 404


def test_api_search(client, with_index):
    r = client.get("/policy/api/search", {"q": "临时救助怎么申请", "k": 3})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    data = json.loads(r.content)
    assert len(data["hits"]) == 3
    first = data["hits"][0]
    assert {"law_title", "article_label", "snippet_html", "version_date", "url"} <= set(first)
    assert client.get("/policy/api/search").status_code == 400
    local = json.loads(client.get("/policy/api/search", {"q": "老年人", "level": "local"}).content)
    assert local["hits"] and all(h["level"] == "local" for h in local["hits"])


def test_api_without_index(client, without_index):
    assert client.get("/policy/api/search", {"q": "低保"}).status_code == 503


def test_qa_editor_roles_and_publishing(client, with_index):
    worker, approver, operator = make_user(Role.WORKER), make_user(Role.APPROVER), make_user(Role.OPERATOR)
    client.force_login(operator)
    assert client.get("/policy/qa/").status_code == 403

    client.force_login(worker)
    assert client.get("/policy/qa/").status_code == 200
    bad = client.post("/policy/qa/new/", {"question": "问", "answer": "答复内容写在这里。",
                                           "citations": "《社会救助暂行办法》第九百条"})
    assert bad.status_code == 200 and "field-error" in bad.content.decode()
    ok = client.post("/policy/qa/new/", {"question": "家里遭了火灾可以申请什么帮助", "topic": "assistance",
                                          "answer": "可以申请临时救助。",
                                          "citations": "《社会救助暂行办法》第四十七条"})
    assert ok.status_code == 302
    pair = QAPair.objects.get(question="家里遭了火灾可以申请什么帮助")
    assert pair.status == QAPair.Status.DRAFT and pair.created_by == worker
    assert pair.citations == [{"law": "社会救助暂行办法", "article": "第四十七条"}]
    assert client.post(f"/policy/qa/{pair.pk}/publish/", {"publish": "1"}).status_code == 403

    client.force_login(approver)
    r = client.post(f"/policy/qa/{pair.pk}/publish/", {"publish": "1", "next": "https://evil.example/"})
    assert r.status_code == 302 and "evil" not in r["Location"]
    pair.refresh_from_db()
    assert pair.status == QAPair.Status.PUBLISHED and pair.published_at
    assert AuditLog.objects.filter(model="policy.qapair", object_id=str(pair.pk)).count() >= 2

    # the published answer is now what the public page shows for that question
    html = client.get("/policy/", {"q": "家里遭了火灾可以申请什么帮助"}).content.decode()
    assert "可以申请临时救助。" in html

    # a worker may no longer edit the published answer
    client.force_login(worker)
    assert client.get(f"/policy/qa/{pair.pk}/edit/").status_code == 403


def test_pages_are_translated(client, with_index):
    html = client.get("/policy/").content.decode()
    assert "政策咨询" in html and "Ask about policy" not in html
    client.cookies["django_language"] = "en"
    html = client.get("/policy/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Ask about policy" in html


def test_build_policy_index_command(tmp_path, settings):
    import gzip

    corpus = tmp_path / "laws.jsonl.gz"
    docs = [
        {"path": "行政法规/甲条例(2020-01-01).md", "category": "行政法规", "title": "甲条例", "version_date": "2020-01-01",
         "text": "# 甲条例\n\n<!-- INFO END -->\n\n## 第一章 总则\n\n第一条 为了保障老年人权益，制定本条例。\n\n第二条 低保由乡镇人民政府受理。"},
        {"path": "行政法规/甲条例(2010-01-01).md", "category": "行政法规", "title": "甲条例", "version_date": "2010-01-01",
         "text": "# 甲条例\n\n<!-- INFO END -->\n\n第一条 旧的条文。"},
    ]
    with gzip.open(corpus, "wt", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    out = tmp_path / "idx"
    from io import StringIO

    buf = StringIO()
    call_command("build_policy_index", corpus=str(corpus), out=str(out), workers=1, stdout=buf)
    text = buf.getvalue()
    assert "tokenize" in text and "100%" in text and "indexed 3 articles from 2 laws (1 superseded" in text
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["articles"] == 3 and meta["superseded_laws"] == 1


@pytest.mark.django_db
def test_warm_up_loads_everything_the_first_question_needs(with_index):
    from carenet.policy import runtime
    from carenet.policy.apps import PolicyConfig

    assert not runtime._cache
    timings = runtime.start_warm_up()
    timings.join(timeout=300)
    assert runtime._cache  # the searcher is loaded before any request
    assert {"index_s", "search_s", "matcher_s"} <= set(runtime._warm)
    assert PolicyConfig.name == "carenet.policy"

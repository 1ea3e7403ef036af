import re

import pytest

from walkthrough.models import WalkthroughPaperTrade, WalkthroughProgress
from walkthrough.tests.conftest import IC_LEGS, PERSONA, client_for
from walkthrough.tokens import token_hash


@pytest.fixture
def walked(invite, cell):
    cell(False, True)
    rows = []
    for i, intent in enumerate(["income", "covered_call", "directional"]):
        progress, token = invite(f"t{i}@example.test")
        c = client_for(token)
        c.post("/api/walkthrough/screen/1", {"answers": PERSONA, "intent_bucket": intent}, format="json")
        if intent == "income":
            c.post("/api/walkthrough/screen/2", {}, format="json")
            c.post("/api/walkthrough/screen/3", {"legs": IC_LEGS}, format="json")
        rows.append(progress)
    invite("idle@example.test")
    return rows


def test_every_admin_page_renders(admin_client, walked):
    progress = walked[0]
    trade = WalkthroughPaperTrade.objects.get()
    urls = ["/admin/walkthrough/", "/admin/walkthrough/walkthroughprogress/",
            f"/admin/walkthrough/walkthroughprogress/{progress.pk}/change/",
            "/admin/walkthrough/walkthroughprogress/invite/", "/admin/walkthrough/walkthroughprogress/funnel/",
            f"/admin/walkthrough/walkthroughprogress/funnel/?program={progress.program_id}",
            "/admin/walkthrough/walkthroughprogress/funnel/?program=abc",
            "/admin/walkthrough/walkthroughprogram/", f"/admin/walkthrough/walkthroughprogram/{progress.program_id}/change/",
            "/admin/walkthrough/walkthroughprogram/add/",
            "/admin/walkthrough/walkthroughpapertrade/", f"/admin/walkthrough/walkthroughpapertrade/{trade.pk}/change/"]
    for query in ["track_selected__exact=full", "intent_bucket__exact=income", "furthest=3", "furthest=0",
                  "completed=yes", "completed=no", f"program__id__exact={progress.program_id}",
                  "flag_cell=ss_off/pr_on", "q=t1@", "furthest=abc", "completed=maybe"]:
        urls.append(f"/admin/walkthrough/walkthroughprogress/?{query}")
    for url in urls:
        r = admin_client.get(url)
        assert r.status_code == 200, url


def test_progress_filters_narrow_the_list(admin_client, walked):
    body = admin_client.get("/admin/walkthrough/walkthroughprogress/?intent_bucket__exact=covered_call").content.decode()
    assert "t1@example.test" in body and "t0@example.test" not in body
    body = admin_client.get("/admin/walkthrough/walkthroughprogress/?furthest=3").content.decode()
    assert "t0@example.test" in body and "t1@example.test" not in body


def test_token_hash_is_never_shown(admin_client, walked):
    progress = WalkthroughProgress.objects.get(pk=walked[0].pk)
    for url in ["/admin/walkthrough/walkthroughprogress/", f"/admin/walkthrough/walkthroughprogress/{progress.pk}/change/"]:
        body = admin_client.get(url).content.decode()
        assert progress.token_hash not in body and "token_hash" not in body


def test_admin_invite_shows_the_token_once_and_stores_only_its_hash(admin_client, db):
    r = admin_client.post("/admin/walkthrough/walkthroughprogress/invite/",
                          {"email": "New.Tester@example.test", "program": "cohort-admin", "ends_on": "2030-01-31"})
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    token = re.search(r'id="walkthrough-token"[^>]*>([^<]+)<', r.content.decode()).group(1)
    row = WalkthroughProgress.objects.get(tester_email="new.tester@example.test")
    assert row.token_hash == token_hash(token) and str(row.program.ends_on) == "2030-01-31"
    assert client_for(token).get("/api/walkthrough/status").status_code == 200
    assert token not in admin_client.get("/admin/walkthrough/walkthroughprogress/").content.decode()
    assert token not in admin_client.get(f"/admin/walkthrough/walkthroughprogress/{row.pk}/change/").content.decode()


def test_admin_invite_rejects_a_bad_email(admin_client, db):
    r = admin_client.post("/admin/walkthrough/walkthroughprogress/invite/", {"email": "nope", "program": "p"})
    assert r.status_code == 200 and not WalkthroughProgress.objects.exists()
    assert 'id="walkthrough-token"' not in r.content.decode()


def test_funnel_draws_bars_by_intent_and_by_flag_cell(admin_client, walked):
    body = admin_client.get("/admin/walkthrough/walkthroughprogress/funnel/").content.decode()
    assert "By intent bucket" in body and "By flag cell" in body
    assert body.count('class="wt-bar"') == 5 * (4 + 2)  # 4 intent groups (incl. none) + 2 cells, 5 screens each
    assert "ss_off/pr_on" in body and "covered_call" in body


def test_funnel_counts(walked):
    from walkthrough.selectors import funnel

    data = funnel()
    income = next(g for g in data["by_intent"] if g["group"] == "income")
    assert [s["count"] for s in income["screens"]] == [1, 1, 1, 0, 0]
    cell = next(g for g in data["by_flag_cell"] if g["group"] == "ss_off/pr_on")
    assert cell["invited"] == 3 and [s["count"] for s in cell["screens"]] == [3, 1, 1, 0, 0]


def test_funnel_costs_a_fixed_number_of_queries(walked, invite, django_assert_max_num_queries):
    from walkthrough.selectors import funnel

    with django_assert_max_num_queries(2):
        funnel()
    for i in range(30):
        invite(f"many{i}@example.test")
    with django_assert_max_num_queries(2):
        funnel()


def test_funnel_is_explained_in_plain_words_and_links_to_the_testers(admin_client, walked):
    body = admin_client.get("/admin/walkthrough/walkthroughprogress/funnel/").content.decode()
    assert 'id="funnel-explained"' in body and "where testers stopped" in body
    assert "/admin/walkthrough/walkthroughprogress/?" in body and "screen_completed_max__gte=3" in body
    assert "onchange=" not in body  # no inline script
    import re
    link = re.search(r'href="(/admin/walkthrough/walkthroughprogress/\?[^"]*screen_completed_max__gte=1)"', body)
    assert admin_client.get(link.group(1).replace("&amp;", "&")).status_code == 200

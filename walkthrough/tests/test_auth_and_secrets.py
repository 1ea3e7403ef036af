"""Walkthrough tokens: HMAC-signed, hash-only at rest, never echoed or logged."""

import io
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from conftest import token_for
from walkthrough.models import WalkthroughProgress
from walkthrough.tests.conftest import IC_LEGS, PERSONA, SURVEY, client_for
from walkthrough.tokens import new_token, signature_ok, token_hash

ROUTES = [("get", "screen/1"), ("post", "screen/1"), ("post", "screen/1/intent"), ("get", "screen/simple/1"),
          ("post", "screen/simple/1"), ("get", "screen/2"), ("post", "screen/2"), ("get", "screen/3"),
          ("post", "screen/3"), ("get", "screen/4"), ("post", "screen/4"), ("get", "screen/5"),
          ("post", "screen/5"), ("get", "status")]


def _call(client, method, route):
    return getattr(client, method)(f"/api/walkthrough/{route}", *([{}] if method == "post" else []), format="json")


@pytest.mark.parametrize("method,route", ROUTES)
def test_every_route_refuses_a_missing_or_bad_token_with_401(db, flags, method, route, customer, invite):
    flags.on("FLAG_BETA_WALKTHROUGH_SELF_SELECT")
    flags.on("FLAG_WALKTHROUGH_PERSONA_ROUTING")
    _, good = invite()
    from rest_framework.test import APIClient

    forged = good.rsplit(".", 1)[0] + ".AAAA" + good.rsplit(".", 1)[1][4:]
    unknown = new_token()  # well signed, never issued
    headers = [None, "Bearer", f"Token {good}", "Bearer not-a-token", f"Bearer {forged}", f"Bearer {unknown}",
               f"Bearer {token_for(customer)}", "Bearer wt1.é.x"]
    for header in headers:
        client = APIClient()
        if header:
            client.credentials(HTTP_AUTHORIZATION=header)
        r = _call(client, method, route)
        assert r.status_code == 401, (header, r.content)
        assert r.json() == {"error": "invalid_token"}


def test_customer_jwt_is_not_a_walkthrough_token(api):
    assert api.get("/api/walkthrough/status").status_code == 401


def test_signature_is_checked_before_any_lookup(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert not signature_ok(new_token()[:-2] + "xx")
        assert signature_ok(new_token())


def test_expired_token_is_401(invite, program):
    progress, token = invite()
    assert client_for(token).get("/api/walkthrough/status").status_code == 200
    program.starts_on = timezone.now().date() - timedelta(days=90)
    program.ends_on = timezone.now().date() - timedelta(days=1)
    program.save()
    r = client_for(token).get("/api/walkthrough/status")
    assert r.status_code == 401 and r.json() == {"error": "invalid_token"}


def test_reinvite_revokes_the_old_token_and_keeps_progress(invite):
    progress, old = invite()
    client_for(old).post("/api/walkthrough/screen/1", {"answers": PERSONA}, format="json")
    again, new = invite()
    assert again.pk == progress.pk and new != old
    assert client_for(old).get("/api/walkthrough/status").status_code == 401
    assert client_for(new).get("/api/walkthrough/status").json()["screen_completed_max"] == 1


def test_another_testers_token_sees_only_their_own_row(invite, cell):
    cell(False, False)
    mine, my_token = invite("me@example.test")
    theirs, their_token = invite("them@example.test")
    client_for(my_token).post("/api/walkthrough/screen/1", {"answers": PERSONA}, format="json")
    assert client_for(their_token).get("/api/walkthrough/status").json()["screen_completed_max"] == 0
    r = client_for(their_token).post("/api/walkthrough/screen/2", {}, format="json")
    assert r.status_code == 409
    assert WalkthroughProgress.objects.get(pk=theirs.pk).screen_completed_max == 0


def _every_text_in_the_database() -> str:
    chunks = []
    with connection.cursor() as cur:
        for table in connection.introspection.table_names():
            cur.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.extend(repr(row) for row in cur.fetchall())
    return "\n".join(chunks)


def test_raw_token_is_in_no_table_response_or_log_line(db, cell, caplog):
    cell(True, True)
    out = io.StringIO()
    with caplog.at_level(logging.DEBUG):
        call_command("walkthrough_invite", "secret-keeper@example.test", "--program", "cohort-x", stdout=out)
        token = out.getvalue().strip().splitlines()[-1]
        c = client_for(token)
        bodies = []
        for method, route, body in [("post", "screen/1", {"track": "full"}),
                                    ("post", "screen/1/intent", {"intent_bucket": "income"}),
                                    ("get", "screen/2", None), ("post", "screen/2", {}), ("get", "screen/3", None),
                                    ("post", "screen/3", {"legs": IC_LEGS[:2]}), ("post", "screen/3", {"legs": IC_LEGS}),
                                    ("post", "screen/4", {}), ("post", "screen/5", {"answers": SURVEY}),
                                    ("get", "status", None), ("get", "screen/simple/1", None)]:
            r = getattr(c, method)(f"/api/walkthrough/{route}", *([body] if body is not None else []), format="json")
            bodies.append(r.content.decode() + repr(dict(r.items())))
    row = WalkthroughProgress.objects.get(tester_email="secret-keeper@example.test")
    assert row.token_hash == token_hash(token) and len(row.token_hash) == 64
    assert token not in _every_text_in_the_database()
    assert not any(token in b for b in bodies)
    assert not any(token in record.getMessage() for record in caplog.records)
    assert out.getvalue().count(token) == 1  # printed once, by the invite command only

"""Design §3.Q2: intent_bucket is indexed (walkthrough/migrations/0003_intent_bucket_index.py)."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_intent_bucket_has_an_index_on_every_database():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "beta_walkthrough_progress")
    assert any(c["index"] and c["columns"] == ["intent_bucket"] for c in constraints.values()), constraints

import pytest

from conftest import concurrently
from raxx.tests.openapi_check import contract
from walkthrough.models import WalkthroughPaperTrade, WalkthroughProgress, WalkthroughResponse
from walkthrough.tests.conftest import IC_LEGS, SURVEY, client_for


@pytest.fixture(autouse=True)
def _schema_built_before_the_threads():
    """Every test response is checked against the generated schema, built on first use; drf-spectacular's
    lazy extension loading is not thread-safe, so four threads building it at once fail at random."""
    contract()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_double_click_on_screen_3_writes_one_paper_trade(invite):
    progress, token = invite()
    WalkthroughProgress.objects.filter(pk=progress.pk).update(screen_completed_max=2)
    statuses = concurrently(
        lambda: client_for(token).post("/api/walkthrough/screen/3", {"legs": IC_LEGS}, format="json").status_code, 4)
    assert sorted(statuses) == [200, 200, 200, 201]
    assert WalkthroughPaperTrade.objects.count() == 1
    assert WalkthroughProgress.objects.get(pk=progress.pk).screen_completed_max == 3


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_double_submit_of_the_survey_keeps_one_response_and_one_completion(invite):
    progress, token = invite()
    WalkthroughProgress.objects.filter(pk=progress.pk).update(screen_completed_max=4)
    surveys = [{"answers": {**SURVEY, "structure_clear": n}} for n in (1, 2, 3, 4)]
    bodies = concurrently(lambda body: client_for(token).post("/api/walkthrough/screen/5", body, format="json"), 4,
                          args=[(s,) for s in surveys])
    assert [b.status_code for b in bodies] == [200] * 4
    stamps = {b.json()["progress"]["completed_at"] for b in bodies}
    row = WalkthroughProgress.objects.get(pk=progress.pk)
    assert len(stamps) == 1 and row.completed_at is not None and row.screen_completed_max == 5
    assert WalkthroughResponse.objects.count() == 1
    assert WalkthroughResponse.objects.get().answers in [s["answers"] for s in surveys]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_tabs_posting_screen_2_together_keep_the_first_answers(invite):
    progress, token = invite()
    WalkthroughProgress.objects.filter(pk=progress.pk).update(screen_completed_max=1)
    answers = [{"tab": str(n)} for n in range(4)]
    bodies = concurrently(
        lambda a: client_for(token).post("/api/walkthrough/screen/2", {"answers": a}, format="json"), 4,
        args=[(a,) for a in answers])
    assert [b.status_code for b in bodies] == [200] * 4
    row = WalkthroughProgress.objects.get(pk=progress.pk)
    assert row.screen_completed_max == 2 and row.scenario_answers in answers
    assert {b.json()["progress"]["screen_completed_max"] for b in bodies} == {2}

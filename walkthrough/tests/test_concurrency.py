import pytest

from conftest import concurrently
from walkthrough.models import WalkthroughPaperTrade, WalkthroughProgress
from walkthrough.tests.conftest import IC_LEGS, client_for


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

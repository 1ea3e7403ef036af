import threading

import pytest
from django.db import connection

from walkthrough.models import WalkthroughPaperTrade, WalkthroughProgress
from walkthrough.tests.conftest import IC_LEGS, client_for


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_double_click_on_screen_3_writes_one_paper_trade(invite):
    progress, token = invite()
    WalkthroughProgress.objects.filter(pk=progress.pk).update(screen_completed_max=2)
    barrier = threading.Barrier(4)
    statuses = []

    def click():
        try:
            barrier.wait()
            statuses.append(client_for(token).post("/api/walkthrough/screen/3", {"legs": IC_LEGS},
                                                   format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 200, 200, 201]
    assert WalkthroughPaperTrade.objects.count() == 1
    assert WalkthroughProgress.objects.get(pk=progress.pk).screen_completed_max == 3

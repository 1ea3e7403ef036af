"""Bench-only URLconf for ``make bench-load``: every real route plus the plain-view baseline and the
sentiment filter's floor."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import JsonResponse
from django.urls import path

from bench.platform_urls import plain_view
from raxx.urls import urlpatterns as api_urlpatterns

PAGE_COLUMNS = ("trade_id", "symbol", "side", "quantity", "entry_price", "exit_price", "strategy_type", "opened_at",
                "closed_at", "realized_pnl", "pre_label", "post_label", "journal_note_present")


def filter_floor_view(request, customer_id):
    """The sentiment filter's floor: a plain Django view (no authentication, no DRF, no flags, no
    validation) running the in-process bench's raw SQL for ``pre_label=Bullish`` (the stats grouped
    by "matches", then the page of 100) and answering the rows as JSON."""
    from bench.bench_journal import RAW_PAGE, RAW_STATS

    with connection.cursor() as cursor:
        cursor.execute(RAW_STATS, [customer_id, customer_id])
        groups = cursor.fetchall()
        cursor.execute(RAW_PAGE, [customer_id] * 4)
        page = cursor.fetchall()
    return JsonResponse({"groups": [list(g) for g in groups],
                         "trades": [dict(zip(PAGE_COLUMNS, row, strict=True)) for row in page]},
                        encoder=DjangoJSONEncoder)


urlpatterns = [path("bench/plain", plain_view), path("bench/filter-floor/<uuid:customer_id>", filter_floor_view),
               *api_urlpatterns]

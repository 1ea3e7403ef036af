"""Bench-only URLconf for ``make bench-load``: every real route plus the plain-view baseline, the
authenticated request's floor (the plain view plus its one Redis round trip) and the sentiment filter's
floor."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import JsonResponse
from django.urls import path

from bench.platform_urls import floor_round_trip, plain_round_trip_view, plain_view
from raxx.sql import without_nested_loops
from raxx.urls import urlpatterns as api_urlpatterns

PAGE_COLUMNS = ("trade_id", "symbol", "side", "quantity", "entry_price", "exit_price", "strategy_type", "opened_at",
                "closed_at", "realized_pnl", "pre_label", "post_label", "journal_note_present")


def filter_floor_view(request, customer_id):
    """The sentiment filter's floor: a plain Django view (no authentication, no DRF, no flags, no
    validation) making the request's one Redis round trip and sending the in-process bench's raw SQL
    for ``pre_label=Bullish`` (the stats grouped by "matches", planned without nested loops as the
    route plans them, then the page of 100) as one query, as the route does; the rows as JSON."""
    from bench.bench_journal import RAW_PAGE, RAW_STATS

    floor_round_trip()
    with connection.cursor() as cursor:
        cursor.execute(f"{without_nested_loops(RAW_STATS)}; {RAW_PAGE}", [customer_id] * 6)
        cursor.nextset()  # past the SET
        groups = cursor.fetchall()
        cursor.nextset()  # past the RESET, to the page
        cursor.nextset()
        page = cursor.fetchall()
    return JsonResponse({"groups": [list(g) for g in groups],
                         "trades": [dict(zip(PAGE_COLUMNS, row, strict=True)) for row in page]},
                        encoder=DjangoJSONEncoder)


urlpatterns = [path("bench/plain", plain_view), path("bench/plain-round-trip", plain_round_trip_view),
               path("bench/filter-floor/<uuid:customer_id>", filter_floor_view), *api_urlpatterns]

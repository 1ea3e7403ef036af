"""Bench-only URLconf: every real route plus ``bench/floor``, a route's floor (never in production URLs).

The floor is a plain Django view doing only what a route's design cannot skip: the route's own
SQL (the bench's raw-SQL baseline), the one Redis round trip every request makes (the same
commands: ``bench.platform_urls.floor_round_trip``), and the route's JSON answer. No DRF, no
authentication, no flag logic. A bench sets ``FLOOR`` before measuring it.
"""

import json

from django.http import JsonResponse
from django.urls import path

from bench.platform_urls import CUSTOMER_KEYS, floor_round_trip
from raxx.urls import urlpatterns as api_urlpatterns

FLOOR: dict = {"sql": lambda: None, "body": {}, "keys": CUSTOMER_KEYS, "counted": True}


def floor_view(request):
    floor_round_trip(FLOOR["keys"], counted=FLOOR["counted"])
    if request.body:
        json.loads(request.body)
    FLOOR["sql"]()
    return JsonResponse(FLOOR["body"], status=FLOOR.get("status", 200))


urlpatterns = [path("bench/floor", floor_view), *api_urlpatterns]

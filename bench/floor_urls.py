"""Bench-only URLconf: every real route plus ``bench/floor``, a route's floor (never in production URLs).

The floor is a plain Django view doing only what a route's design cannot skip: the route's own
SQL (the bench's raw-SQL baseline), the one Redis round trip every request makes (an MGET, as
flags and cached rows are read), and the route's JSON answer. No DRF, no authentication, no
flag logic. A bench sets ``FLOOR`` before measuring it.
"""

import json

from django.http import JsonResponse
from django.urls import path

from raxx.urls import urlpatterns as api_urlpatterns

FLOOR: dict = {"sql": lambda: None, "body": {}, "keys": 8}


def floor_view(request):
    from django.core.cache import cache

    from raxx.redis_io import round_trip

    if getattr(cache, "client", None) is not None:  # Redis (make bench's REDIS_URL); a memory cache has no trip
        round_trip(cache.client.get_client(write=True),
                   [("MGET", *(cache.make_key(f"bench:floor:{n}") for n in range(FLOOR["keys"])))])
    if request.body:
        json.loads(request.body)
    FLOOR["sql"]()
    return JsonResponse(FLOOR["body"], status=FLOOR.get("status", 200))


urlpatterns = [path("bench/floor", floor_view), *api_urlpatterns]

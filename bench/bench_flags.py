"""Flag checks per request: every registered flag comes from the request's one cache read.

Same process, same run, interleaved rounds: the authenticated no-op request of
``bench_platform`` with 0, 1, 2 and all 5 registered flags checked (an ON flag,
and OFF flags whose ``everyone`` is NULL, which waffle evaluates further). With
flags/cache.py's batch the flags ride in the MGET that reads the customer's row
(raxx/request_cache.py), so a check adds Python work, never a round trip. Run it
with REDIS_URL set to measure the real round trip.
"""

from bench import harness

TITLE = "flags: cost of flag checks in one authenticated request (0, 1, 2, 5 flags)"


def _urls(sets):
    from django.http import JsonResponse
    from django.urls import path
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from flags.registry import flag_is_on

    class Checks(APIView):
        names: tuple[str, ...] = ()

        def get(self, request):
            return Response({name: flag_is_on(request, name) for name in self.names})

    return [path(f"bench/flags/{len(names)}", Checks.as_view(names=names)) for names in sets] + [
        path("bench/plain", lambda request: JsonResponse({"ok": True}))]


def run() -> list[dict]:
    import sys
    import types

    from django.test import Client, override_settings
    from waffle.models import Flag

    from flags.registry import FLAGS
    from raxx.models import Customer
    from raxx.tokens import issue_dev_token

    Flag.objects.filter(name="FLAG_WCB_ENABLED").update(everyone=True)
    customer = Customer.objects.create(id="11111111-1111-4111-8111-111111111111", email="bench@example.test")
    token = issue_dev_token(sub=customer.id, tier="pro_plus", ttl_seconds=3600)
    client, auth = Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    names = ["FLAG_WCB_ENABLED", *(n for n in FLAGS if n != "FLAG_WCB_ENABLED")]
    sets = [tuple(names[:n]) for n in (0, 1, 2, len(names))]
    module = types.ModuleType("bench_flags_urls")
    module.urlpatterns = _urls(sets)
    sys.modules[module.__name__] = module
    cases = [("plain Django JsonResponse view (baseline)", lambda: client.get("/bench/plain"))] + [
        (f"JWT + {len(s)} flag check(s)", lambda s=s: client.get(f"/bench/flags/{len(s)}", **auth)) for s in sets]
    best: dict[str, dict] = {}
    with override_settings(ROOT_URLCONF=module.__name__, DEBUG=False):
        for _, fn in cases:
            assert fn().status_code == 200
        for _ in range(5):
            for name, fn in cases:
                timing = harness.measure(fn, repeat=200, warmup=20)
                if name not in best or timing["median_us"] < best[name]["median_us"]:
                    best[name] = timing
        base = best[cases[0][0]]["median_us"]
        no_flags = best[cases[1][0]]["median_us"]
        return [{"case": name, "median_us": best[name]["median_us"], "p95_us": best[name]["p95_us"],
                 "queries": harness.count_queries(fn), "added_us": best[name]["median_us"] - no_flags if i else "",
                 "ratio": best[name]["median_us"] / base} for i, (name, fn) in enumerate(cases)]


def summary(rows: list[dict]) -> list[dict]:
    none, every = rows[1], rows[-1]
    return [harness.goal("flags: all 5 registered flags checked in one request",
                         f"+{every['median_us'] - none['median_us']:,.0f} µs, {every['queries']} queries",
                         f"same request, no flag checked {none['median_us']:,.0f} µs",
                         every["median_us"] / none["median_us"], "no round trip per flag", every["queries"] == 0)]

if __name__ == "__main__":
    harness.main(TITLE, run)

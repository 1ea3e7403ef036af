"""Issue 11 defect 4: a flag change is never silently stale (flags/cache.py).

A process that cannot reach the flag cache cannot change a flag (command exits 1,
admin shows an error, code raises; nothing is written), and a reader that read the
old row while a change committed never serves it from the cache afterwards."""

import io
import socket
import time

import pytest
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.test import override_settings
from waffle.models import Flag

from flags.cache import GENERATION_KEY, FlagCacheUnreachable, flag_cache, invalidate
from raxx.models import AuditEvent
from raxx.tests.helpers import PROBE_URLS, redis_writes

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unreachable_redis_caches() -> dict:
    """The production cache settings, with Redis on a port nobody listens on."""
    return {
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{closed_port()}/6",
                    "KEY_PREFIX": "raxx-test",
                    "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}},
        "flags": {"BACKEND": "flags.cache.GenerationCache", "LOCATION": "default"},
    }


def everyone(name: str):
    return Flag.objects.get(name=name).everyone


def test_code_change_with_the_cache_unreachable_raises_and_writes_nothing():
    flag = Flag.objects.get(name="FLAG_WCB_ENABLED")
    with override_settings(CACHES=unreachable_redis_caches()):
        flag.everyone = True
        with pytest.raises(FlagCacheUnreachable, match="did not confirm the invalidation"):
            flag.save()
    assert everyone("FLAG_WCB_ENABLED") is None
    assert not AuditEvent.objects.filter(event_type="flag_changed").exists()


def test_waffle_flag_with_the_cache_unreachable_is_refused_and_writes_nothing():
    with override_settings(CACHES=unreachable_redis_caches()):
        with pytest.raises(CommandError, match="Refused, nothing was changed"):
            call_command("waffle_flag", "FLAG_WCB_ENABLED", "--everyone", stdout=io.StringIO())
    assert everyone("FLAG_WCB_ENABLED") is None
    assert not AuditEvent.objects.filter(event_type="flag_changed").exists()


def test_admin_change_with_the_cache_unreachable_shows_an_error_and_writes_nothing(admin_client):
    from flags.tests.test_flags import admin_form

    flag = Flag.objects.get(name="FLAG_WCB_ENABLED")
    with override_settings(CACHES=unreachable_redis_caches()):
        response = admin_client.post(f"/admin/waffle/flag/{flag.pk}/change/", admin_form(flag, everyone="true"),
                                     follow=True)
        bulk = admin_client.post("/admin/waffle/flag/", {"action": "enable_for_all", "_selected_action": [flag.pk]},
                                 follow=True)
    for page in (response, bulk):
        assert page.status_code == 200
        assert "Not saved: the flag cache" in page.content.decode()
    assert everyone("FLAG_WCB_ENABLED") is None
    assert not AuditEvent.objects.filter(event_type="flag_changed").exists()


def test_reads_with_the_cache_unreachable_come_from_the_database(rf):
    from flags.registry import flag_is_on

    def request():  # a flag is evaluated once per request: each check here is a request of its own
        made = rf.get("/")
        made.user = None
        return made

    Flag.objects.filter(name="FLAG_WCB_ENABLED").update(everyone=True)  # no signal: nobody could invalidate
    with override_settings(CACHES=unreachable_redis_caches()):
        assert flag_is_on(request(), "FLAG_WCB_ENABLED") is True
        Flag.objects.filter(name="FLAG_WCB_ENABLED").update(everyone=False)
        assert flag_is_on(request(), "FLAG_WCB_ENABLED") is False


def test_an_entry_read_before_a_change_committed_is_never_served_after_it():
    cache = flag_cache()
    assert cache.get("k") is None          # a reader misses and notes the generation…
    invalidate()                           # …a change commits meanwhile…
    cache.add("k", "old state")            # …the reader caches what it read before the change
    assert cache.get("k") is None          # dead generation: not served
    cache.add("k", "new state")
    assert cache.get("k") == "new state"


def test_an_evicted_generation_key_starts_a_new_one_and_drops_every_entry():
    cache = flag_cache()
    cache.get("k")
    cache.add("k", "v")
    assert cache.get("k") == "v"
    cache.store.delete(GENERATION_KEY)     # evicted (LRU) or flushed
    assert cache.get("k") is None
    assert cache.store.get(GENERATION_KEY)


@override_settings(FLAGS_CACHE_TTL=1)
def test_entries_expire_after_flags_cache_ttl():
    cache = flag_cache()
    cache.get("k")
    cache.add("k", "v")
    assert cache.get("k") == "v"
    time.sleep(1.2)
    assert cache.get("k") is None


def test_the_flag_alias_is_the_generation_cache():
    from flags.cache import GenerationCache

    assert isinstance(caches["flags"], GenerationCache)
    assert isinstance(flag_cache(), GenerationCache)


@pytest.mark.urls(PROBE_URLS)
def test_a_customer_request_reads_the_cache_once(api, flags, monkeypatch):
    """The read path: the customer row, the flag generation and every registered flag in one
    read (a Redis pipeline that also counts the rate limit; a get_many elsewhere)."""
    import redis.client

    flags.on("FLAG_WCB_ENABLED")
    api.get("/api/probe/flagged")
    store = flag_cache().store
    reads, inside = [], []

    def spy(name, original):
        def read(*args, **kwargs):
            if not inside:  # a memory cache's get_many calls its get per key: one read
                reads.append(name)
            inside.append(name)
            try:
                return original(*args, **kwargs)
            finally:
                inside.pop()
        return read

    for name in ("get", "get_many"):
        monkeypatch.setattr(store, name, spy(name, getattr(store, name)))
    writes = redis_writes(monkeypatch)
    response = api.get("/api/probe/flagged")
    assert response.status_code == 200 and response.json() == {"journal": False, "persona": False}
    if "redis" in type(store).__module__ or "Redis" in type(store).__name__:
        assert (reads, len(writes)) == ([], 1)  # the request's one round trip (raxx/request_cache.py)
    else:
        assert reads == ["get_many"]


def _on_redis() -> bool:
    from django_redis.cache import RedisCache

    return isinstance(flag_cache().store, RedisCache)


def _request(rf):
    made = rf.get("/")
    made.user = None
    return made


def test_a_request_without_a_customer_reads_every_flag_in_one_mget_that_is_never_stale(
        rf, monkeypatch, django_assert_num_queries):
    """The walkthrough's flag read (no customer, no prefetch): one packed MGET, not django-redis's
    get_many, no query once cached, and a change between two requests applies on the second, the
    remembered bytes of an entry notwithstanding."""
    from flags.registry import flag_is_on

    if not _on_redis():
        pytest.skip("the MGET path is django-redis's (REDIS_URL)")
    store = flag_cache().store
    monkeypatch.setattr(store, "get_many", lambda *a, **k: pytest.fail("read through get_many"))
    writes = redis_writes(monkeypatch)
    flag = Flag.objects.get(name="FLAG_WCB_ENABLED")
    flag.everyone = True
    flag.save()
    first = _request(rf)
    assert flag_is_on(first, "FLAG_WCB_ENABLED") is True and flag_is_on(first, "FLAG_SENTIMENT_JOURNAL") is False
    del writes[:]
    again = _request(rf)
    with django_assert_num_queries(0):
        assert flag_is_on(again, "FLAG_WCB_ENABLED") is True
        assert flag_is_on(again, "FLAG_SENTIMENT_JOURNAL") is False
    assert writes == [1]  # one write of one command: the MGET
    flag.everyone = False
    flag.save()
    assert flag_is_on(_request(rf), "FLAG_WCB_ENABLED") is False


def test_a_flag_entry_that_cannot_be_decoded_is_one_miss_the_others_still_cached(
        rf, caplog, django_assert_num_queries):
    from waffle.utils import get_setting, keyfmt

    from flags.registry import flag_is_on

    if not _on_redis():
        pytest.skip("the MGET path is django-redis's (REDIS_URL)")
    Flag.objects.filter(name="FLAG_WCB_ENABLED").update(everyone=True)
    warm = _request(rf)
    flag_is_on(warm, "FLAG_WCB_ENABLED"), flag_is_on(warm, "FLAG_SENTIMENT_JOURNAL")  # both entries cached
    store = flag_cache().store
    key = keyfmt(get_setting("FLAG_CACHE_KEY"), "FLAG_WCB_ENABLED")
    store.client.get_client(write=True).set(store.make_key(key), b"\x80not a pickle")
    request = _request(rf)
    assert flag_is_on(request, "FLAG_WCB_ENABLED") is True  # a miss, answered by the database: not off, not a 500
    with django_assert_num_queries(0):
        assert flag_is_on(request, "FLAG_SENTIMENT_JOURNAL") is False  # still served from the same MGET
    assert "unreachable" not in caplog.text


def test_a_dead_flag_cache_is_warned_about_once_not_per_request(rf, caplog):
    from flags import cache as flags_cache
    from flags.registry import flag_is_on

    Flag.objects.filter(name="FLAG_WCB_ENABLED").update(everyone=True)
    flags_cache._unreachable_warning.reset()  # the next warning is due
    with override_settings(CACHES=unreachable_redis_caches()):
        for _ in range(3):
            assert flag_is_on(_request(rf), "FLAG_WCB_ENABLED") is True  # from the database
    assert caplog.text.count("flag cache unreachable on read") == 1


def test_any_operator_page_whose_flag_change_is_refused_shows_an_error():
    """A console page that saves a flag (e.g. a kill switch) gets the same refusal as the admin."""
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory

    from flags.middleware import FlagChangeRefusedMiddleware

    request = RequestFactory().post("/admin/console/kill/FLAG_WCB_ENABLED")
    request.session = {}
    request._messages = FallbackStorage(request)

    def view(req):
        flag = Flag.objects.get(name="FLAG_WCB_ENABLED")
        flag.everyone = False
        flag.save()

    middleware = FlagChangeRefusedMiddleware(view)
    with override_settings(CACHES=unreachable_redis_caches()):
        try:
            view(request)
        except FlagCacheUnreachable as exc:
            response = middleware.process_exception(request, exc)
    assert response.status_code == 302 and response["Location"] == "/admin/console/kill/FLAG_WCB_ENABLED"
    assert "Not saved: the flag cache" in [str(m) for m in request._messages][0]
    assert everyone("FLAG_WCB_ENABLED") is None

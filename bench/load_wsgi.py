"""The production WSGI app plus one plain Django JSON view (``bench/plain``), for ``make bench-load`` only."""

from django.conf import settings

from raxx.wsgi import application  # noqa: F401  (sets Django up)

settings.ROOT_URLCONF = "bench.load_urls"  # read per request: the API routes plus the baseline view

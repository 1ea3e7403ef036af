"""Bench-only URLconf for ``make bench-load``: every real route plus the plain-view baseline."""

from django.urls import path

from bench.platform_urls import plain_view
from raxx.urls import urlpatterns as api_urlpatterns

urlpatterns = [path("bench/plain", plain_view), *api_urlpatterns]

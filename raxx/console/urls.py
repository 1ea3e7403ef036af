"""Console pages mounted under /admin/ before ``admin.site.urls``."""

urlpatterns: list = []

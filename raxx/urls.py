from django.contrib import admin
from django.urls import include, path

from .apis import MeApi, MergeRequestConfirmApi, MergeRequestDeclineApi, MergeRequestsApi
from .docs import DocsView
from .health import healthz
from .metrics import metrics_view
from .schema import SchemaView

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("api/schema", SchemaView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init script as a file (?script): no inline script under the CSP.
    path("api/docs", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/me", MeApi.as_view(), name="me"),
    path("api/account/merge-requests", MergeRequestsApi.as_view(), name="merge-requests"),
    path("api/account/merge-requests/<uuid:id>/confirm", MergeRequestConfirmApi.as_view(),
         name="merge-request-confirm"),
    path("api/account/merge-requests/<uuid:id>/decline", MergeRequestDeclineApi.as_view(),
         name="merge-request-decline"),
    path("api/", include("journal.urls")),
    path("api/", include("wcb.urls")),
    path("api/walkthrough/", include("walkthrough.urls")),
    path("admin/", include("raxx.console.urls")),
    path("admin/", include("flags.admin_urls")),
    path("admin/", admin.site.urls),
]

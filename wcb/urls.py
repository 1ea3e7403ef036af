from django.urls import path

from .apis import ClosePositionApi, WcbSettingsApi, WhatCouldHaveBeenApi

urlpatterns = [
    path("trading/close-position", ClosePositionApi.as_view(), name="wcb-close-position"),
    # <str:…> not <uuid:…>: a malformed id must still meet the tier gate first, then 404 position_not_found.
    path("positions/<str:position_id>/what-could-have-been", WhatCouldHaveBeenApi.as_view(), name="wcb-render"),
    path("account/settings/wcb", WcbSettingsApi.as_view(), name="wcb-settings"),
]

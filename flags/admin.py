"""waffle's flag admin, refusing a change the flag cache cannot invalidate
(flags/cache.py): the operator sees an error and nothing is written."""

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from waffle.admin import FlagAdmin as WaffleFlagAdmin
from waffle.models import Flag

from .cache import FlagCacheUnreachable


def refused_redirect(request, exc: FlagCacheUnreachable):
    messages.error(request, f"Not saved: {exc}.")
    return HttpResponseRedirect(request.get_full_path())


class FlagAdmin(WaffleFlagAdmin):
    # Each view runs in one transaction; the refusal raises inside it, so
    # everything (the row, its admin log entry, its audit event) rolls back.
    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except FlagCacheUnreachable as exc:
            return refused_redirect(request, exc)

    def changelist_view(self, request, *args, **kwargs):
        try:
            with transaction.atomic():  # the bulk actions write a log entry before each save
                return super().changelist_view(request, *args, **kwargs)
        except FlagCacheUnreachable as exc:
            return refused_redirect(request, exc)

    def delete_view(self, request, *args, **kwargs):
        try:
            return super().delete_view(request, *args, **kwargs)
        except FlagCacheUnreachable as exc:
            return refused_redirect(request, exc)


admin.site.unregister(Flag)
admin.site.register(Flag, FlagAdmin)

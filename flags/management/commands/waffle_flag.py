"""waffle's ``waffle_flag``, with its changes audited as the CLI's, and refused
loudly (exit 1, nothing written) when the flag cache cannot be invalidated."""

import getpass

from django.core.management.base import CommandError
from django.db import transaction
from waffle.management.commands.waffle_flag import Command as WaffleFlagCommand

from flags.cache import FlagCacheUnreachable
from raxx.audit import acting_as


class Command(WaffleFlagCommand):
    def handle(self, *args, **options):
        committed = False
        try:
            with acting_as(f"cli:waffle_flag:{getpass.getuser()}"):
                with transaction.atomic():
                    super().handle(*args, **options)
                    committed = True
        except FlagCacheUnreachable as exc:
            if committed:  # lost between the write and the post-commit invalidation (flags/cache.py, invariant 4)
                raise CommandError(f"The change is saved, but {exc}; they converge within FLAGS_CACHE_TTL "
                                   "seconds. Check the cache, then re-run the command.") from exc
            raise CommandError(f"Refused, nothing was changed: {exc}.") from exc

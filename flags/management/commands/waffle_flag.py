"""waffle's ``waffle_flag``, with its changes audited as the CLI's."""

import getpass

from waffle.management.commands.waffle_flag import Command as WaffleFlagCommand

from raxx.audit import acting_as


class Command(WaffleFlagCommand):
    def handle(self, *args, **options):
        with acting_as(f"cli:waffle_flag:{getpass.getuser()}"):
            return super().handle(*args, **options)

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from raxx.audit import acting_as
from walkthrough.services import DEFAULT_PROGRAM, program_get_or_create, walkthrough_invite


class Command(BaseCommand):
    help = ("Invite a beta tester to the walkthrough. Prints the raw token once, as the last line of stdout; "
            "only its SHA-256 hash is stored. Re-inviting an email revokes its previous token and keeps its progress.")

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--program", default=DEFAULT_PROGRAM,
                            help=f"Program (cohort) name; created when missing (default {DEFAULT_PROGRAM!r}).")
        parser.add_argument("--ends-on", type=date.fromisoformat, default=None,
                            help="End date (YYYY-MM-DD) for a program created by this call (default: 60 days from today).")

    def handle(self, *args, email, program, ends_on, **options):
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not a valid email address.")
        if not program.strip():
            raise CommandError("--program needs a name.")
        if len(program.strip()) > 100 or not program.isprintable():
            raise CommandError("--program: at most 100 printable characters.")
        with acting_as("cli:walkthrough_invite"):
            cohort = program_get_or_create(name=program.strip(), ends_on=ends_on)
            invite = walkthrough_invite(email=email, program=cohort)
        verb = "Invited" if invite.created else "Re-invited (previous token revoked)"
        self.stdout.write(f"{verb} {invite.progress.tester_email} to program {cohort.name!r} "
                          f"(token valid until the end of {cohort.ends_on}, data purged 30 days later). Token:")
        self.stdout.write(invite.token)

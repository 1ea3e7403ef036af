from django.core.management.base import BaseCommand

from raxx.console.operators import ENROLLMENT_TTL, operator_invite


class Command(BaseCommand):
    help = ("Create a staff user without a usable password (or re-enable one) and print a one-time passkey "
            "enrollment URL, valid 15 minutes, as the last line.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default=None)
        parser.add_argument("--superuser", action="store_true", help="make the operator a superuser")

    def handle(self, *args, username: str, email: str | None, superuser: bool, **options):
        invite = operator_invite(username=username, email=email, superuser=superuser,
                                 actor="cli:operator_invite")
        state = "created" if invite.created else "re-enabled"
        self.stdout.write(f"Operator {username} {state}; open this link within {int(ENROLLMENT_TTL.total_seconds() // 60)} "
                          "minutes to register a passkey (single use):")
        self.stdout.write(invite.url)

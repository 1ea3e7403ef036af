from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from raxx.console.operators import operator_disable


class Command(BaseCommand):
    help = ("End every session of an operator now and block sign-in until a new invite "
            "(their passkeys and open enrollment links are removed).")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        try:
            done = operator_disable(username=username, actor="cli:operator_disable")
        except get_user_model().DoesNotExist:
            raise CommandError(f"No operator named {username!r}.") from None
        self.stdout.write(f"Operator {username} disabled: {done.sessions_ended} session(s) ended, "
                          f"{done.passkeys_revoked} passkey(s) revoked. Re-enable with: "
                          f"python manage.py operator_invite {username}")

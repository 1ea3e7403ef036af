import uuid

from django.core.management.base import BaseCommand, CommandError

from raxx.auth import TIERS
from raxx.tokens import AsymmetricKeyError, issue_dev_token


class Command(BaseCommand):
    help = "Print a development JWT shaped like Queue's (HS256 only). The token is the last line of stdout."

    def add_arguments(self, parser):
        parser.add_argument("--sub", required=True, type=uuid.UUID, help="customer UUID")
        parser.add_argument("--tier", choices=TIERS, help="free | pro | pro_plus")
        parser.add_argument("--no-tier", action="store_true",
                            help="omit the tier claim (tier-gated routes answer 403); wins over --tier")
        parser.add_argument("--ttl", type=int, default=3600,
                            help="lifetime in seconds (default 3600; 0 or negative: already expired)")
        parser.add_argument("--email", default=None)
        parser.add_argument("--amr", default=None, metavar="VALUE[,VALUE]",
                            help="authentication methods claim, comma-separated (e.g. hwk for a passkey step-up)")
        parser.add_argument("--auth-age", type=int, default=None, metavar="SECONDS",
                            help="set auth_time to now minus SECONDS (a step-up token: --auth-age 0)")

    def handle(self, *args, sub, tier, no_tier, ttl, email, amr, auth_age, **options):
        if tier is None and not no_tier:
            raise CommandError("Give --tier free|pro|pro_plus, or --no-tier for a token without a tier claim.")
        if ttl <= 0:  # allowed: an already-expired token is what testing the 401 needs
            self.stderr.write(f"Note: --ttl {ttl}: this token is already expired (requests with it get 401).")
        methods = None
        if amr is not None:
            methods = [v.strip() for v in amr.split(",") if v.strip()]
            if not methods:
                raise CommandError("--amr needs at least one value, e.g. --amr hwk")
        if auth_age is not None and auth_age < 0:
            raise CommandError("--auth-age is a number of seconds ago, 0 or more.")
        try:
            token = issue_dev_token(sub=sub, tier=None if no_tier else tier, ttl_seconds=ttl, email=email,
                                    amr=methods, auth_age_seconds=auth_age)
        except AsymmetricKeyError as exc:
            raise CommandError(str(exc))
        self.stdout.write(token)

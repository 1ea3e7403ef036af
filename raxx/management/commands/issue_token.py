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

    def handle(self, *args, sub, tier, no_tier, ttl, email, **options):
        if tier is None and not no_tier:
            raise CommandError("Give --tier free|pro|pro_plus, or --no-tier for a token without a tier claim.")
        if ttl <= 0:  # allowed: an already-expired token is what testing the 401 needs
            self.stderr.write(f"Note: --ttl {ttl}: this token is already expired (requests with it get 401).")
        try:
            token = issue_dev_token(sub=sub, tier=None if no_tier else tier, ttl_seconds=ttl, email=email)
        except AsymmetricKeyError as exc:
            raise CommandError(str(exc))
        self.stdout.write(token)

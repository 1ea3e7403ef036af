from django.core.management.base import BaseCommand

from raxx.audit import acting_as
from raxx.merge import AccountsRefused
from raxx.merge_requests import open_merge_request

from ._accounts import refused


class Command(BaseCommand):
    help = ("Open a merge request (CONTRACTS §9): both account holders must confirm it with a step-up sign-in "
            "before merge_accounts --request executes it. Expires after 7 days. The request id is the last line.")

    def add_arguments(self, parser):
        parser.add_argument("--primary", required=True, help="UUID of the account that survives")
        parser.add_argument("--secondary", required=True, help="UUID of the account merged away (tombstoned)")
        parser.add_argument("--reason", required=True, help="why (the support ticket); shown to both holders")

    def handle(self, *args, primary, secondary, reason, **options):
        try:
            with acting_as("cli:merge_request"):
                request = open_merge_request(primary_id=primary, secondary_id=secondary, reason=reason)
        except AccountsRefused as exc:
            raise refused(exc)
        self.stdout.write(f"Opened merge request: secondary {request.secondary_id} into primary "
                          f"{request.primary_id}, expires {request.expires_at:%Y-%m-%d %H:%M}Z. Both holders confirm "
                          "it at POST /api/account/merge-requests/{id}/confirm; then run "
                          "merge_accounts --request <id>. Audit event: merge_request_opened.")
        self.stdout.write(str(request.pk))

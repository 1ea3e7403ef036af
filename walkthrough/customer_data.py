"""Walkthrough rows belong to a beta tester's email address, not to a Queue
customer id: testers are invited by email and authenticate with a walkthrough
token, never a customer JWT.

- Merge: KEEP_PRIMARY_ON_CONFLICT on (tester_email, program). Data follows the
  primary: the secondary's rows are re-keyed to the primary's email, so the
  secondary's address survives only as the tombstone hash (CONTRACTS §6) and a
  later erasure of the primary reaches them. Where both testers were in the
  same program, the primary's row wins and the secondary's (with its paper
  trades and survey, by cascade) is dropped.
- Export / erase: by email (``Link.EMAIL``). Erasing the progress row cascades
  (FK ``on_delete=CASCADE``) to the tester's paper trades and survey response,
  which hold no email of their own and always follow their progress row.
"""

from raxx.customer_data import Link, OnMerge, register

from .models import WalkthroughProgress

register(WalkthroughProgress, field="tester_email", on_merge=OnMerge.KEEP_PRIMARY_ON_CONFLICT, link=Link.EMAIL,
         unique_with=("program",),
         note="Beta tester rows by email; paper trades and survey responses cascade with the progress row.")

"""Walkthrough rows belong to a beta tester's email address, not to a Queue
customer id: testers are invited by email and authenticate with a walkthrough
token, never a customer JWT.

- Merge: KEEP. A merge joins two Queue accounts; a tester's walkthrough row is
  keyed by (email, program) and is purged 30 days after the program ends anyway,
  so moving it would only risk a unique clash for no analytical gain.
- Export / erase: by email (``Link.EMAIL``). Erasing the progress row cascades
  (FK ``on_delete=CASCADE``) to the tester's paper trades and survey response,
  which hold no email of their own and always follow their progress row.
"""

from raxx.customer_data import Link, OnMerge, register

from .models import WalkthroughProgress

register(WalkthroughProgress, field="tester_email", on_merge=OnMerge.KEEP, link=Link.EMAIL,
         note="Beta tester rows by email; paper trades and survey responses cascade with the progress row.")

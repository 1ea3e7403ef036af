"""Merge / export / erase rule for the console's read-access log (raxx/ACCOUNTS.md).

- Merge: the log follows the data it is about, so "who viewed the data I now
  hold" is one export of the primary (re-attributed, like the journal rows).
- Export: included table by table like every registered model.
- Erase: deleted with everything else; the ``dsr_erased`` event keeps the count.
"""

from raxx.customer_data import OnMerge, register

from .models import ReadAccess

register(ReadAccess, field="customer", on_merge=OnMerge.REATTRIBUTE,
         note="Who viewed the customer's data in the console (operator, page, time; never the data).")

"""Django's PostgreSQL backend, with a per-request health check that needs no round trip when it can tell.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before a request's first query on a reused
connection: one more database round trip per request that touches the database. This backend
first asks libpq and the socket, for a connection a request last reached less than
``TRUSTED_FOR_S`` ago: one whose status is OK, that is idle (no transaction left open) and that
has nothing waiting to be read is served as it is. A server that ended the session (a restart,
``pg_terminate_backend``, ``idle_session_timeout``) has sent its error and closed the socket, so
the socket is readable: then Django's own ``SELECT 1`` check runs, fails, and the connection is
replaced before the request uses it. Anything else the socket holds (a ``NOTIFY``) also gets the
real check, and so does any connection idle for longer (a quiet hour is when load balancers and
NAT tables forget connections). ``is_usable()`` itself is unchanged: after an error Django and
``raxx.errors`` still check with a real statement.

What this gives up: a connection broken without a word in the second since its last use (a
floating address moved to another server, which answers the next packet with a reset) fails
the request's first query instead of the check. That request is answered 503
``database_unavailable`` with ``Retry-After`` (nothing written), and the connection is dropped.
"""

import select
import time

from django.db.backends.postgresql import base
from psycopg import pq

TRUSTED_FOR_S = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    _last_used = float("-inf")  # when a request last reached this connection (its first query), monotonic

    def connect(self):
        super().connect()
        self._last_used = time.monotonic()

    def close_if_health_check_failed(self):
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        now, last = time.monotonic(), self._last_used
        self._last_used = now
        if not self.pool and now - last < TRUSTED_FOR_S and quiet(self.connection):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def quiet(connection) -> bool:
    """Healthy as libpq last saw it, idle, and nothing from the server waiting on the socket.
    In any doubt (no socket, no ``poll`` under a green-thread patch): not quiet, the real check runs."""
    try:
        pgconn = connection.pgconn
        if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except Exception:  # noqa: BLE001
        return False

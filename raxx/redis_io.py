"""Several Redis commands in one write and one read, for the request path.

redis-py's ``Pipeline`` does the same round trip with per-command bookkeeping (response
callbacks, retries, error collection) that costs more than the commands do here. This sends
the commands packed together on a connection of the client's pool and reads their replies
in order; on any error the connection is dropped (its replies may be unread) and the error
raised, as the pipeline would. Unlike the pipeline it does not retry: a retried ``INCR`` would
count a request twice, and the callers already serve the request from the database when the
cache fails.
"""


def round_trip(client, commands: list[tuple]) -> list:
    """The raw replies of ``commands`` (e.g. ``("MGET", k1, k2)``), in order, from one round trip."""
    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        connection.send_packed_command(connection.pack_commands(commands))
        return [connection.read_response() for _ in commands]
    except BaseException:
        connection.disconnect()
        raise
    finally:
        pool.release(connection)

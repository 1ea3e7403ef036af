"""Smoke test of ``make bench-load``'s pieces (the load run itself is not part of the suite)."""

from bench.load import lua_for, parse_wrk, routes

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:40000
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.71ms    2.10ms  30.01ms   80.00%
  Latency Distribution
     50%  650.00us
     75%    7.51ms
     90%    9.00ms
     99%    1.20s
  3169 requests in 5.00s, 0.90MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:    633.21
Transfer/sec:    184.00KB
"""


def test_wrk_output_is_parsed_with_units():
    assert parse_wrk(WRK_OUTPUT) == {"rps": 633.21, "requests": 3169, "p50_ms": 0.65, "p99_ms": 1200.0,
                                     "errors": 7}


def test_every_route_of_the_workload_becomes_a_wrk_request():
    plan = routes({"pro_plus": "eyJ.a.b", "walkthrough": "wt1.x"}, "0f0f")
    script = lua_for(plan)
    assert script.count("wrk.format(") == len(plan) == 9
    assert "/bench/filter-floor/" in script
    assert '"/api/positions/0f0f/what-could-have-been"' in script
    assert '["Authorization"] = "Bearer wt1.x"' in script and '"POST"' in script

import { expect, test } from "bun:test";
import { parseWrk } from "../../scripts/bench/wrk.ts";

const REPORT = `Running 5s test @ http://127.0.0.1:4000/bench/hit/object.bin
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.52ms  412.00us  12.01ms   90.12%
    Req/Sec    21.07k     1.10k   22.90k    86.00%
  Latency Distribution
     50%  850.00us
     75%    1.60ms
     90%    1.90ms
     99%    2.10s
  104839 requests in 5.00s, 6.42GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  20967.80
Transfer/sec:      1.28GB
`;

test("parseWrk reads requests/s, the p50 and p99 latencies in ms whatever their unit, and counts every error", () => {
  expect(parseWrk(REPORT)).toEqual({ requestsPerSec: 20967.8, p50Ms: 0.85, p99Ms: 2100, errors: 7 });
});

test("parseWrk reports NaN, not zero, for a report without figures", () => {
  const r = parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n");
  expect(r.requestsPerSec).toBeNaN();
  expect(r.p50Ms).toBeNaN();
});

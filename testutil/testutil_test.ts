import { expect, test } from "bun:test";
import {
  type Collector,
  CounterValue,
  type Desc,
  GaugeValue,
  type Metric,
  mustNewConstHistogram,
  mustNewConstMetric,
  mustNewConstNativeHistogram,
  mustNewConstSummary,
  newDesc,
  newInvalidMetric,
} from "../prometheus/mod.ts";
import { newFooCollector } from "../collector.ts";
import { collectAndCompare, collectAndCount, collectAndFormat, toFloat64 } from "./mod.ts";

/** A collector that describes `descs` and sends what `collect` sends. */
function fixed(descs: Desc[], collect: (ch: (m: Metric) => void) => void | Promise<void>): Collector {
  return { name: "test", describe: (ch) => descs.forEach(ch), collect };
}

/** The message `p` rejects with; fails when it resolves. */
async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("got no rejection, want one");
}

const tutorial = `# HELP bar_metric Shows whether a bar has occurred in our cluster
# TYPE bar_metric counter
bar_metric 1
# HELP foo_metric Shows whether a foo has occurred in our cluster
# TYPE foo_metric counter
foo_metric 1
`;

const latency = newDesc("rpc_duration_seconds", "RPC latency.", ["method"]);
const sizes = newDesc("rpc_request_size_bytes", "Request sizes.");
const rpcCollector = fixed([latency, sizes], (ch) => {
  ch(mustNewConstHistogram(latency, 3, 1.5, new Map([[0.1, 1], [1, 2]]), "put"));
  ch(mustNewConstHistogram(latency, 4, 0.25, new Map([[0.1, 4], [1, 4]]), "get"));
  ch(mustNewConstSummary(sizes, 10, 2048, { 0.5: 200, 0.9: 400 }));
});

test("collectAndCompare accepts the exact exposition", async () => {
  await collectAndCompare(newFooCollector(), tutorial);
});

test("collectAndCompare ignores order, indentation, number spelling and a missing +Inf bucket", async () => {
  await collectAndCompare(
    rpcCollector,
    `
      # TYPE rpc_request_size_bytes summary
      # HELP rpc_request_size_bytes Request sizes.
      rpc_request_size_bytes_count 10
      rpc_request_size_bytes{quantile="0.90"} 4e2
      rpc_request_size_bytes{quantile="0.5"} 200
      rpc_request_size_bytes_sum 2048.0
      # HELP rpc_duration_seconds RPC latency.
      # TYPE rpc_duration_seconds histogram
      rpc_duration_seconds_bucket{method="put",le="1.0"} 2
      rpc_duration_seconds_bucket{le="0.1",method="put"} 1
      rpc_duration_seconds_sum{method="put"} 1.5
      rpc_duration_seconds_count{method="put"} 3
      rpc_duration_seconds_bucket{method="get",le="0.1"} 4
      rpc_duration_seconds_bucket{method="get",le="1"} 4
      rpc_duration_seconds_bucket{method="get",le="+Inf"} 4
      rpc_duration_seconds_sum{method="get"} 0.25
      rpc_duration_seconds_count{method="get"} 4
    `,
  );
});

test("collectAndCompare compares only the families named, on both sides", async () => {
  const onlyFoo = `
    # HELP foo_metric Shows whether a foo has occurred in our cluster
    # TYPE foo_metric counter
    foo_metric 1
    # HELP unrelated_metric Not collected, and not named either.
    # TYPE unrelated_metric gauge
    unrelated_metric 7
  `;
  await collectAndCompare(newFooCollector(), onlyFoo, "foo_metric");
  // Without the name, bar_metric is missing from the expectation and unrelated_metric is extra.
  const msg = await rejection(collectAndCompare(newFooCollector(), onlyFoo));
  expect(msg).toContain("\n+bar_metric 1\n");
  expect(msg).toContain("\n-unrelated_metric 7\n");
});

test("collectAndCompare shows a -want +got diff of a wrong value", async () => {
  const msg = await rejection(collectAndCompare(newFooCollector(), tutorial.replace("foo_metric 1", "foo_metric 2")));
  expect(msg).toBe(
    `collectAndCompare: collected metrics differ from the expected ones (-want +got):
@@ -3,4 +3,4 @@
 bar_metric 1
 # HELP foo_metric Shows whether a foo has occurred in our cluster
 # TYPE foo_metric counter
-foo_metric 2
+foo_metric 1
`,
  );
});

test("collectAndCompare fails on a different help text, type or label", async () => {
  const cases: [string, string, string[]][] = [
    ["help", tutorial.replace("a foo has", "a foo had"), ["-# HELP foo_metric Shows whether a foo had"]],
    ["type", tutorial.replace("foo_metric counter", "foo_metric gauge"), [
      "-# TYPE foo_metric gauge",
      "+# TYPE foo_metric counter",
    ]],
    ["label", tutorial.replace("foo_metric 1", 'foo_metric{a="b"} 1'), ['-foo_metric{a="b"} 1', "+foo_metric 1"]],
    ["missing family", tutorial.split("\n").slice(0, 3).join("\n"), ["+# HELP foo_metric", "+foo_metric 1"]],
  ];
  for (const [name, want, lines] of cases) {
    const msg = await rejection(collectAndCompare(newFooCollector(), want));
    for (const l of lines) {
      if (!msg.includes(`\n${l}`)) {
        throw new Error(`${name}: got message\n${msg}\nwant a line starting ${JSON.stringify(l)}`);
      }
    }
  }
});

test("collectAndCompare reports what the registry refuses, with its message", async () => {
  const d = newDesc("queue_length", "Items.", ["queue"]);
  const duplicates = fixed([d], (ch) => {
    ch(mustNewConstMetric(d, GaugeValue, 1, "a"));
    ch(mustNewConstMetric(d, GaugeValue, 2, "a"));
  });
  expect(await rejection(collectAndCompare(duplicates, ""))).toBe(
    `collectAndCompare: gathering metrics failed: collector test: collected metric queue_length{queue="a"} was collected before with the same name and label values`,
  );
  const invalid = fixed([newDesc("queue_length", "Items.", ["__queue"])], () => {});
  expect(await rejection(collectAndCompare(invalid, ""))).toContain(
    `collectAndCompare: registering collector failed: collector test: descriptor Desc{fqName: "queue_length"`,
  );
  const failing = fixed([d], () => {
    throw new Error("queue unreachable");
  });
  expect(await rejection(collectAndCompare(failing, ""))).toBe(
    "collectAndCompare: gathering metrics failed: collector test failed: queue unreachable",
  );
  const partly = fixed([d], (ch) => ch(newInvalidMetric(d, new Error("sensor gone"))));
  expect(await rejection(collectAndCompare(partly, ""))).toBe(
    "collectAndCompare: gathering metrics failed: collector test: metric queue_length: sensor gone",
  );
});

test("collectAndCompare reports an expected text that does not parse, with its line", async () => {
  expect(await rejection(collectAndCompare(newFooCollector(), "# HELP foo_metric x\nfoo_metric one\n"))).toBe(
    `collectAndCompare: parsing expected metrics failed: text format parsing error in line 2: expected float as value, got "one"`,
  );
});

test("collectAndCount counts series: samples, and one per histogram or summary", async () => {
  expect(await collectAndCount(newFooCollector())).toBe(2);
  expect(await collectAndCount(newFooCollector(), "foo_metric")).toBe(1);
  expect(await collectAndCount(newFooCollector(), "no_such_metric")).toBe(0);
  expect(await collectAndCount(rpcCollector)).toBe(3);
  expect(await collectAndCount(rpcCollector, "rpc_duration_seconds")).toBe(2);
});

test("collectAndCount fails when the gather does", async () => {
  const d = newDesc("queue_length", "Items.");
  const failing = fixed([d], () => Promise.reject(new Error("timeout")));
  expect(await rejection(collectAndCount(failing))).toBe(
    "collectAndCount: gathering metrics failed: collector test failed: timeout",
  );
});

test("toFloat64 reads a metric, or a collector of exactly one sample", async () => {
  const d = newDesc("queue_length", "Items.");
  expect(await toFloat64(mustNewConstMetric(d, GaugeValue, 42))).toBe(42);
  expect(await toFloat64(fixed([d], (ch) => ch(mustNewConstMetric(d, GaugeValue, -1.5))))).toBe(-1.5);
  const async = fixed([d], async (ch) => {
    await Promise.resolve();
    ch(mustNewConstMetric(d, CounterValue, 7));
  });
  expect(await toFloat64(async)).toBe(7);
});

test("toFloat64 names how many series it got when that is not one", async () => {
  expect(await rejection(toFloat64(newFooCollector()))).toBe(
    "toFloat64: collected 2 metrics instead of exactly 1 (bar_metric, foo_metric)",
  );
  expect(await rejection(toFloat64(fixed([], () => {})))).toBe("toFloat64: collected 0 metrics instead of exactly 1");
});

test("toFloat64 refuses histograms, summaries and invalid metrics", async () => {
  const h = mustNewConstHistogram(latency, 1, 1, {}, "get");
  expect(await rejection(toFloat64(h))).toBe(
    `toFloat64: metric "rpc_duration_seconds" is a histogram, want a counter, gauge or untyped metric`,
  );
  expect(await rejection(toFloat64(fixed([sizes], (ch) => ch(mustNewConstSummary(sizes, 1, 1, {})))))).toBe(
    `toFloat64: metric "rpc_request_size_bytes" is a summary, want a counter, gauge or untyped metric`,
  );
  expect(await rejection(toFloat64(newInvalidMetric(sizes, new Error("gone"))))).toBe(
    `toFloat64: metric "rpc_request_size_bytes" is invalid: gone`,
  );
});

test("collectAndFormat writes text 0.0.4 and OpenMetrics", async () => {
  expect(await collectAndFormat(newFooCollector(), "text")).toBe(tutorial);
  expect(await collectAndFormat(newFooCollector(), "openmetrics", "foo_metric")).toBe(
    // prometheus/common types a counter without _total `unknown` in OpenMetrics.
    `# HELP foo_metric Shows whether a foo has occurred in our cluster
# TYPE foo_metric unknown
foo_metric 1.0
# EOF
`,
  );
  expect(await collectAndFormat(newFooCollector(), "text", "no_such_metric")).toBe("");
});

test("collectAndFormat refuses an unknown format", async () => {
  expect(await rejection(collectAndFormat(newFooCollector(), "json" as "text"))).toBe(
    `collectAndFormat: unknown format "json", want "text" or "openmetrics"`,
  );
});

test("collectAndCompare takes bucket lines written without _bucket, as Go's parser (any le sample of a histogram is a bucket)", async () => {
  const d = newDesc("rpc_seconds", "RPC latency.");
  const c = fixed([d], (ch) => ch(mustNewConstHistogram(d, 3, 1.5, { 0.5: 1, 1: 2 })));
  await collectAndCompare(
    c,
    `
    # HELP rpc_seconds RPC latency.
    # TYPE rpc_seconds histogram
    rpc_seconds{le="0.5"} 1
    rpc_seconds{le="1"} 2
    rpc_seconds_sum 1.5
    rpc_seconds_count 3
  `,
  );
  expect(
    await rejection(collectAndCompare(
      c,
      `
    # HELP rpc_seconds RPC latency.
    # TYPE rpc_seconds histogram
    rpc_seconds{le="0.5"} 2
    rpc_seconds{le="1"} 2
    rpc_seconds_sum 1.5
    rpc_seconds_count 3
  `,
    )),
  ).toContain('-rpc_seconds_bucket{le="0.5"} 2\n+rpc_seconds_bucket{le="0.5"} 1');
});

test("collectAndCompare compares UTF-8 names written quoted, as client_golang 1.24's testutil", async () => {
  const d = newDesc("http.server.active_requests", "Active.", ["service.name"]);
  const c = fixed([d], (ch) => ch(mustNewConstMetric(d, GaugeValue, 3, "api")));
  await collectAndCompare(
    c,
    `
    # HELP "http.server.active_requests" Active.
    # TYPE "http.server.active_requests" gauge
    {"http.server.active_requests","service.name"="api"} 3
  `,
  );
  // The escaped names are other names: no match.
  expect(
    await rejection(collectAndCompare(
      c,
      `
    # HELP http_server_active_requests Active.
    # TYPE http_server_active_requests gauge
    http_server_active_requests{service_name="api"} 3
  `,
    )),
  ).toContain('+{"http.server.active_requests"');
});

test("collectAndCompare sees a native histogram as client_golang's testutil does: its text form (count, sum, +Inf)", async () => {
  // Go's testutil compares the text encodings of both sides, which carry no native
  // buckets; so a native histogram compares by its count and sum.
  const d = newDesc("native_seconds", "Native.");
  const c = fixed([d], (ch) => ch(mustNewConstNativeHistogram(d, 3, 4.5, { 0: 1, 2: 2 }, {}, 0, 0, 0, 0)));
  await collectAndCompare(
    c,
    `
    # HELP native_seconds Native.
    # TYPE native_seconds histogram
    native_seconds_sum 4.5
    native_seconds_count 3
  `,
  );
  expect(
    await rejection(collectAndCompare(
      c,
      `
    # HELP native_seconds Native.
    # TYPE native_seconds histogram
    native_seconds_sum 4.5
    native_seconds_count 4
  `,
    )),
  ).toContain("-native_seconds_count 4\n+native_seconds_count 3");
});

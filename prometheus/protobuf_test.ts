// The protobuf exposition, decoded by an independent decoder: Debian's protoc
// (protobuf-compiler, Google's conformance-tested parser) against client_model's
// published metrics.proto (testdata/metrics.proto), message by message and field by
// field. Byte-for-byte equality with Go's own marshalling of const gauges and
// histograms is in go_corpus_test.ts.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { missingTool } from "../testing/process.ts";
import { fileURLToPath } from "node:url";
import type { Collector } from "./collector.ts";
import { newDesc } from "./desc.ts";
import type { EscapingScheme } from "./escaping.ts";
import { encodeBytes } from "./expfmt.ts";
import { Registry } from "./registry.ts";
import {
  CounterValue,
  GaugeValue,
  type Metric,
  mustNewConstHistogram,
  mustNewConstHistogramWithCreatedTimestamp,
  mustNewConstMetric,
  mustNewConstMetricWithCreatedTimestamp,
  mustNewConstNativeHistogram,
  mustNewConstSummaryWithCreatedTimestamp,
  newMetricWithExemplars,
  newMetricWithTimestamp,
  UntypedValue,
} from "./value.ts";

const testdata = fileURLToPath(new URL("./testdata", import.meta.url));
const protoc = spawnSync("protoc", ["--version"]).error === undefined;

/** Splits a delimited stream into its messages: a varint length, then that many bytes. */
function messages(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < bytes.length) {
    let len = 0, shift = 0, b: number;
    do {
      b = bytes[i++];
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b >= 0x80);
    out.push(bytes.subarray(i, i + len));
    i += len;
  }
  return out;
}

/** protoc's text form of one MetricFamily message; throws on anything it cannot parse. */
function decode(message: Uint8Array): string {
  const r = spawnSync("protoc", [
    `-I${testdata}`,
    "-I/usr/include",
    "--decode=io.prometheus.client.MetricFamily",
    "metrics.proto",
  ], {
    input: message,
    maxBuffer: 64 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`protoc --decode: ${r.stderr}`);
  return r.stdout.toString();
}

async function decoded(collect: (ch: (m: Metric) => void) => void, escaping?: EscapingScheme): Promise<string[]> {
  const c: Collector = { name: "fixture", describe() {}, collect };
  const r = new Registry();
  r.register(c);
  const got = await r.gather();
  expect(got.errors.map((e) => e.message)).toEqual([]);
  return messages(encodeBytes(got.families, "protobuf", { escaping })).map(decode);
}

/** protoc's layout of a message: two spaces per level. */
const text = (s: string) => s.replace(/^\n/, "").replace(/^ {4}/gm, "");

// 2026-12-03T10:00:00.250Z, in milliseconds.
const T = Date.UTC(2026, 11, 3, 10, 0, 0, 250);

describe("protobuf exposition, decoded by protoc against metrics.proto", () => {
  if (!protoc) {
    missingTool(
      test,
      "protoc decodes the protobuf exposition",
      "protoc is not installed (make system-deps installs protobuf-compiler)",
    );
    return;
  }

  test("counter with an exemplar and a created timestamp; gauge with a timestamp; untyped", async () => {
    const c = newDesc("rpc_requests_total", "Requests.", ["code"], { app: "api" });
    const g = newDesc("temperature_celsius", "Temperature.", null, null, { unit: "celsius" });
    const u = newDesc("legacy_value", "Untyped.");
    const got = await decoded((ch) => {
      ch(newMetricWithExemplars(mustNewConstMetricWithCreatedTimestamp(c, CounterValue, 42, T, "200"), {
        value: 0.5,
        labels: { trace_id: "abc", span_id: "1" },
        timestamp: T + 1,
      }));
      ch(newMetricWithTimestamp(T, mustNewConstMetric(g, GaugeValue, -1.5)));
      ch(mustNewConstMetric(u, UntypedValue, NaN));
    });
    expect(got).toEqual([
      text(`
    name: "legacy_value"
    help: "Untyped."
    type: UNTYPED
    metric {
      untyped {
        value: nan
      }
    }
`),
      text(`
    name: "rpc_requests_total"
    help: "Requests."
    type: COUNTER
    metric {
      label {
        name: "app"
        value: "api"
      }
      label {
        name: "code"
        value: "200"
      }
      counter {
        value: 42
        exemplar {
          label {
            name: "span_id"
            value: "1"
          }
          label {
            name: "trace_id"
            value: "abc"
          }
          value: 0.5
          timestamp {
            seconds: 1796292000
            nanos: 251000000
          }
        }
        created_timestamp {
          seconds: 1796292000
          nanos: 250000000
        }
      }
    }
`),
      text(`
    name: "temperature_celsius"
    help: "Temperature."
    type: GAUGE
    metric {
      gauge {
        value: -1.5
      }
      timestamp_ms: 1796292000250
    }
    unit: "celsius"
`),
    ]);
  });

  test("classic histogram with bucket exemplars (+Inf too) and created timestamp; summary", async () => {
    const h = newDesc("latency_seconds", "Latency.", ["path"]);
    const s = newDesc("rpc_seconds", "RPC.");
    const got = await decoded((ch) => {
      const hist = mustNewConstHistogramWithCreatedTimestamp(h, 5, 7.5, { 0.1: 1, 1: 3 }, T, "/a");
      ch(
        newMetricWithExemplars(hist, { value: 0.05, labels: { id: "x" }, timestamp: T }, {
          value: 9,
          labels: { id: "y" },
          timestamp: T,
        }),
      );
      ch(mustNewConstSummaryWithCreatedTimestamp(s, 3, 1.25, { 0.5: 0.25, 0.99: 1 }, T));
    });
    expect(got).toEqual([
      text(`
    name: "latency_seconds"
    help: "Latency."
    type: HISTOGRAM
    metric {
      label {
        name: "path"
        value: "/a"
      }
      histogram {
        sample_count: 5
        sample_sum: 7.5
        bucket {
          cumulative_count: 1
          upper_bound: 0.1
          exemplar {
            label {
              name: "id"
              value: "x"
            }
            value: 0.05
            timestamp {
              seconds: 1796292000
              nanos: 250000000
            }
          }
        }
        bucket {
          cumulative_count: 3
          upper_bound: 1
        }
        bucket {
          cumulative_count: 5
          upper_bound: inf
          exemplar {
            label {
              name: "id"
              value: "y"
            }
            value: 9
            timestamp {
              seconds: 1796292000
              nanos: 250000000
            }
          }
        }
        created_timestamp {
          seconds: 1796292000
          nanos: 250000000
        }
      }
    }
`),
      text(`
    name: "rpc_seconds"
    help: "RPC."
    type: SUMMARY
    metric {
      summary {
        sample_count: 3
        sample_sum: 1.25
        quantile {
          quantile: 0.5
          value: 0.25
        }
        quantile {
          quantile: 0.99
          value: 1
        }
        created_timestamp {
          seconds: 1796292000
          nanos: 250000000
        }
      }
    }
`),
    ]);
  });

  test("native histogram: schema, zero bucket, spans and deltas (gaps of up to two filled, as makeBucketsFromMap)", async () => {
    const h = newDesc("native_seconds", "Native.");
    const got = await decoded((ch) => {
      // Positive buckets 0, 1, 3 (a gap of one: filled) and 10 (a new span); negative -2.
      ch(mustNewConstNativeHistogram(h, 14, 20.5, { 0: 2, 1: 5, 3: 1, 10: 3 }, { "-2": 1 }, 2, 3, 0.001, T));
    });
    expect(got).toEqual([
      text(`
    name: "native_seconds"
    help: "Native."
    type: HISTOGRAM
    metric {
      histogram {
        sample_count: 14
        sample_sum: 20.5
        schema: 3
        zero_threshold: 0.001
        zero_count: 2
        negative_span {
          offset: -2
          length: 1
        }
        negative_delta: 1
        positive_span {
          offset: 0
          length: 4
        }
        positive_span {
          offset: 6
          length: 1
        }
        positive_delta: 2
        positive_delta: 3
        positive_delta: -5
        positive_delta: 1
        positive_delta: 2
        created_timestamp {
          seconds: 1796292000
          nanos: 250000000
        }
      }
    }
`),
    ]);
  });

  test("a native histogram without observations gets one empty span, as client_golang", async () => {
    const h = newDesc("empty_seconds", "Empty.");
    const got = await decoded((ch) => ch(mustNewConstNativeHistogram(h, 0, 0, {}, {}, 0, 0, 0, 0)));
    expect(got[0]).toContain(
      "schema: 0\n    zero_threshold: 0\n    zero_count: 0\n    positive_span {\n      offset: 0\n      length: 0\n    }\n",
    );
  });

  const utf8 = newDesc("http.server.duration", "OTel.", ["service.name"]);
  const names = (ch: (m: Metric) => void) => ch(mustNewConstHistogram(utf8, 1, 0.5, { 1: 1 }, "api"));
  for (
    const [scheme, name, label] of [
      ["allow-utf-8", "http.server.duration", "service.name"],
      ["underscores", "http_server_duration", "service_name"],
      ["dots", "http_dot_server_dot_duration", "service_dot_name"],
      ["values", "U__http_2e_server_2e_duration", "U__service_2e_name"],
    ] as const
  ) {
    test(`UTF-8 names under escaping=${scheme}: ${name}, ${label}`, async () => {
      const [got] = await decoded(names, scheme);
      expect(got.split("\n").slice(0, 1)).toEqual([`name: "${name}"`]);
      expect(got).toContain(`  label {\n    name: "${label}"\n    value: "api"\n  }\n`);
    });
  }

  test("a message over 127 bytes gets a two-byte length and decodes (the length is moved into place)", async () => {
    const d = newDesc("long_labels", "x".repeat(300), ["v"]);
    const got = await decoded((ch) => ch(mustNewConstMetric(d, GaugeValue, 1, "é".repeat(200))));
    expect(got[0]).toContain(`help: "${"x".repeat(300)}"`);
    expect(got[0]).toContain(`value: "${"\\303\\251".repeat(200)}"`);
  });

  test("gauges of two label values and a constant one, on either side of the one-go path's 130-byte bound: the same pairs, NaN as Go's", async () => {
    // The one-go path takes a Metric when its bytes, counting 3 a UTF-16 unit of the
    // label values, stay below 130: here 39 bytes beside `a` and `b`, so up to 30 units
    // in all; a value that stops being ASCII half way is finished by ByteWriter.text.
    const d = newDesc("edge", "Edge.", ["b", "a"], { k: "const" });
    const cases: [string, string, number][] = [];
    for (let n = 26; n <= 33; n++) cases.push(["a".repeat(n - 5), "b".repeat(5), n]);
    cases.push(["", "", 0], ["ab" + "é".repeat(8), "x", 0.5], ["日".repeat(10), "😀", -1], ["x".repeat(60), "y", NaN]);
    const got =
      (await decoded((ch) => cases.forEach(([a, b, v]) => ch(mustNewConstMetric(d, GaugeValue, v, b, a)))))[0];
    const octal = (s: string) =>
      [...new TextEncoder().encode(s)].map((b) => (b < 0x80 ? String.fromCharCode(b) : `\\${b.toString(8)}`)).join("");
    const metrics = got.split(/^metric \{/m).slice(1);
    expect(metrics.length).toBe(cases.length);
    // protoc prints a family's metrics in the order written: sorted by label values, `a` first.
    const sorted = [...cases].sort((
      [a1, b1],
      [a2, b2],
    ) => (a1 < a2 ? -1 : a1 > a2 ? 1 : b1 < b2 ? -1 : b1 > b2 ? 1 : 0));
    metrics.forEach((m, i) => {
      const [a, b, v] = sorted[i];
      const pairs = [...m.matchAll(/name: "(\w+)"\s+value: "(.*)"/g)].map((p) => `${p[1]}=${p[2]}`);
      expect(pairs).toEqual([`a=${octal(a)}`, `b=${octal(b)}`, "k=const"]);
      expect(m).toContain(`gauge {\n    value: ${Number.isNaN(v) ? "nan" : v}\n`);
    });
  });

  test("classic histograms of 8, 9, 10 and 1,300 buckets: two bytes kept for the length from 9 buckets, every length the shortest varint", async () => {
    const d = newDesc("hist", "Hist.", ["n"]);
    const sizes = [8, 9, 10, 1300];
    const bucketsOf = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [(i + 1) / 4, i]));
    const bytes = await (async () => {
      const r = new Registry();
      r.register({
        name: "fixture",
        describe() {},
        collect: (ch) => sizes.forEach((n) => ch(mustNewConstHistogram(d, n, 1.5, bucketsOf(n), String(n)))),
      });
      return encodeBytes((await r.gather()).families, "protobuf");
    })();
    // Every length-delimited field down to the buckets: its length read back, and no
    // more bytes than that length needs (Go's bytes).
    const lengths: number[] = [];
    const walk = (b: Uint8Array, depth: number) => {
      let i = 0;
      const varint = () => {
        let v = 0, shift = 0, n = 0, x: number;
        do {
          x = b[i++];
          v += (x & 0x7f) * 2 ** shift;
          shift += 7;
          n++;
        } while (x >= 0x80);
        return [v, n];
      };
      while (i < b.length) {
        const [tag] = varint();
        const wire = tag & 7;
        if (wire === 0) varint();
        else if (wire === 1) i += 8;
        else {
          const [len, n] = varint();
          expect(n).toBe(Math.max(1, Math.ceil(Math.log2(len + 1) / 7)));
          lengths.push(len);
          // MetricFamily.metric (4), Metric.histogram (7): go down.
          if (depth < 2 && (tag >> 3) === (depth === 0 ? 4 : 7)) walk(b.subarray(i, i + len), depth + 1);
          i += len;
        }
      }
      expect(i).toBe(b.length);
    };
    const msgs = messages(bytes);
    expect(msgs.length).toBe(1);
    walk(msgs[0], 0);
    expect(
      lengths.some((l) => l < 128) && lengths.some((l) => l >= 128 && l < 16384) && lengths.some((l) => l >= 16384),
    )
      .toBe(true);
    const got = decode(msgs[0]);
    const metrics = got.split(/^metric \{/m).slice(1);
    expect(metrics.map((m) => m.match(/^ {4}bucket \{/gm)?.length)).toEqual([10, 1300, 8, 9]); // by label value
    expect(metrics[1]).toContain("cumulative_count: 1299\n      upper_bound: 325\n");
  });

  // A family's length prefix is written once its series are (one byte kept, the message
  // moved when the length needs more): for families of megabytes, written in steps of
  // 2,048 series, the prefix must be the shortest varint, as Go's, and the next message
  // must start where it says.
  for (
    const [layout, first, rest] of [
      ["short series (a 3-byte length)", 20, 20],
      ["long series after short ones (a 4-byte length)", 5, 2300],
      ["long series, then short ones (a 3-byte length)", 900, 1],
    ] as const
  ) {
    test(`a family of 3,000 series, ${layout}: its length prefix and the next message`, async () => {
      const big = newDesc("big", "Big.", ["v"]), after = newDesc("z_after", "After.");
      const value = (i: number) => (i < 2048 ? "a" + "x".repeat(first) : "b" + "y".repeat(rest)) + i.toString(36);
      const r = new Registry();
      r.register({
        name: "fixture",
        describe() {},
        collect(ch) {
          for (let i = 0; i < 3000; i++) ch(mustNewConstMetric(big, GaugeValue, i, value(i)));
          ch(mustNewConstMetric(after, GaugeValue, 7));
        },
      });
      const got = await r.gather();
      const bytes = encodeBytes(got.families, "protobuf");
      const msgs = messages(bytes);
      expect(msgs.length).toBe(2);
      // The shortest varint: the prefix is as long as the message's length needs.
      const prefix = bytes.length - msgs[0].length - msgs[1].length - 1;
      expect(prefix).toBe(Math.max(1, Math.ceil(Math.log2(msgs[0].length + 1) / 7)));
      const [bigText, afterText] = msgs.map(decode);
      expect(bigText.match(/^metric \{/gm)?.length).toBe(3000);
      expect(bigText).toContain(`value: "${value(2999)}"`);
      expect(afterText).toContain('name: "z_after"');
    });
  }

  test("label pairs around 127 bytes, ASCII and not, of gauges and counters: lengths right either side of the one-byte limit", async () => {
    // For a label `v`, a pair is 4 bytes of name and tags, the value's length and the value:
    // one length byte up to 122 bytes of value, two from 123.
    const values = [
      ...[0, 1, 40, 41, 122, 123, 200].map((k) => "a".repeat(k)),
      ...[1, 20, 40, 41, 61, 62].map((k) => "é".repeat(k)),
      ...[40, 41, 42].map((k) => "日".repeat(k)),
      "😀".repeat(30),
    ];
    const d = newDesc("pairs", "Pairs.", ["v"]);
    const octal = (s: string) =>
      [...new TextEncoder().encode(s)].map((b) => (b < 0x80 ? String.fromCharCode(b) : `\\${b.toString(8)}`)).join("");
    const gauges = await decoded((ch) => values.forEach((v, i) => ch(mustNewConstMetric(d, GaugeValue, i, v))));
    const counters = await decoded((ch) =>
      values.forEach((v, i) => ch(mustNewConstMetricWithCreatedTimestamp(d, CounterValue, i, new Date(T), v)))
    );
    for (const got of [gauges[0], counters[0]]) {
      const written = [...got.matchAll(/value: "(.*)"/g)].map((m) => m[1]);
      expect(written.sort()).toEqual(values.map(octal).sort());
    }
  });
});

// The kit server of e2e/native_histogram_test.ts: one native histogram with known
// observations (five of 1 and five of 3, through NativeHistogramState at schema 0, so
// buckets (0.5, 1] and (2, 4]) served as a const native histogram, and a gauge with
// OpenTelemetry's UTF-8 names; and a histogram with state (newHistogram with
// nativeHistogramBucketFactor) given the same observations. Serves handlerFor on 127.0.0.1:PORT (the argument) and
// prints "ready".
//   bun e2e/testdata/native_server.ts PORT
import process from "node:process";
import { newDesc } from "../../prometheus/desc.ts";
import { NativeHistogramState } from "../../prometheus/native_histogram.ts";
import { Registry } from "../../prometheus/registry.ts";
import { GaugeValue, mustNewConstMetric, mustNewConstNativeHistogram } from "../../prometheus/value.ts";
import { handlerFor } from "../../promhttp/handler.ts";
import { newHistogram } from "../../prometheus/histogram.ts";

const port = Number(process.argv[2]);
const state = new NativeHistogramState({ nativeHistogramBucketFactor: 2 });
for (const v of [1, 1, 1, 1, 1, 3, 3, 3, 3, 3]) state.observe(v);
const snap = state.snapshot();

/** Counts by bucket index from the snapshot's spans. */
function byIndex(spans: readonly { offset: number; length: number }[], counts: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  let index = 0, k = 0;
  for (const s of spans) {
    index += s.offset;
    for (let j = 0; j < s.length; j++) {
      if (counts[k] > 0) out.set(index, counts[k]);
      index++;
      k++;
    }
  }
  return out;
}

const latency = newDesc("e2e_latency_seconds", "Latency of the e2e fixture.");
const active = newDesc("http.server.active_requests", "OpenTelemetry's name.", ["service.name"]);
const registry = new Registry();
registry.mustRegister({
  name: "native",
  describe(ch) {
    ch(latency);
    ch(active);
  },
  collect(ch) {
    ch(mustNewConstNativeHistogram(
      latency,
      state.count,
      state.sum,
      byIndex(snap.positiveSpans, snap.positiveCounts),
      byIndex(snap.negativeSpans, snap.negativeCounts),
      snap.zeroCount,
      snap.schema,
      snap.zeroThreshold,
      state.createdTimestampMs,
    ));
    ch(mustNewConstMetric(active, GaugeValue, 7, "api"));
  },
});
// The same observations through the histogram with state: native buckets only.
const stateful = newHistogram({ name: "e2e_stateful_seconds", help: "The same, observed.", nativeHistogramBucketFactor: 2 });
for (const v of [1, 1, 1, 1, 1, 3, 3, 3, 3, 3]) stateful.observe(v);
registry.mustRegister(stateful);
const handler = handlerFor(registry, { registry: null });
const g = globalThis as {
  Bun?: { serve(o: { port: number; hostname: string; fetch: typeof handler }): unknown };
  Deno?: { serve(o: { port: number; hostname: string; onListen?: () => void }, h: typeof handler): unknown };
};
if (g.Bun) g.Bun.serve({ port, hostname: "127.0.0.1", fetch: handler });
else g.Deno!.serve({ port, hostname: "127.0.0.1", onListen: () => {} }, handler);
console.log("ready");

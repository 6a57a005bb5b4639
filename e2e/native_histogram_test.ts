// A real Prometheus (Debian's 2.42) scrapes a kit server serving a native histogram:
// with --enable-feature=native-histograms it asks for protobuf and stores the native
// buckets, so histogram_count, histogram_sum and histogram_quantile answer from
// them; without the flag it scrapes the text format, where the histogram is its count,
// sum and +Inf bucket and UTF-8 names arrive escaped with underscores.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { freePort, type Prometheus, ROOT, type Sample, startPrometheus, stopAll, waitFor } from "./_harness.ts";
import { Program } from "../testing/process.ts";

afterAll(() => stopAll());

/** The one value of an instant query once it has exactly one sample, within 20 s. */
async function valueOf(prom: Prometheus, promql: string): Promise<number> {
  const samples = await waitFor(`${promql} to have a sample`, async () => {
    const r: Sample[] = await prom.query(promql);
    return r.length === 1 ? r : undefined;
  }, { timeoutMs: 20_000 });
  return Number(samples[0].value[1]);
}

async function startServer(): Promise<{ server: Program; target: string }> {
  const port = freePort();
  const server = new Program(join(ROOT, "e2e/testdata/native_server.ts"), [String(port)]);
  await server.waitFor(/ready/);
  return { server, target: `127.0.0.1:${port}` };
}

describe("Prometheus 2.42 scrapes a native histogram", () => {
  test("with --enable-feature=native-histograms: over protobuf, count 10, sum 20, median 1", async () => {
    const { server, target } = await startServer();
    const prom = await startPrometheus("native", target, { flags: ["--enable-feature=native-histograms"] });
    try {
      // Five observations of 1 (bucket (0.5, 1]) and five of 3 (bucket (2, 4]): the
      // median's rank, 5, ends the first bucket, so interpolation gives its upper bound.
      expect(await valueOf(prom, "histogram_count(e2e_latency_seconds)")).toBe(10);
      expect(await valueOf(prom, "histogram_sum(e2e_latency_seconds)")).toBe(20);
      expect(await valueOf(prom, "histogram_quantile(0.5, e2e_latency_seconds)")).toBe(1);
      // newHistogram with native buckets, observed the same: the same answers.
      expect(await valueOf(prom, "histogram_count(e2e_stateful_seconds)")).toBe(10);
      expect(await valueOf(prom, "histogram_sum(e2e_stateful_seconds)")).toBe(20);
      expect(await valueOf(prom, "histogram_quantile(0.5, e2e_stateful_seconds)")).toBe(1);
      // The UTF-8 gauge came over protobuf escaped with underscores (no escaping= in 2.42's Accept).
      expect(await valueOf(prom, 'http_server_active_requests{service_name="api"}')).toBe(7);
    } finally {
      await prom.stop();
      await server.stop();
    }
  }, 60_000);

  test("without the flag: the text format, the histogram as count, sum and +Inf bucket, names escaped", async () => {
    const { server, target } = await startServer();
    const prom = await startPrometheus("text", target);
    try {
      expect(await valueOf(prom, "e2e_latency_seconds_count")).toBe(10);
      expect(await valueOf(prom, "e2e_latency_seconds_sum")).toBe(20);
      expect(await valueOf(prom, 'e2e_latency_seconds_bucket{le="+Inf"}')).toBe(10);
      expect(await valueOf(prom, 'http_server_active_requests{service_name="api"}')).toBe(7);
      // A native histogram is not what text carries: no histogram_count from it.
      expect(await prom.query("histogram_count(e2e_latency_seconds)")).toEqual([]);
    } finally {
      await prom.stop();
      await server.stop();
    }
  }, 60_000);
});

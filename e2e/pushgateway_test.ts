// The Pushgateway client end to end (issue 17): push/ against Debian's real
// prometheus-pushgateway, started here on 127.0.0.1, scraped by a real Prometheus
// (honor_labels, as a Pushgateway scrape is configured). Pushed values reach
// Prometheus; PUT replaces the group, POST only the families pushed; DELETE removes
// the group; a gateway refusing or down is a clear error.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newCounter } from "../prometheus/counter.ts";
import { newGauge } from "../prometheus/gauge.ts";
import { newPusher } from "../push/mod.ts";
import { freePort, get, Proc, type Prometheus, startPrometheus, stopAll, waitFor } from "./_harness.ts";
import { waitReady } from "../testing/process.ts";

const PUSHGATEWAY = "/usr/bin/prometheus-pushgateway";

let gateway: Proc;
let gatewayURL: string;
let prom: Prometheus;

beforeAll(async () => {
  const address = `127.0.0.1:${freePort()}`;
  gatewayURL = `http://${address}`;
  // No persistence file: nothing outlives the test.
  gateway = new Proc("pushgateway", PUSHGATEWAY, [
    `--web.listen-address=${address}`,
    "--persistence.file=",
    "--log.level=warn",
  ]);
  await waitReady(`${gatewayURL}/-/ready`, gateway, { timeoutMs: 15_000 });
  prom = await startPrometheus("pushgateway", address, { honorLabels: true });
}, 40_000);

afterAll(stopAll, 20_000);

/** The gateway's own exposition. */
async function gatewayText(): Promise<string> {
  const res = await get(`${gatewayURL}/metrics`);
  return await res.text();
}

/** Waits (15 s at most) until `promql` gives `want` (values as strings, by `by` label), or nothing when `want` is empty. */
async function expectQuery(promql: string, want: Record<string, string>, by = "job"): Promise<void> {
  await waitFor(`${promql} to be ${JSON.stringify(want)}`, async () => {
    const got: Record<string, string> = {};
    for (const s of await prom.query(promql)) got[s.metric[by] ?? ""] = s.value[1];
    return JSON.stringify(got) === JSON.stringify(want) ? true : undefined;
  }, { timeoutMs: 15_000, pollMs: 250 });
}

describe("push/ against a real Pushgateway and Prometheus", () => {
  test("pushed values reach Prometheus, with the job and a base64-encoded grouping value", async () => {
    const done = newCounter({ name: "e2e_batch_records_total", help: "Records processed." });
    done.add(42);
    const last = newGauge({ name: "e2e_batch_last_success_seconds", help: "Last success." });
    last.set(1700000000);
    await newPusher(gatewayURL, "e2e_batch").collector(done).collector(last).grouping("path", "/var/data").grouping(
      "db",
      "a b",
    ).push();
    const text = await gatewayText();
    expect(text).toContain('e2e_batch_records_total{db="a b",instance="",job="e2e_batch",path="/var/data"} 42');
    await expectQuery('e2e_batch_records_total{path="/var/data",db="a b"}', { e2e_batch: "42" });
    await expectQuery("e2e_batch_last_success_seconds", { e2e_batch: "1700000000" });
  }, 30_000);

  test("add (POST) replaces only the families pushed; push (PUT) replaces the group", async () => {
    const a = newGauge({ name: "e2e_family_a", help: "A." });
    const b = newGauge({ name: "e2e_family_b", help: "B." });
    a.set(1);
    b.set(2);
    const pusher = () => newPusher(gatewayURL, "e2e_semantics");
    await pusher().collector(a).collector(b).push();
    a.set(10);
    await pusher().collector(a).add(); // b is kept
    await expectQuery("e2e_family_a", { e2e_semantics: "10" });
    await expectQuery("e2e_family_b", { e2e_semantics: "2" });
    a.set(100);
    await pusher().collector(a).push(); // b is gone
    expect(await gatewayText()).not.toContain("e2e_family_b{");
    await expectQuery("e2e_family_a", { e2e_semantics: "100" });
    await expectQuery("e2e_family_b", {});
  }, 40_000);

  test("delete removes the group, from the gateway and then from Prometheus", async () => {
    const g = newGauge({ name: "e2e_deleted", help: "Deleted soon." });
    g.set(7);
    await newPusher(gatewayURL, "e2e_delete").grouping("instance", "x1").collector(g).push();
    await expectQuery("e2e_deleted", { e2e_delete: "7" });
    await newPusher(gatewayURL, "e2e_delete").grouping("instance", "x1").delete();
    expect(await gatewayText()).not.toContain("e2e_deleted{");
    await expectQuery("e2e_deleted", {});
  }, 40_000);

  test("a push the gateway refuses is an error with its status and answer", async () => {
    const asCounter = newCounter({ name: "e2e_conflict", help: "Conflict." });
    await newPusher(gatewayURL, "e2e_conflict_1").collector(asCounter).push();
    const asGauge = newGauge({ name: "e2e_conflict", help: "Conflict." });
    // The same family as another type in another group: the gateway answers 400.
    const err = await newPusher(gatewayURL, "e2e_conflict_2").collector(asGauge).push().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(
      new RegExp(
        `^unexpected status code 400 while pushing to ${gatewayURL}/metrics/job/e2e_conflict_2: .*inconsistent`,
      ),
    );
  }, 20_000);

  test("a gateway that is down is an error naming the URL", async () => {
    const url = `http://127.0.0.1:${freePort()}`;
    const g = newGauge({ name: "e2e_nowhere", help: "h" });
    const err = await newPusher(url, "j").collector(g).push().then(() => undefined, (e: Error) => e);
    expect(err?.message).toStartWith(`pushing to ${url}/metrics/job/j failed: `);
    const del = await newPusher(url, "j").delete().then(() => undefined, (e: Error) => e);
    expect(del?.message).toStartWith(`deleting ${url}/metrics/job/j failed: `);
  }, 20_000);
});

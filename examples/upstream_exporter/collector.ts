// upstreamCollector: reads the upstream's JSON status document on every scrape and
// exports its queues. The document looks like
//
//   {"version": "1.4.2", "queues": [{"name": "default", "depth": 3, "processed": 120, "failed": 2}]}
import {
  type Collector,
  CounterValue,
  type Desc,
  GaugeValue,
  type Metric,
  mustNewConstMetric,
  newDesc,
} from "@ts-exporter-kit/kit/prometheus";
import type { Logger } from "@ts-exporter-kit/kit/web";

/** One queue of the upstream's status document. */
interface Queue {
  readonly name: string;
  readonly depth: number;
  readonly processed: number;
  readonly failed: number;
}

/** The upstream's status document, checked field by field. */
export interface Status {
  readonly version: string;
  readonly queues: readonly Queue[];
}

/** Checks the parsed JSON; the error names the field that is wrong. */
export function parseStatus(doc: unknown): Status {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(doc)) throw new Error("the document is not a JSON object");
  if (typeof doc.version !== "string") throw new Error(`"version" is not a string`);
  if (!Array.isArray(doc.queues)) throw new Error(`"queues" is not an array`);
  const queues = doc.queues.map((q: unknown, i: number): Queue => {
    if (!isObject(q) || typeof q.name !== "string") throw new Error(`"queues[${i}].name" is not a string`);
    for (const k of ["depth", "processed", "failed"] as const) {
      if (typeof q[k] !== "number") throw new Error(`"queues[${i}].${k}" is not a number`);
    }
    return { name: q.name, depth: q.depth as number, processed: q.processed as number, failed: q.failed as number };
  });
  return { version: doc.version, queues };
}

/**
 * Exports the upstream's queues. `collect` fetches the document with the scrape's
 * AbortSignal, so that a slow upstream is abandoned at the scrape's deadline (or at
 * `timeoutMs`, --upstream.timeout) instead of piling up requests. A failed fetch or a
 * document of the wrong shape fails the collector: the scrape still answers, with
 * `upstream_exporter_scrape_collector_success{collector="upstream"} 0`.
 */
export class UpstreamCollector implements Collector {
  readonly name = "upstream";
  readonly #info: Desc = newDesc("upstream_info", "The upstream's version; always 1.", ["version"]);
  readonly #depth: Desc = newDesc("upstream_queue_depth", "Jobs waiting in the queue.", ["queue"]);
  readonly #processed: Desc = newDesc("upstream_queue_processed_total", "Jobs the queue has processed.", ["queue"]);
  readonly #failed: Desc = newDesc("upstream_queue_failed_total", "Jobs of the queue that failed.", ["queue"]);

  constructor(readonly url: string, readonly timeoutMs: number, readonly logger: Logger) {}

  describe(ch: (d: Desc) => void): void {
    ch(this.#info);
    ch(this.#depth);
    ch(this.#processed);
    ch(this.#failed);
  }

  async collect(ch: (m: Metric) => void, signal: AbortSignal): Promise<void> {
    const res = await fetch(this.url, { signal, headers: { Accept: "application/json" } });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`GET ${this.url}: ${res.status} ${res.statusText}`);
    }
    let status: Status;
    try {
      status = parseStatus(await res.json());
    } catch (e) {
      throw new Error(`GET ${this.url}: ${e instanceof Error ? e.message : e}`);
    }
    this.logger.debug("read the upstream's status", { url: this.url, queues: status.queues.length });
    ch(mustNewConstMetric(this.#info, GaugeValue, 1, status.version));
    for (const q of status.queues) {
      ch(mustNewConstMetric(this.#depth, GaugeValue, q.depth, q.name));
      ch(mustNewConstMetric(this.#processed, CounterValue, q.processed, q.name));
      ch(mustNewConstMetric(this.#failed, CounterValue, q.failed, q.name));
    }
  }
}

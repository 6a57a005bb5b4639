// What the end-to-end suite adds to the process harness of testing/process.ts: the
// exporter started on a free port and awaited until ready, and a throwaway Prometheus
// server. Every wait here has a deadline.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { get } from "../testing/http.ts";
import { freePort, Proc, stopAll as stopProcs, waitReady } from "../testing/process.ts";

export { get, PROMETHEUS_ACCEPT } from "../testing/http.ts";
export {
  builtExporter,
  DEBIAN_PYTHON,
  DENO,
  denoPerms,
  type Exit,
  freePort,
  Proc,
  ROOT,
  run,
  type RunResult,
  waitFor,
} from "../testing/process.ts";

const tempDirs = new Set<string>();

/** Stops every process the suite started that is still running; removes its temp dirs. */
export async function stopAll(): Promise<void> {
  await stopProcs();
  await Promise.all([...tempDirs].map((d) => rm(d, { recursive: true, force: true })));
  tempDirs.clear();
}

/** A running exporter. */
export interface Exporter {
  readonly proc: Proc;
  /** `127.0.0.1:PORT`, the value of --web.listen-address and of a scrape target. */
  readonly address: string;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
}

/**
 * Starts an exporter with `command(listenAddress)` on a free port and waits (15 s at
 * most) until /-/ready answers 200, i.e. until every listener is up.
 */
export async function startExporter(name: string, command: (listenFlag: string) => string[]): Promise<Exporter> {
  const address = `127.0.0.1:${freePort()}`;
  const [cmd, ...args] = command(`--web.listen-address=${address}`);
  const proc = new Proc(name, cmd, args);
  const url = `http://${address}`;
  await waitReady(`${url}/-/ready`, proc, { timeoutMs: 15_000 });
  return { proc, address, url };
}

/** One sample of an instant-query result. */
export interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** A throwaway Prometheus server scraping one job every second. */
export interface Prometheus {
  readonly proc: Proc;
  readonly url: string;
  /** Runs an instant query; throws unless the API answers success with a vector. */
  query(promql: string): Promise<Sample[]>;
  /** Stops the server and removes its configuration and TSDB. */
  stop(): Promise<void>;
}

/**
 * Starts Debian's Prometheus (2.x) with a temporary config and TSDB, scraping
 * `target` as `job` every second, and waits (20 s at most) until /-/ready is 200.
 * `honorLabels` keeps the target's own `job` and `instance` labels, as a Pushgateway
 * scrape is configured; `flags` are added to its command line
 * (`--enable-feature=native-histograms`, say).
 */
export async function startPrometheus(
  job: string,
  target: string,
  opts: { honorLabels?: boolean; flags?: readonly string[] } = {},
): Promise<Prometheus> {
  const dir = await mkdtemp(join(tmpdir(), "e2e-prometheus-"));
  tempDirs.add(dir);
  const config = join(dir, "prometheus.yml");
  await writeFile(
    config,
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: ${JSON.stringify(job)}
    honor_labels: ${opts.honorLabels === true}
    static_configs:
      - targets: [${JSON.stringify(target)}]
`,
  );
  const url = `http://127.0.0.1:${freePort()}`;
  const proc = new Proc("prometheus", "prometheus", [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=${url.slice("http://".length)}`,
    "--log.level=warn",
    ...(opts.flags ?? []),
  ]);
  const stop = async () => {
    await proc.stop();
    await rm(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  };
  try {
    await waitReady(`${url}/-/ready`, proc, { timeoutMs: 20_000 });
  } catch (e) {
    await stop();
    throw e;
  }
  const query = async (promql: string): Promise<Sample[]> => {
    const res = await get(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
    const body = await res.json() as {
      status: string;
      error?: string;
      data?: { resultType: string; result: Sample[] };
    };
    if (body.status !== "success" || body.data?.resultType !== "vector") {
      throw new Error(`query ${promql}: ${res.status} ${JSON.stringify(body)}`);
    }
    return body.data.result;
  };
  return { proc, url, query, stop };
}

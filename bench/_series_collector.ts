// The Go reference's `-series N` collector (bench/go/main.go): one gauge family, N label sets, built fresh with
// mustNewConstMetric on every scrape. Shared by series_server.ts and profile_series.ts.
import { type Collector, type Desc, GaugeValue, type Metric, mustNewConstMetric, newDesc } from "../prometheus/mod.ts";

/**
 * Emits `bench_series{id="item-<i>",zone="zone-<i mod 16>"} i*0.5` for i < n, as the Go
 * Go reference's series collector does. The label strings are built once, as in the Go reference, so
 * a scrape measures the library rather than string concatenation in the collector.
 */
export class SeriesCollector implements Collector {
  readonly name = "bench_series";
  readonly desc: Desc = newDesc("bench_series", "Synthetic series for scale benchmarks.", ["id", "zone"]);
  readonly #ids: string[] = [];
  readonly #zones: string[] = [];

  constructor(readonly n: number) {
    for (let i = 0; i < n; i++) {
      this.#ids.push(`item-${i}`);
      this.#zones.push(`zone-${i % 16}`);
    }
  }

  describe(ch: (d: Desc) => void): void {
    ch(this.desc);
  }

  collect(ch: (m: Metric) => void): void {
    const ids = this.#ids, zones = this.#zones, desc = this.desc;
    for (let i = 0; i < this.n; i++) ch(mustNewConstMetric(desc, GaugeValue, i * 0.5, ids[i], zones[i]));
  }
}

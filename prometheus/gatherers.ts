import { dropSuffixCollisions, FamilyBuilder, GatherError, type MetricFamily } from "./_family.ts";
import type { CollectorResult, Gathered, Gatherer, GatherOptions } from "./registry.ts";

/**
 * Several gatherers served as one, as Go's `prometheus.Gatherers`: their families
 * merged by name, sorted, and checked as one registry would check them. A family
 * whose help or type differs from the first gatherer's of that name is left out and
 * reported; so are series that two gatherers both send (same name and labels), and
 * a family whose name collides with a histogram's or summary's `_bucket`, `_count`
 * or `_sum`. Each gatherer's own errors come through prefixed `[from Gatherer #n]`.
 *
 * @example
 * ```ts
 * const app = new Registry();
 * const all = new Gatherers([defaultRegistry, app]);
 * serve(handlerFor(all));
 * ```
 */
export class Gatherers implements Gatherer {
  /** The gatherers, in the order their families and errors are merged. */
  readonly gatherers: readonly Gatherer[];

  /** Serves `gatherers` as one. */
  constructor(gatherers: readonly Gatherer[]) {
    this.gatherers = [...gatherers];
  }

  /** Gathers from every gatherer at once (with the same options) and merges the results. */
  async gather(options: GatherOptions = {}): Promise<Gathered> {
    const results = await Promise.allSettled(this.gatherers.map((g) => g.gather(options)));
    const errors: GatherError[] = [];
    const collectors: CollectorResult[] = [];
    const dones: (() => void)[] = [];
    /** Per name: the families that gatherers sent, with the gatherer's number. */
    const byName = new Map<string, { family: MetricFamily; from: number }[]>();
    results.forEach((r, i) => {
      const from = `[from Gatherer #${i + 1}]`;
      if (r.status === "rejected") {
        const e = r.reason instanceof Error ? r.reason : new Error(String(r.reason));
        errors.push(new GatherError(`gatherer #${i + 1}`, `${from} ${e.message}`, undefined, { cause: e }));
        return;
      }
      const g = r.value;
      dones.push(g.done);
      collectors.push(...g.collectors);
      for (const e of g.errors) {
        errors.push(new GatherError(e.collector, `${from} ${e.message}`, e.family, { cause: e }));
      }
      for (const family of g.families) {
        const seen = byName.get(family.name);
        if (!seen) {
          byName.set(family.name, [{ family, from: i }]);
          continue;
        }
        const first = seen[0].family;
        if (family.help !== first.help) {
          errors.push(
            new GatherError(
              `gatherer #${i + 1}`,
              `gathered metric family ${family.name} has help ${JSON.stringify(family.help)} but should have ${
                JSON.stringify(first.help)
              }`,
              family.name,
            ),
          );
        } else if (family.type !== first.type) {
          errors.push(
            new GatherError(
              `gatherer #${i + 1}`,
              `gathered metric family ${family.name} has type ${family.type} but should have ${first.type}`,
              family.name,
            ),
          );
        } else seen.push({ family, from: i });
      }
    });
    const families: MetricFamily[] = [];
    const memos = new Map();
    for (const [name, parts] of byName) {
      // From one gatherer: as it was gathered (sorted and checked there).
      if (parts.length === 1) {
        families.push(parts[0].family);
        continue;
      }
      const b = new FamilyBuilder(parts[0].family.desc, parts[0].family.type);
      for (const { family, from } of parts) {
        b.owners.push({ from: b.metrics.length, name: `gatherer #${from + 1}` });
        for (const m of family.metrics) b.metrics.push(m);
      }
      const merged = await b.finish(memos);
      if (merged) families.push(merged);
      else if (b.error) errors.push(new GatherError(b.error.collector, b.error.message, name));
    }
    families.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    dropSuffixCollisions(families, errors);
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      for (const d of dones) d();
    };
    return { families, errors, collectors, done };
  }
}

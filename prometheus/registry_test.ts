import { describe, expect, test } from "bun:test";
import { type Collector, markExporterMetrics } from "./collector.ts";
import { newCounterVec } from "./counter.ts";
import { type Desc, newDesc } from "./desc.ts";
import {
  AlreadyRegisteredError,
  type Gathered,
  GatherError,
  Registry,
  type ResultCollector,
  UnknownCollectorError,
} from "./registry.ts";
import {
  CounterValue,
  GaugeValue,
  type Metric,
  mustNewConstHistogram,
  mustNewConstMetric,
  newInvalidMetric,
} from "./value.ts";

type Ch = (m: Metric) => void;

/** A collector that describes `descs` (none makes it unchecked) and runs `collect`. */
function collector(
  name: string,
  descs: Desc[],
  collect: (ch: Ch, signal: AbortSignal) => void | Promise<void> = () => {},
  timeoutMs?: number,
): Collector {
  return {
    name,
    timeoutMs,
    describe(ch) {
      for (const d of descs) ch(d);
    },
    collect,
  };
}

const okDesc = newDesc("ok_metric", "Always there.");
/** A healthy collector, to show that a failure elsewhere leaves it served. */
const okCollector = () => collector("ok", [okDesc], (ch) => ch(mustNewConstMetric(okDesc, GaugeValue, 1)));

function registerError(r: Registry, c: Collector): string {
  try {
    r.register(c);
    return "no error";
  } catch (e) {
    return (e as Error).message;
  }
}

function familyNames(g: Gathered): string[] {
  return g.families.map((f) => f.name);
}

/** `collector|family|message` of each error, for whole-value comparisons. */
function errorSummaries(g: Gathered): string[] {
  return g.errors.map((e) => `${e.collector}|${e.family ?? ""}|${e.message}`);
}

function success(g: Gathered): Record<string, boolean> {
  return Object.fromEntries(g.collectors.map((c) => [c.name, c.success]));
}

/** A promise and the function that resolves it, as client_golang's blocking collector. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe("Registry.register rejects invalid and conflicting descriptors", () => {
  // `culprit` is the metric (or, for an equal collector, the collector) the error
  // message must name.
  const cases: { name: string; before?: Collector[]; collector: Collector; culprit: string; want: RegExp }[] = [
    {
      name: "empty metric name",
      collector: collector("c", [newDesc("", "Foo.")]),
      culprit: "",
      want: /descriptor .* is invalid: "" is not a valid metric name/,
    },
    {
      name: "metric name that is not valid UTF-8",
      collector: collector("c", [newDesc("0day\uD800", "Zero.")]),
      culprit: "0day\\ud800",
      want: /is invalid: "0day\\ud800" is not a valid metric name/,
    },
    {
      name: "label name with __ prefix",
      collector: collector("c", [newDesc("m1", "M.", ["__meta"])]),
      culprit: "m1",
      want: /is invalid: metric "m1": "__meta" is not a valid label name/,
    },
    {
      name: "empty variable label name",
      collector: collector("c", [newDesc("m2", "M.", [""])]),
      culprit: "m2",
      want: /is invalid: metric "m2": "" is not a valid label name/,
    },
    {
      name: "invalid const label name",
      collector: collector("c", [newDesc("m3", "M.", [], { "__9lives": "x" })]),
      culprit: "m3",
      want: /is invalid: metric "m3": "__9lives" is not a valid label name/,
    },
    {
      name: "duplicate variable label",
      collector: collector("c", [newDesc("m4", "M.", ["code", "code"])]),
      culprit: "m4",
      want: /is invalid: metric "m4": duplicate label name "code"/,
    },
    {
      name: "const and variable label overlap",
      collector: collector("c", [newDesc("m5", "M.", ["env"], { env: "prod" })]),
      culprit: "m5",
      want: /is invalid: metric "m5": duplicate label name "env"/,
    },
    {
      name: "const label value with a lone surrogate",
      collector: collector("c", [newDesc("m6", "M.", [], { env: "\uD800prod" })]),
      culprit: "m6",
      want: /is invalid: metric "m6": constant label env has a value that is not a valid UTF-8 string/,
    },
    {
      name: "help with a lone surrogate",
      collector: collector("c", [newDesc("m7", "Broken \uDFFF help.")]),
      culprit: "m7",
      want: /is invalid: metric "m7": help text is not valid UTF-8/,
    },
    {
      name: "invalid Desc after valid ones in the same collector",
      collector: collector("c", [newDesc("fine", "Fine."), newDesc("m8", "M.", ["__"])]),
      culprit: "m8",
      want: /is invalid: metric "m8": "__" is not a valid label name/,
    },
    {
      name: "same name and const labels across collectors",
      before: [collector("first", [newDesc("dup", "Dup.", ["a"], { env: "prod" })])],
      collector: collector("second", [newDesc("other", "Other."), newDesc("dup", "Dup.", ["a"], { env: "prod" })]),
      culprit: "dup",
      want: /collector second: descriptor .* already exists with the same fully-qualified name and const label values/,
    },
    {
      name: "same name, different help",
      before: [collector("first", [newDesc("helped", "One help.")])],
      collector: collector("second", [newDesc("helped", "Another help.", [], { shard: "2" })]),
      culprit: "helped",
      want:
        /collector second: a previously registered descriptor with the same fully-qualified name as .* has different label names or a different help string/,
    },
    {
      name: "same name, different label names",
      before: [collector("first", [newDesc("labelled", "L.", ["code"], { shard: "1" })])],
      collector: collector("second", [newDesc("labelled", "L.", ["method"], { shard: "2" })]),
      culprit: "labelled",
      want: /has different label names or a different help string/,
    },
    {
      name: "same name, different label names within one collector",
      collector: collector("c", [newDesc("twice", "T.", ["a"], { s: "1" }), newDesc("twice", "T.", ["b"], { s: "2" })]),
      culprit: "twice",
      want: /has different label names or a different help string/,
    },
    {
      name: "equal collector registered again",
      before: [collector("first", [newDesc("same_a", "A."), newDesc("same_b", "B.")])],
      collector: collector("second", [newDesc("same_b", "B."), newDesc("same_a", "A.")]),
      culprit: "second",
      want: /duplicate metrics collector registration attempted: collector second describes the same metrics as first/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = new Registry();
      for (const b of c.before ?? []) r.register(b);
      const got = registerError(r, c.collector);
      const named = got.includes(`"${c.culprit}"`) || got.includes(` ${c.culprit} `);
      if (!c.want.test(got) || !named) {
        throw new Error(`got error ${JSON.stringify(got)}, want one matching ${c.want} and naming ${c.culprit}`);
      }
      // A refused collector leaves the registry as it was.
      expect(r.collectors().map((e): string | undefined => e.name)).toEqual((c.before ?? []).map((b) => b.name));
    });
  }

  test("AlreadyRegisteredError carries the collector registered before", () => {
    const r = new Registry();
    const d = newDesc("x", "X.");
    const first = collector("first", [d]);
    const second = collector("second", [d]);
    r.register(first);
    let err: unknown;
    try {
      r.register(second);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AlreadyRegisteredError);
    expect((err as AlreadyRegisteredError).existingCollector).toBe(first);
    expect((err as AlreadyRegisteredError).newCollector).toBe(second);
  });

  test("the same unchecked collector cannot be registered twice", () => {
    const r = new Registry();
    const c = collector("unchecked", []);
    r.register(c);
    expect(() => r.register(c)).toThrow(AlreadyRegisteredError);
    // Another unchecked collector is fine: nothing can be checked at registration.
    r.register(collector("unchecked2", []));
  });

  test("describing one Desc twice in a collector is a no-op, as in client_golang", () => {
    const d = newDesc("twice_described", "T.");
    expect(registerError(new Registry(), collector("c", [d, d]))).toBe("no error");
  });

  test("same name with other const label values, same help and label names, is allowed", () => {
    const r = new Registry();
    r.register(collector("a", [newDesc("shared", "S.", ["code"], { shard: "1" })]));
    expect(registerError(r, collector("b", [newDesc("shared", "S.", ["code"], { shard: "2" })]))).toBe("no error");
  });

  test("mustRegister throws on the first failure", () => {
    const r = new Registry();
    expect(() => r.mustRegister(okCollector(), collector("bad", [newDesc("", "AB.")]))).toThrow(
      `"" is not a valid metric name`,
    );
  });
});

describe("Registry.register requires an explicit, unique collector name", () => {
  class FooCollector implements Collector {
    constructor(readonly name?: string) {}
    describe(ch: (d: Desc) => void) {
      ch(newDesc(`foo_${this.name ?? "x"}`.replace(/[^a-z_]/g, "_"), "Foo."));
    }
    collect() {}
  }
  // Minified, a class is renamed: the name a registry would derive from it means nothing.
  const Qe = class extends FooCollector {};

  const cases: { name: string; collector: Collector; want: string }[] = [
    {
      name: "a class without a name",
      collector: new FooCollector(),
      want: "a collector (class FooCollector) has no name",
    },
    { name: "a minified class without a name", collector: new Qe(), want: "a collector (class Qe) has no name" },
    { name: "an object without a name", collector: { describe() {}, collect() {} }, want: "a collector has no name" },
    { name: "an empty name", collector: new FooCollector(""), want: "has no name" },
    {
      name: "a name that cannot be a flag",
      collector: new FooCollector("a b"),
      want: 'collector "a b" (class FooCollector) has an invalid name "a b"',
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = new Registry();
      expect(registerError(r, c.collector)).toContain(c.want);
      expect(r.collectors()).toEqual([]);
    });
  }

  test("two collectors with one name: refused, naming both", () => {
    const r = new Registry();
    r.register(new FooCollector("foo"));
    const other = collector("foo", [newDesc("other_metric", "Other.")]);
    expect(registerError(r, other)).toBe(
      'two collectors named "foo": collector "foo" (class FooCollector), registered first, and collector "foo"; collector names must be unique in a registry',
    );
    expect(r.collectors().map((e) => e.name)).toEqual(["foo"]);
  });

  test("a name freed by unregister may be taken again", () => {
    const r = new Registry();
    const first = new FooCollector("foo");
    r.register(first);
    r.unregister(first);
    expect(registerError(r, collector("foo", [newDesc("other_metric", "Other.")]))).toBe("no error");
  });
});

describe("Registry.unregister", () => {
  test("removes the collector from gathers and allows it to be registered again", async () => {
    const r = new Registry();
    const c = okCollector();
    r.register(c);
    expect(r.unregister(c)).toBe(true);
    expect(r.unregister(c)).toBe(false);
    expect(familyNames(await r.gather())).toEqual([]);
    r.register(c);
    expect(familyNames(await r.gather())).toEqual(["ok_metric"]);
  });

  test("an equal collector unregisters the one registered, as in client_golang", () => {
    const r = new Registry();
    const d = newDesc("x", "X.");
    r.register(collector("a", [d]));
    expect(r.unregister(collector("b", [d]))).toBe(true);
    expect(r.collectors()).toEqual([]);
  });

  test("frees the name for a Desc with other help", () => {
    const r = new Registry();
    const old = collector("old", [newDesc("renamed", "Old help.")]);
    r.register(old);
    r.unregister(old);
    expect(registerError(r, collector("new", [newDesc("renamed", "New help.")]))).toBe("no error");
  });

  test("keeps the name taken while another collector still uses it", () => {
    const r = new Registry();
    const a = collector("a", [newDesc("kept", "K.", [], { shard: "1" })]);
    r.register(a);
    r.register(collector("b", [newDesc("kept", "K.", [], { shard: "2" })]));
    r.unregister(a);
    expect(registerError(r, collector("c", [newDesc("kept", "Other.", [], { shard: "3" })]))).toMatch(
      /different label names or a different help string/,
    );
  });
});

describe("Registry.gather drops and reports inconsistent families", () => {
  const x = newDesc("x", "A histogram.");
  const xCount = newDesc("x_count", "A gauge in the histogram's way.");
  const dupDesc = newDesc("dup", "Duplicated.", ["code"]);
  const shared = newDesc("shared", "Shared.");
  const mixedGauge = newDesc("mixed", "Mixed.");
  const mixedOther = newDesc("mixed", "Other.");
  const described = newDesc("described", "Described.");
  const sneaky = newDesc("sneaky", "Not described.");
  const temp = newDesc("temp_celsius", "Temperature.");
  const humidity = newDesc("humidity_ratio", "Humidity.");

  const cases: {
    name: string;
    collectors: Collector[];
    wantFamilies: string[];
    wantError: string;
    wantSuccess?: Record<string, boolean>;
  }[] = [
    {
      name: "duplicate series from one collector",
      collectors: [
        collector("dupper", [dupDesc], (ch) => {
          ch(mustNewConstMetric(dupDesc, GaugeValue, 1, "200"));
          ch(mustNewConstMetric(dupDesc, GaugeValue, 2, "200"));
        }),
      ],
      wantFamilies: ["ok_metric"],
      wantError:
        `dupper|dup|collector dupper: collected metric dup{code="200"} was collected before with the same name and label values`,
    },
    {
      name: "duplicate series from two collectors",
      collectors: [
        collector("a", [shared], (ch) => ch(mustNewConstMetric(shared, GaugeValue, 1))),
        collector("b", [], (ch) => ch(mustNewConstMetric(shared, GaugeValue, 1))),
      ],
      wantFamilies: ["ok_metric"],
      wantError:
        `b|shared|collector b: collected metric shared{} was collected before with the same name and label values`,
    },
    {
      name: "duplicate series among series whose label values tie",
      collectors: [
        collector("loose", [], (ch) => {
          ch(mustNewConstMetric(newDesc("tie", "T.", ["a"]), GaugeValue, 1, "1"));
          ch(mustNewConstMetric(newDesc("tie", "T.", ["b"]), GaugeValue, 1, "1"));
          ch(mustNewConstMetric(newDesc("tie", "T.", ["a"]), GaugeValue, 1, "1"));
        }),
      ],
      wantFamilies: ["ok_metric"],
      wantError:
        `loose|tie|collector loose: collected metric tie{a="1"} was collected before with the same name and label values`,
    },
    {
      name: "type mismatch between collectors",
      collectors: [
        collector("a", [], (ch) => ch(mustNewConstMetric(mixedGauge, GaugeValue, 1))),
        collector("b", [], (ch) => ch(mustNewConstMetric(mixedGauge, CounterValue, 1))),
      ],
      wantFamilies: ["ok_metric"],
      wantError: `b|mixed|collector b: collected metric mixed has type counter but should have gauge`,
    },
    {
      name: "help mismatch from unchecked collectors",
      collectors: [
        collector("a", [], (ch) => ch(mustNewConstMetric(mixedGauge, GaugeValue, 1))),
        collector("b", [], (ch) => ch(mustNewConstMetric(mixedOther, GaugeValue, 2))),
      ],
      wantFamilies: ["ok_metric"],
      wantError: `b|mixed|collector b: collected metric mixed has help "Other." but should have "Mixed."`,
    },
    {
      name: "metric from a Desc the checked collector did not describe",
      collectors: [
        collector("checked", [described], (ch) => {
          ch(mustNewConstMetric(described, GaugeValue, 1));
          ch(mustNewConstMetric(sneaky, GaugeValue, 1));
        }),
      ],
      wantFamilies: ["described", "ok_metric"],
      wantError: `checked|sneaky|collector checked: collected metric sneaky with unregistered descriptor ${sneaky}`,
    },
    {
      name: "histogram x and gauge x_count",
      collectors: [
        collector("h", [], (ch) => {
          ch(mustNewConstHistogram(x, 1, 1, { 1: 1 }));
          ch(mustNewConstMetric(xCount, GaugeValue, 7));
        }),
      ],
      wantFamilies: ["ok_metric", "x"],
      // The registry finds the collision after merging all collectors' families.
      wantError: `registry|x_count|collected metric named x_count collides with previously collected histogram named x`,
    },
    {
      name: "an invalid metric drops only its family",
      collectors: [
        collector("sensor", [temp, humidity], (ch) => {
          ch(newInvalidMetric(temp, new Error("sensor unreachable")));
          ch(mustNewConstMetric(humidity, GaugeValue, 0.4));
        }),
      ],
      wantFamilies: ["humidity_ratio", "ok_metric"],
      wantError: `sensor|temp_celsius|collector sensor: metric temp_celsius: sensor unreachable`,
      wantSuccess: { ok: true, sensor: false },
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const r = new Registry();
      r.mustRegister(okCollector(), ...c.collectors);
      const got = await r.gather();
      expect(familyNames(got)).toEqual(c.wantFamilies);
      expect(errorSummaries(got)).toEqual([c.wantError]);
      expect(got.errors[0]).toBeInstanceOf(GatherError);
      if (c.wantSuccess) expect(success(got)).toEqual(c.wantSuccess);
    });
  }
});

describe("Registry.gather contains failing collectors", () => {
  const d = newDesc("partial", "Sent before the failure.");

  test("a collect that throws is left out and reported, what it sent discarded", async () => {
    const r = new Registry();
    r.mustRegister(
      okCollector(),
      collector("thrower", [d], (ch) => {
        ch(mustNewConstMetric(d, GaugeValue, 1));
        throw new Error("disk on fire");
      }),
    );
    const got = await r.gather();
    expect(familyNames(got)).toEqual(["ok_metric"]);
    expect(errorSummaries(got)).toEqual(["thrower||collector thrower failed: disk on fire"]);
    expect((got.errors[0].cause as Error).message).toBe("disk on fire");
    expect(success(got)).toEqual({ ok: true, thrower: false });
  });

  test("a collect that rejects is left out and reported", async () => {
    const r = new Registry();
    r.mustRegister(
      okCollector(),
      collector("rejecter", [d], async (ch) => {
        ch(mustNewConstMetric(d, GaugeValue, 1));
        await Promise.resolve();
        throw new Error("backend down");
      }),
    );
    const got = await r.gather();
    expect(familyNames(got)).toEqual(["ok_metric"]);
    expect(errorSummaries(got)).toEqual(["rejecter||collector rejecter failed: backend down"]);
    expect(success(got)).toEqual({ ok: true, rejecter: false });
  });

  test("a mustNewConstMetric error inside collect fails only that collector", async () => {
    const r = new Registry();
    const labelled = newDesc("labelled", "L.", ["code"]);
    r.mustRegister(
      okCollector(),
      collector("careless", [labelled], (ch) => ch(mustNewConstMetric(labelled, GaugeValue, 1))),
    );
    const got = await r.gather();
    expect(familyNames(got)).toEqual(["ok_metric"]);
    expect(errorSummaries(got)).toEqual([
      `careless||collector careless failed: metric "labelled": expected 1 label values (code), got 0`,
    ]);
  });

  test("a collect that never resolves is reported when the signal aborts, the others served", async () => {
    const r = new Registry();
    let seen: AbortSignal | undefined;
    r.mustRegister(
      okCollector(),
      collector("hung", [d], (_ch, signal) => {
        seen = signal;
        return new Promise<void>(() => {});
      }),
    );
    const ac = new AbortController();
    const pending = r.gather({ signal: ac.signal });
    expect(seen?.aborted).toBe(false);
    ac.abort(new Error("scrape deadline exceeded"));
    const got = await pending;
    expect(familyNames(got)).toEqual(["ok_metric"]);
    expect(errorSummaries(got)).toEqual(["hung||collector hung missed the deadline: scrape deadline exceeded"]);
    expect(success(got)).toEqual({ ok: true, hung: false });
    // collect received the gather's signal, and so could stop its work.
    expect(seen?.aborted).toBe(true);
  });

  test("a collector's timeoutMs ends only its own collect", async () => {
    const r = new Registry();
    let seen: AbortSignal | undefined;
    r.mustRegister(
      okCollector(),
      collector("slow", [d], (_ch, signal) => {
        seen = signal;
        return new Promise<void>(() => {});
      }, 1),
    );
    const got = await r.gather();
    expect(familyNames(got)).toEqual(["ok_metric"]);
    expect(got.errors).toHaveLength(1);
    expect(got.errors[0].message).toMatch(/^collector slow missed the deadline: /);
    expect(success(got)).toEqual({ ok: true, slow: false });
    expect(seen?.aborted).toBe(true);
  });

  test("a collector's timeoutMs does not hide the gather's own signal", async () => {
    const r = new Registry();
    let seen: AbortSignal | undefined;
    r.mustRegister(collector("patient", [d], (_ch, signal) => {
      seen = signal;
      return new Promise<void>(() => {});
    }, 3_600_000));
    const ac = new AbortController();
    const pending = r.gather({ signal: ac.signal });
    ac.abort(new Error("client went away"));
    const got = await pending;
    expect(errorSummaries(got)).toEqual(["patient||collector patient missed the deadline: client went away"]);
    expect(seen?.aborted).toBe(true);
  });

  test("with an already aborted signal no collector runs", async () => {
    const r = new Registry();
    let ran = false;
    r.mustRegister(collector("never", [d], () => {
      ran = true;
    }));
    const got = await r.gather({ signal: AbortSignal.abort(new Error("too late")) });
    expect(ran).toBe(false);
    expect(errorSummaries(got)).toEqual(["never||collector never did not run: too late"]);
  });
});

describe("Registry.gather runs collectors", () => {
  test("two concurrent gathers share one run of a collector", async () => {
    const r = new Registry();
    const d = newDesc("runs", "Runs of collect.");
    const g = gate();
    let calls = 0;
    r.register(collector("blocking", [d], async (ch) => {
      calls++;
      await g.promise;
      ch(mustNewConstMetric(d, CounterValue, calls));
    }));
    const first = r.gather();
    const second = r.gather();
    g.open();
    const [a, b] = await Promise.all([first, second]);
    expect(calls).toBe(1);
    expect(a.families[0].metrics).toHaveLength(1);
    expect(b.families[0].metrics[0]).toEqual(a.families[0].metrics[0]); // the same series, from the one run
    // Once the run is over, the next gather runs collect again.
    await r.gather();
    expect(calls).toBe(2);
  });

  test("collectors run concurrently: one waiting does not hold up another", async () => {
    const r = new Registry();
    const g = gate();
    const order: string[] = [];
    r.mustRegister(
      collector("waiter", [newDesc("w", "W.")], async () => {
        order.push("waiter started");
        await g.promise;
        order.push("waiter done");
      }),
      collector("opener", [newDesc("o", "O.")], () => {
        order.push("opener ran");
        g.open();
      }),
    );
    await r.gather();
    expect(order).toEqual(["waiter started", "opener ran", "waiter done"]);
  });

  test("filter runs only the chosen collectors", async () => {
    const r = new Registry();
    const a = newDesc("a", "A.");
    const b = newDesc("b", "B.");
    let bRan = false;
    r.mustRegister(
      collector("a", [a], (ch) => ch(mustNewConstMetric(a, GaugeValue, 1))),
      collector("b", [b], (ch) => {
        bRan = true;
        ch(mustNewConstMetric(b, GaugeValue, 1));
      }),
    );
    const got = await r.gather({ filter: (_c, name) => name === "a" });
    expect(familyNames(got)).toEqual(["a"]);
    expect(got.collectors.map((c) => c.name)).toEqual(["a"]);
    expect(bRan).toBe(false);
  });

  test("only: the named collectors and the exporter's own run; an unknown name rejects before anything runs", async () => {
    const r = new Registry();
    const a = newDesc("a", "A."), b = newDesc("b", "B."), own = newDesc("own", "The exporter's own.");
    const ran: string[] = [];
    const sending = (name: string, d: Desc) =>
      collector(name, [d], (ch) => (ran.push(name), ch(mustNewConstMetric(d, GaugeValue, 1))));
    r.mustRegister(sending("a", a), sending("b", b), markExporterMetrics(sending("own", own)));
    expect(familyNames(await r.gather({ only: ["a"] }))).toEqual(["a", "own"]);
    ran.length = 0;
    const err = await r.gather({ only: ["a", "own"] }).then(() => undefined, (e) => e);
    expect(err).toBeInstanceOf(UnknownCollectorError);
    expect(`${err.message}`).toBe('unknown collector "own"; known: a, b');
    expect(ran).toEqual([]);
  });

  describe("afterwards: a ResultCollector run after the others", () => {
    const seen = newDesc("collectors_seen", "Collectors of this gather and whether each succeeded.", ["collector"]);
    const after: ResultCollector = {
      name: "results",
      describe: (ch) => ch(seen),
      collectResults: (results, ch) => {
        for (const res of results) ch(mustNewConstMetric(seen, GaugeValue, res.success ? 1 : 0, res.name));
      },
    };

    test("gets every collector's result, a collector whose family was dropped as failed", async () => {
      const r = new Registry();
      const dup = newDesc("dup", "Sent twice.");
      r.mustRegister(
        okCollector(),
        collector("dup", [dup], (ch) => {
          ch(mustNewConstMetric(dup, GaugeValue, 1));
          ch(mustNewConstMetric(dup, GaugeValue, 2));
        }),
      );
      const got = await r.gather({ afterwards: after });
      const f = got.families.find((f) => f.name === "collectors_seen")!;
      expect(f.metrics.map((m) => `${m.labelValues[0]}=${(m as { value: number }).value}`)).toEqual(["dup=0", "ok=1"]);
    });

    test("its series meet a collected family of the same name and are checked as one: other help drops it, naming the collector", async () => {
      const r = new Registry();
      const clash = newDesc("collectors_seen", "Another help.", ["collector"]);
      r.mustRegister(collector("clasher", [clash], (ch) => ch(mustNewConstMetric(clash, GaugeValue, 1, "zzz"))));
      const got = await r.gather({ afterwards: after });
      expect(familyNames(got)).toEqual([]);
      expect(errorSummaries(got)).toEqual([
        'results|collectors_seen|collector results: collected metric collectors_seen has help "Collectors of this gather and whether each succeeded." but should have "Another help."',
      ]);
    });
  });

  test("the collectors' results name them, in registration order, with the series each sent", async () => {
    const r = new Registry();
    const s = newDesc("s", "S.", ["i"]);
    r.mustRegister(
      collector("second", [s], (ch) => {
        for (let i = 0; i < 3; i++) ch(mustNewConstMetric(s, GaugeValue, i, String(i)));
      }),
      okCollector(),
      collector("broken", [], () => {
        throw new Error("no");
      }),
    );
    const got = await r.gather();
    expect(got.collectors.map((c) => [c.name, c.success, c.series])).toEqual([["second", true, 3], ["ok", true, 1], [
      "broken",
      false,
      0,
    ]]);
    for (const c of got.collectors) expect(c.durationSeconds).toBeGreaterThanOrEqual(0);
  });
});

describe("Registry.gather sorts as client_golang does", () => {
  /** The label pairs of each series of the only family gathered. */
  async function seriesOf(...collectors: Collector[]): Promise<string[]> {
    const r = new Registry();
    r.mustRegister(...collectors);
    const got = await r.gather();
    expect(errorSummaries(got)).toEqual([]);
    expect(got.families).toHaveLength(1);
    return got.families[0].metrics.map((m) => m._labels);
  }

  test("families by name, whatever the registration and send order", async () => {
    const r = new Registry();
    const [b, a, c] = [newDesc("b_metric", "B."), newDesc("a_metric", "A."), newDesc("c_metric", "C.")];
    r.mustRegister(
      collector("late", [c, a], (ch) => {
        ch(mustNewConstMetric(c, GaugeValue, 1));
        ch(mustNewConstMetric(a, GaugeValue, 1));
      }),
      collector("early", [b], (ch) => ch(mustNewConstMetric(b, GaugeValue, 1))),
    );
    expect(familyNames(await r.gather())).toEqual(["a_metric", "b_metric", "c_metric"]);
  });

  test("families by name on every gather, when what is sent changes between gathers", async () => {
    // The registry reuses the last gather's order when the same families come in the
    // same order: each gather below changes the families or their order.
    const [a, b, c, d] = ["a_metric", "b_metric", "c_metric", "d_metric"].map((n) => newDesc(n, "Help."));
    const sends: Desc[][] = [[c, a, b], [c, a, b], [a, c, b], [c, a, b, d], [d, c], [b, a], [c, d], [b]];
    let round = 0;
    const r = new Registry();
    r.mustRegister(collector("changing", [a, b, c, d], (ch) => {
      for (const desc of sends[round]) ch(mustNewConstMetric(desc, GaugeValue, 1));
    }));
    for (; round < sends.length; round++) {
      const g = await r.gather();
      const want = sends[round].map((desc) => desc.fqName).sort();
      expect({ round, names: familyNames(g) }).toEqual({ round, names: want });
      g.done();
    }
  });

  test("series by label values, taken in label-name order, as strings", async () => {
    const d = newDesc("s", "S.", ["zone", "app"]);
    const got = await seriesOf(collector("c", [d], (ch) => {
      for (const [zone, app] of [["b", "9"], ["a", "10"], ["b", "10"], ["a", "9"]]) {
        ch(mustNewConstMetric(d, GaugeValue, 1, zone, app));
      }
    }));
    expect(got).toEqual([`app="10",zone="a"`, `app="10",zone="b"`, `app="9",zone="a"`, `app="9",zone="b"`]);
  });

  test("const labels sort with the variable ones, across Descs of one family", async () => {
    const prod = newDesc("req", "R.", ["code"], { env: "prod" });
    const dev = newDesc("req", "R.", ["code"], { env: "dev" });
    const got = await seriesOf(collector("c", [prod, dev], (ch) => {
      ch(mustNewConstMetric(prod, CounterValue, 1, "500"));
      ch(mustNewConstMetric(prod, CounterValue, 1, "200"));
      ch(mustNewConstMetric(dev, CounterValue, 1, "500"));
      ch(mustNewConstMetric(dev, CounterValue, 1, "200"));
    }));
    expect(got).toEqual([
      `code="200",env="dev"`,
      `code="200",env="prod"`,
      `code="500",env="dev"`,
      `code="500",env="prod"`,
    ]);
  });

  test("a const label whose name sorts between variable ones", async () => {
    const d = newDesc("mid", "M.", ["c", "a"], { b: "const" });
    const got = await seriesOf(collector("c", [d], (ch) => {
      ch(mustNewConstMetric(d, GaugeValue, 1, "1", "y"));
      ch(mustNewConstMetric(d, GaugeValue, 1, "2", "x"));
    }));
    expect(got).toEqual([`a="x",b="const",c="2"`, `a="y",b="const",c="1"`]);
  });

  test("inconsistent label sets: fewer labels first, then values, as client_golang's MetricSorter", async () => {
    const none = newDesc("loose", "L.");
    const one = newDesc("loose", "L.", ["b"]);
    const two = newDesc("loose", "L.", ["a", "b"]);
    const got = await seriesOf(collector("unchecked", [], (ch) => {
      ch(mustNewConstMetric(two, GaugeValue, 1, "1", "x"));
      ch(mustNewConstMetric(one, GaugeValue, 1, "2"));
      ch(mustNewConstMetric(none, GaugeValue, 1));
      ch(mustNewConstMetric(one, GaugeValue, 1, "0"));
    }));
    expect(got).toEqual([``, `b="0"`, `b="2"`, `a="1",b="x"`]);
  });
});

describe("a family dropped at gather time fails its collector", () => {
  test("duplicate series: success false for the collector that sent them, true for the others", async () => {
    const d = newDesc("dup_metric", "Sent twice.", ["k"]);
    const r = new Registry();
    r.mustRegister(
      okCollector(),
      collector("dup", [d], (ch) => {
        ch(mustNewConstMetric(d, GaugeValue, 1, "a"));
        ch(mustNewConstMetric(d, GaugeValue, 2, "a"));
      }),
    );
    const got = await r.gather();
    expect(familyNames(got)).toEqual(["ok_metric"]);
    expect(success(got)).toEqual({ ok: true, dup: false });
  });

  test("a series from an undescribed Desc: success false", async () => {
    const described = newDesc("described_metric", "Described."), other = newDesc("other_metric", "Not described.");
    const r = new Registry();
    r.mustRegister(collector("sloppy", [described], (ch) => ch(mustNewConstMetric(other, GaugeValue, 1))));
    expect(success(await r.gather())).toEqual({ sloppy: false });
  });
});

describe("sorting remembered between gathers", () => {
  // A seeded shuffle, so that each gather sends the same series in another order.
  function shuffled(n: number, seed: number): number[] {
    const a = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
  const d = newDesc("many_metric", "Many series.", ["id"]);
  const labels = (g: Gathered) => g.families[0].metrics.map((m) => m.labelValues[0]);
  const want = Array.from({ length: 200 }, (_, i) => `id-${String(i).padStart(3, "0")}`);

  test("the same order, then another order, then the first again: sorted every time", async () => {
    let order = shuffled(200, 1);
    const r = new Registry();
    r.mustRegister(collector("many", [d], (ch) => {
      for (const i of order) ch(mustNewConstMetric(d, GaugeValue, i, `id-${String(i).padStart(3, "0")}`));
    }));
    for (const seed of [1, 1, 2, 1]) {
      order = shuffled(200, seed);
      expect(labels(await r.gather())).toEqual(want);
    }
  });

  test("a duplicate that appears after the order was remembered is still found", async () => {
    let dup = false;
    const r = new Registry();
    r.mustRegister(collector("many", [d], (ch) => {
      for (const i of shuffled(200, 3)) {
        const v = dup && i === 7 ? "id-008" : `id-${String(i).padStart(3, "0")}`;
        ch(mustNewConstMetric(d, GaugeValue, i, v));
      }
    }));
    expect(labels(await r.gather())).toEqual(want);
    dup = true;
    const got = await r.gather();
    expect(familyNames(got)).toEqual([]);
    expect(errorSummaries(got)[0]).toContain('many_metric{id="id-008"} was collected before');
  });
});

describe("series kept in columns between collect and encode", () => {
  const d = newDesc("item_value", "Items.", ["id"]);
  /** A collector whose values say which run sent them: run r sends item i as r * 1000 + i. */
  const counting = (n: () => number) => {
    let run = 0;
    return collector("items", [d], (ch) => {
      run++;
      for (let i = 0; i < n(); i++) ch(mustNewConstMetric(d, GaugeValue, run * 1000 + i, `item-${i}`));
    });
  };
  const values = (g: Gathered) =>
    g.families[0].metrics.map((m) => `${m.labelValues[0]}=${(m as { value: number }).value}`);

  test("a gather's series are reused by the next run only after done(); reading them after done() throws", async () => {
    const r = new Registry();
    r.register(counting(() => 3));
    const first = await r.gather();
    const before = values(first);
    expect(before).toEqual(["item-0=1000", "item-1=1001", "item-2=1002"]);
    const second = await r.gather(); // first not released: its series stay
    expect(values(second)).toEqual(["item-0=2000", "item-1=2001", "item-2=2002"]);
    first.done();
    const third = await r.gather(); // reuses first's memory
    expect(values(third)).toEqual(["item-0=3000", "item-1=3001", "item-2=3002"]);
    expect(values(second)).toEqual(["item-0=2000", "item-1=2001", "item-2=2002"]);
    const stale = await r.gather();
    stale.done();
    await r.gather(); // may reuse stale's memory
    expect(() => stale.families[0].metrics).toThrow(/read after its gather was released/);
  });

  test("a gather never done keeps its series whatever later gathers release", async () => {
    const r = new Registry();
    r.register(counting(() => 2));
    const kept = await r.gather();
    for (let i = 0; i < 3; i++) (await r.gather()).done();
    expect(values(kept)).toEqual(["item-0=1000", "item-1=1001"]);
  });

  test("a run shared by two gathers is not reused while one of them still reads it", async () => {
    const r = new Registry();
    const g = gate();
    let run = 0;
    r.register(collector("shared", [d], async (ch) => {
      run++;
      if (run === 1) await g.promise;
      ch(mustNewConstMetric(d, GaugeValue, run, "x"));
    }));
    const a = r.gather();
    const b = r.gather();
    g.open();
    const [ga, gb] = await Promise.all([a, b]);
    ga.done(); // b still reads the run
    (await r.gather()).done();
    expect(values(gb)).toEqual(["x=1"]);
  });

  test("fewer series than last run: none of the last run's series is left over", async () => {
    const r = new Registry();
    let n = 5;
    r.register(counting(() => n));
    (await r.gather()).done();
    n = 2;
    expect(values(await r.gather())).toEqual(["item-0=2000", "item-1=2001"]);
  });

  test("what a collector sends after its run ended is dropped, never mixed into a later run", async () => {
    const r = new Registry();
    let late: Ch | undefined;
    let run = 0;
    const g = gate();
    r.register(collector("late", [d], async (ch) => {
      run++;
      late ??= ch;
      if (run === 2) await g.promise;
      ch(mustNewConstMetric(d, GaugeValue, run, "own"));
    }));
    (await r.gather()).done();
    const second = r.gather(); // reuses the first run's memory, waits in collect
    await Promise.resolve();
    late!(mustNewConstMetric(d, GaugeValue, 99, "late")); // the first run's channel, during the second
    g.open();
    expect(values(await second)).toEqual(["own=2"]);
  });

  test("a family larger than one slice of the check (checked across event-loop turns): duplicates found, order kept", async () => {
    const n = 45_000;
    for (const [name, at] of [["sorted", n - 1], ["unsorted", 7]] as const) {
      const r = new Registry();
      let withDuplicate = false;
      r.register(collector(name, [d], (ch) => {
        const ids = Array.from({ length: n }, (_, i) => `id-${String(i).padStart(6, "0")}`);
        if (name === "unsorted") ids.reverse();
        if (withDuplicate) ids[at] = ids[at - 1];
        for (const id of ids) ch(mustNewConstMetric(d, GaugeValue, 1, id));
      }));
      for (let i = 0; i < 2; i++) { // the second gather tries the remembered order first
        const g = await r.gather();
        expect(g.errors).toEqual([]);
        const got = g.families[0].metrics.map((m) => m.labelValues[0]);
        expect(got.length).toBe(n);
        expect(got.every((id, k) => k === 0 || got[k - 1] < id)).toBe(true);
      }
      withDuplicate = true;
      const g = await r.gather();
      expect(g.families).toEqual([]);
      expect(g.errors.map((e) => e.message.replace(/id="[^"]*"/, 'id="…"'))).toEqual([
        `collector ${name}: collected metric item_value{id="…"} was collected before with the same name and label values`,
      ]);
    }
  });

  test("one Desc sent as a counter and as a gauge: the family is dropped and the collector fails", async () => {
    const r = new Registry();
    r.register(collector("mixed", [d], (ch) => {
      ch(mustNewConstMetric(d, GaugeValue, 1, "a"));
      ch(mustNewConstMetric(d, CounterValue, 2, "b"));
    }));
    const g = await r.gather();
    expect(g.families).toEqual([]);
    expect(g.errors.map((e) => e.message)).toEqual([
      "collector mixed: collected metric item_value has type counter but should have gauge",
    ]);
    expect(g.collectors[0].success).toBe(false);
  });
});

describe("a family checked once is not checked again while its series keep their label values", () => {
  // Gathers released with done(), as the handler releases them: the next run then
  // writes into the columns of the last, where a label value that changed is seen.
  const d = newDesc("kept_metric", "Kept series.", ["id", "zone"]);
  const ids = ["c", "a", "d", "b"];
  const zones = ["z1", "z0", "z1", "z0"];
  const labels = (g: Gathered) => g.families[0]?.metrics.map((m) => m.labelValues.join("/"));
  async function gatherDone(r: Registry): Promise<{ labels: string[] | undefined; errors: string[] }> {
    const g = await r.gather();
    const out = { labels: labels(g), errors: errorSummaries(g) };
    g.done();
    return out;
  }

  test("a value changed into a duplicate, a duplicate added, values moved: each found or sorted", async () => {
    let sent = ids.map((id, i) => [id, zones[i]]);
    const r = new Registry();
    r.mustRegister(collector("kept", [d], (ch) => {
      for (const [id, zone] of sent) ch(mustNewConstMetric(d, GaugeValue, 1, id, zone));
    }));
    const sorted = { labels: ["a/z0", "b/z0", "c/z1", "d/z1"], errors: [] };
    for (let i = 0; i < 3; i++) expect(await gatherDone(r)).toEqual(sorted);
    const dup =
      `kept|kept_metric|collector kept: collected metric kept_metric{id="a",zone="z0"} was collected before with the same name and label values`;
    sent = [["c", "z1"], ["a", "z0"], ["a", "z0"], ["b", "z0"]]; // d → a: same count
    expect(await gatherDone(r)).toEqual({ labels: undefined, errors: [dup] });
    sent = ids.map((id, i) => [id, zones[i]]);
    expect(await gatherDone(r)).toEqual(sorted);
    sent = [...sent, ["a", "z0"]]; // one more, a duplicate
    expect(await gatherDone(r)).toEqual({ labels: undefined, errors: [dup] });
    sent = ids.map((id, i) => [id, zones[i]]);
    expect(await gatherDone(r)).toEqual(sorted);
    sent = [["b", "z0"], ["d", "z1"], ["c", "z1"], ["a", "z0"]]; // the same series, in another order
    expect(await gatherDone(r)).toEqual(sorted);
    sent = [["c", "z1"], ["a", "z0"], ["d", "z1"], ["a", "z1"]]; // b/z0 → a/z1: the second label decides
    expect(await gatherDone(r)).toEqual({ labels: ["a/z0", "a/z1", "c/z1", "d/z1"], errors: [] });
    // Equal values in new strings are the same series.
    sent = sent.map(([id, zone]) => [id.repeat(2).slice(0, id.length), `${zone}`]);
    expect(await gatherDone(r)).toEqual({ labels: ["a/z0", "a/z1", "c/z1", "d/z1"], errors: [] });
  });

  test("counters with state: a child added or replaced after a checked gather is sorted in", async () => {
    const r = new Registry();
    const vec = newCounterVec({ name: "kept_total", help: "Kept counters." }, ["id"]);
    r.mustRegister(vec);
    for (const id of ["c", "a", "d"]) vec.withLabelValues(id).inc();
    for (let i = 0; i < 3; i++) expect(await gatherDone(r)).toEqual({ labels: ["a", "c", "d"], errors: [] });
    vec.withLabelValues("b").inc();
    expect(await gatherDone(r)).toEqual({ labels: ["a", "b", "c", "d"], errors: [] });
    vec.deleteLabelValues("a");
    vec.withLabelValues("e").inc();
    expect(await gatherDone(r)).toEqual({ labels: ["b", "c", "d", "e"], errors: [] });
  });
});

// prometheus/common's own expectations, ported as data: the cases of
// expfmt/text_create_test.go (TestCreate) and expfmt/openmetrics_create_test.go
// (TestCreateOpenMetrics), at v0.70.1, that the kit's API can express, with Go's
// expected bytes copied from those files. Go's inputs are dto messages; here they
// are built with the kit's constructors. Cases whose Go input lists labels out of
// name order, mixes label sets in one family, has no HELP or float histograms cannot
// be built with the kit (it sorts labels, a family has one label set, HELP is always
// written, counts are integers) and are left out; where a case has a series the kit
// can build and one it cannot, the part it can is kept and says so.
import { describe, expect, test } from "bun:test";
import { newDesc } from "./desc.ts";
import type { EscapingScheme } from "./escaping.ts";
import { encode, type Format } from "./expfmt.ts";
import type { MetricFamily } from "./registry.ts";
import {
  CounterValue,
  GaugeValue,
  type Metric,
  mustNewConstHistogram,
  mustNewConstHistogramWithCreatedTimestamp,
  mustNewConstMetric,
  mustNewConstMetricWithCreatedTimestamp,
  mustNewConstSummaryWithCreatedTimestamp,
  newMetricWithExemplars,
  newMetricWithTimestamp,
  UntypedValue,
} from "./value.ts";

/** openmetrics_create_test.go's openMetricsTimestamp: time.Unix(12345, 600000000). */
const omTimestamp = 12345600;

interface Case {
  readonly name: string;
  readonly format: Format;
  readonly escaping?: EscapingScheme;
  readonly createdLines?: boolean;
  readonly collect: (ch: (m: Metric) => void) => void;
  readonly want: string;
}

const OM: Format = "openmetrics-1.0.0";

const gaugeEscapes = newDesc("gauge_name", 'gauge\ndoc\nstr"ing', ["name_1", "name_2"]);
const gaugeEscapesCollect = (ch: (m: Metric) => void) => {
  ch(mustNewConstMetric(gaugeEscapes, GaugeValue, Infinity, "val with\nnew line", 'val with \\backslash and "quotes"'));
  ch(mustNewConstMetric(gaugeEscapes, GaugeValue, 3.14e42, "Björn", "佖佥"));
};
// Go's case lists "name.1" before "name*2" (out of byte order); with "name.1" and
// "name_2" the kit's sorted order is Go's order and every character class is kept.
const gaugeUTF8 = newDesc("gauge.name", 'gauge\ndoc\nstr"ing', ["name.1", "name_2"]);
const gaugeUTF8Collect = (ch: (m: Metric) => void) => {
  ch(mustNewConstMetric(gaugeUTF8, GaugeValue, Infinity, "val with\nnew line", 'val with \\backslash and "quotes"'));
  ch(mustNewConstMetric(gaugeUTF8, GaugeValue, 3.14e42, "Björn", "佖佥"));
};
const summary = newDesc("summary_name", "summary docstring", ["name_1", "name_2"]);
const histogram = newDesc("request_duration_microseconds", "The response latency.", null, null, {
  unit: "microseconds",
});
const histogramNoUnit = newDesc("request_duration_microseconds", "The response latency.");
const buckets = { 100: 123, 120: 412, 144: 592, 172.8: 1524, "+Inf": 2693 };
const foos = newDesc("foos_total", "Number of foos.");
const dots = newDesc("name.with.dots", "boring help");

const cases: Case[] = [
  {
    name: "text_create_test.go 1: Gauge, some escaping required, +Inf as value, multi-byte characters in label values",
    format: "text",
    collect: gaugeEscapesCollect,
    want: `# HELP gauge_name gauge\\ndoc\\nstr"ing
# TYPE gauge_name gauge
gauge_name{name_1="val with\\nnew line",name_2="val with \\\\backslash and \\"quotes\\""} +Inf
gauge_name{name_1="Björn",name_2="佖佥"} 3.14e+42
`,
  },
  {
    name: "text_create_test.go 2: Gauge, utf-8 (allow-utf-8), +Inf as value, multi-byte characters in label values",
    format: "text",
    escaping: "allow-utf-8",
    collect: gaugeUTF8Collect,
    want: `# HELP "gauge.name" gauge\\ndoc\\nstr"ing
# TYPE "gauge.name" gauge
{"gauge.name","name.1"="val with\\nnew line",name_2="val with \\\\backslash and \\"quotes\\""} +Inf
{"gauge.name","name.1"="Björn",name_2="佖佥"} 3.14e+42
`,
  },
  {
    name: "text_create_test.go 4: Summary (its labelled series)",
    format: "text",
    collect: (ch) =>
      ch(
        mustNewConstSummaryWithCreatedTimestamp(
          summary,
          4711,
          2010.1971,
          { 0.5: 1, 0.9: 2, 0.99: 3 },
          omTimestamp,
          "value 1",
          "value 2",
        ),
      ),
    want: `# HELP summary_name summary docstring
# TYPE summary_name summary
summary_name{name_1="value 1",name_2="value 2",quantile="0.5"} 1
summary_name{name_1="value 1",name_2="value 2",quantile="0.9"} 2
summary_name{name_1="value 1",name_2="value 2",quantile="0.99"} 3
summary_name_sum{name_1="value 1",name_2="value 2"} 2010.1971
summary_name_count{name_1="value 1",name_2="value 2"} 4711
`,
  },
  {
    name: "text_create_test.go 5: Histogram",
    format: "text",
    collect: (ch) => ch(mustNewConstHistogram(histogramNoUnit, 2693, 1756047.3, buckets)),
    want: `# HELP request_duration_microseconds The response latency.
# TYPE request_duration_microseconds histogram
request_duration_microseconds_bucket{le="100"} 123
request_duration_microseconds_bucket{le="120"} 412
request_duration_microseconds_bucket{le="144"} 592
request_duration_microseconds_bucket{le="172.8"} 1524
request_duration_microseconds_bucket{le="+Inf"} 2693
request_duration_microseconds_sum 1.7560473e+06
request_duration_microseconds_count 2693
`,
  },
  {
    name: "text_create_test.go 6: Histogram with missing +Inf bucket",
    format: "text",
    collect: (ch) =>
      ch(mustNewConstHistogram(histogramNoUnit, 2693, 1756047.3, { 100: 123, 120: 412, 144: 592, 172.8: 1524 })),
    want: `# HELP request_duration_microseconds The response latency.
# TYPE request_duration_microseconds histogram
request_duration_microseconds_bucket{le="100"} 123
request_duration_microseconds_bucket{le="120"} 412
request_duration_microseconds_bucket{le="144"} 592
request_duration_microseconds_bucket{le="172.8"} 1524
request_duration_microseconds_bucket{le="+Inf"} 2693
request_duration_microseconds_sum 1.7560473e+06
request_duration_microseconds_count 2693
`,
  },
  {
    name: "openmetrics_create_test.go 2: Dots in name, no labels (allow-utf-8)",
    format: OM,
    escaping: "allow-utf-8",
    collect: (ch) => {
      ch(mustNewConstMetric(dots, CounterValue, 42));
    },
    want: `# HELP "name.with.dots" boring help
# TYPE "name.with.dots" unknown
{"name.with.dots"} 42.0
`,
  },
  {
    name: "openmetrics_create_test.go 2: Dots in name, no labels, its series with a timestamp (allow-utf-8)",
    format: OM,
    escaping: "allow-utf-8",
    collect: (ch) => ch(newMetricWithTimestamp(1234567890, mustNewConstMetric(dots, CounterValue, 0.23))),
    want: `# HELP "name.with.dots" boring help
# TYPE "name.with.dots" unknown
{"name.with.dots"} 0.23 1.23456789e+06
`,
  },
  {
    name:
      "openmetrics_create_test.go 3: Gauge, some escaping required, +Inf as value, multi-byte characters in label values",
    format: OM,
    collect: gaugeEscapesCollect,
    want: `# HELP gauge_name gauge\\ndoc\\nstr\\"ing
# TYPE gauge_name gauge
gauge_name{name_1="val with\\nnew line",name_2="val with \\\\backslash and \\"quotes\\""} +Inf
gauge_name{name_1="Björn",name_2="佖佥"} 3.14e+42
`,
  },
  {
    name: "openmetrics_create_test.go 4: Gauge, utf-8 (allow-utf-8)",
    format: OM,
    escaping: "allow-utf-8",
    collect: gaugeUTF8Collect,
    want: `# HELP "gauge.name" gauge\\ndoc\\nstr\\"ing
# TYPE "gauge.name" gauge
{"gauge.name","name.1"="val with\\nnew line",name_2="val with \\\\backslash and \\"quotes\\""} +Inf
{"gauge.name","name.1"="Björn",name_2="佖佥"} 3.14e+42
`,
  },
  {
    name: "openmetrics_create_test.go 6: Summary with created lines (its labelled series)",
    format: OM,
    createdLines: true,
    collect: (ch) =>
      ch(
        mustNewConstSummaryWithCreatedTimestamp(
          summary,
          4711,
          2010.1971,
          { 0.5: 1, 0.9: 2, 0.99: 3 },
          omTimestamp,
          "value 1",
          "value 2",
        ),
      ),
    want: `# HELP summary_name summary docstring
# TYPE summary_name summary
summary_name{name_1="value 1",name_2="value 2",quantile="0.5"} 1.0
summary_name{name_1="value 1",name_2="value 2",quantile="0.9"} 2.0
summary_name{name_1="value 1",name_2="value 2",quantile="0.99"} 3.0
summary_name_sum{name_1="value 1",name_2="value 2"} 2010.1971
summary_name_count{name_1="value 1",name_2="value 2"} 4711
summary_name_created{name_1="value 1",name_2="value 2"} 12345.6
`,
  },
  {
    name: "openmetrics_create_test.go 7: Histogram with unit and created line",
    format: OM,
    createdLines: true,
    collect: (ch) => ch(mustNewConstHistogramWithCreatedTimestamp(histogram, 2693, 1756047.3, buckets, omTimestamp)),
    want: `# HELP request_duration_microseconds The response latency.
# TYPE request_duration_microseconds histogram
# UNIT request_duration_microseconds microseconds
request_duration_microseconds_bucket{le="100.0"} 123
request_duration_microseconds_bucket{le="120.0"} 412
request_duration_microseconds_bucket{le="144.0"} 592
request_duration_microseconds_bucket{le="172.8"} 1524
request_duration_microseconds_bucket{le="+Inf"} 2693
request_duration_microseconds_sum 1.7560473e+06
request_duration_microseconds_count 2693
request_duration_microseconds_created 12345.6
`,
  },
  {
    name:
      "openmetrics_create_test.go 9: Histogram with missing +Inf bucket but with different exemplars (with timestamps)",
    format: OM,
    collect: (ch) => {
      const h = mustNewConstHistogram(histogramNoUnit, 2693, 1756047.3, { 100: 123, 120: 412, 144: 592, 172.8: 1524 });
      // Go's second exemplar has no timestamp; newMetricWithExemplars gives every
      // exemplar one (now), as Go's NewMetricWithExemplars, so both carry one here.
      ch(newMetricWithExemplars(
        h,
        { value: 119.9, labels: { foo: "bar" }, timestamp: omTimestamp },
        { value: 140.14, labels: { foo: "baz", dings: "bums" }, timestamp: omTimestamp },
      ));
    },
    want: `# HELP request_duration_microseconds The response latency.
# TYPE request_duration_microseconds histogram
request_duration_microseconds_bucket{le="100.0"} 123
request_duration_microseconds_bucket{le="120.0"} 412 # {foo="bar"} 119.9 12345.6
request_duration_microseconds_bucket{le="144.0"} 592 # {dings="bums",foo="baz"} 140.14 12345.6
request_duration_microseconds_bucket{le="172.8"} 1524
request_duration_microseconds_bucket{le="+Inf"} 2693
request_duration_microseconds_sum 1.7560473e+06
request_duration_microseconds_count 2693
`,
  },
  {
    name: "openmetrics_create_test.go 10: Simple Counter (with created line)",
    format: OM,
    createdLines: true,
    collect: (ch) => ch(mustNewConstMetricWithCreatedTimestamp(foos, CounterValue, 42, omTimestamp)),
    want: `# HELP foos Number of foos.
# TYPE foos counter
foos_total 42.0
foos_created 12345.6
`,
  },
  {
    name: "openmetrics_create_test.go 11: Simple Counter without created line",
    format: OM,
    collect: (ch) => ch(mustNewConstMetricWithCreatedTimestamp(foos, CounterValue, 42, omTimestamp)),
    want: `# HELP foos Number of foos.
# TYPE foos counter
foos_total 42.0
`,
  },
  {
    name: "openmetrics_create_test.go 16 (its series without a timestamp): Counter, unit given, _total suffix",
    format: OM,
    collect: (ch) =>
      ch(
        mustNewConstMetric(
          newDesc("some_measure_total", "some testing measurement", ["basename"], null, { unit: "seconds" }),
          CounterValue,
          42,
          "basevalue",
        ),
      ),
    want: `# HELP some_measure some testing measurement
# TYPE some_measure counter
# UNIT some_measure seconds
some_measure_total{basename="basevalue"} 42.0
`,
  },
  {
    name: "encode_test.go TestEncode 5/6: Untyped with a unit in OpenMetrics",
    format: OM,
    collect: (ch) =>
      ch(mustNewConstMetric(newDesc("foo_metric", "", null, null, { unit: "seconds" }), UntypedValue, 1.234)),
    want: `# HELP foo_metric 
# TYPE foo_metric unknown
# UNIT foo_metric seconds
foo_metric 1.234
`,
  },
];

/**
 * The metrics `collect` sends, as one family in the order sent: Go's tests call the
 * encoder on a dto.MetricFamily directly, without a registry's sorting, and so does
 * this (a registry would order "Björn" before "val with").
 */
function families(collect: (ch: (m: Metric) => void) => void): MetricFamily[] {
  const metrics: Metric[] = [];
  collect((m) => metrics.push(m));
  const m = metrics[0];
  if (m.type === "invalid") throw m.error;
  return [{ name: m.desc.fqName, help: m.desc.help, type: m.type, desc: m.desc, metrics }];
}

describe("prometheus/common's encoder test cases", () => {
  for (const c of cases) {
    test(c.name, () => {
      const got = encode(families(c.collect), c.format, { escaping: c.escaping, createdLines: c.createdLines });
      expect(got).toBe(c.format === "text" ? c.want : c.want + "# EOF\n");
    });
  }
});

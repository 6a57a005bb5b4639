import { describe, expect, test } from "bun:test";
import { buildFQName, newDesc } from "./desc.ts";

describe("newDesc", () => {
  test("a valid Desc carries no error and keeps its parts", () => {
    const d = newDesc("app_requests_total", "Requests served.", ["method", "code"], { app: "api" });
    expect(d.err).toBeUndefined();
    expect(d.fqName).toBe("app_requests_total");
    expect(d.help).toBe("Requests served.");
    expect(d.variableLabels).toEqual(["method", "code"]);
    expect(d.constLabels).toEqual({ app: "api" });
  });

  test("null labels mean none, as nil does in Go", () => {
    const d = newDesc("up", "Whether the target is up.", null, null);
    expect(d.err).toBeUndefined();
    expect(d.variableLabels).toEqual([]);
    expect(d.constLabels).toEqual({});
  });

  test("the Desc does not alias the arrays and objects it was given", () => {
    const labels = ["code"];
    const constLabels: Record<string, string> = { app: "api" };
    const d = newDesc("x", "X.", labels, constLabels);
    labels.push("method");
    constLabels.app = "web";
    expect(d.variableLabels).toEqual(["code"]);
    expect(d.constLabels).toEqual({ app: "api" });
  });

  // Invalid input does not throw at construction: like client_golang, the Desc
  // carries the error, which registration and mustNewConstMetric report.
  const invalid: {
    name: string;
    fqName: string;
    help?: string;
    labels?: string[];
    constLabels?: Record<string, string>;
    want: string;
  }[] = [
    { name: "empty metric name", fqName: "", want: `"" is not a valid metric name` },
    { name: "metric name with a lone surrogate", fqName: "m\uD800", want: `"m\\ud800" is not a valid metric name` },
    { name: "empty label name", fqName: "m", labels: [""], want: `metric "m": "" is not a valid label name` },
    {
      name: "label name with a lone surrogate",
      fqName: "m",
      labels: ["a\uDC00"],
      want: `metric "m": "a\\udc00" is not a valid label name`,
    },
    // client_golang desc_test.go TestNewDescInvalidVariableLabelName: "__label__" is refused.
    {
      name: "variable label __label__",
      fqName: "sample_label",
      labels: ["__label__"],
      want: `metric "sample_label": "__label__" is not a valid label name`,
    },
    {
      name: "UTF-8 label with __ prefix",
      fqName: "m",
      labels: ["__service.name"],
      want: `metric "m": "__service.name" is not a valid label name`,
    },
    {
      name: "variable label with __ prefix",
      fqName: "m",
      labels: ["__reserved"],
      want: `metric "m": "__reserved" is not a valid label name`,
    },
    {
      name: "const label with __ prefix",
      fqName: "m",
      constLabels: { __name__: "x" },
      want: `metric "m": "__name__" is not a valid label name`,
    },
    {
      name: "duplicate variable label",
      fqName: "m",
      labels: ["code", "code"],
      want: `metric "m": duplicate label name "code"`,
    },
    {
      name: "const and variable label overlap",
      fqName: "m",
      labels: ["code"],
      constLabels: { code: "200" },
      want: `metric "m": duplicate label name "code"`,
    },
    {
      name: "const label value with a lone surrogate",
      fqName: "m",
      constLabels: { a: "x\uD800" },
      want: `metric "m": constant label a has a value that is not a valid UTF-8 string`,
    },
    {
      name: "help with a lone surrogate",
      fqName: "m",
      help: "bad \uDC00",
      want: `metric "m": help text is not valid UTF-8`,
    },
  ];
  for (const c of invalid) {
    test(`invalid: ${c.name}`, () => {
      const d = newDesc(c.fqName, c.help ?? "Help.", c.labels, c.constLabels);
      expect(d.err?.message ?? "no error").toBe(c.want);
    });
  }

  // client_golang 1.24+ validates names with model.UTF8Validation: any non-empty
  // valid UTF-8; only label names starting with "__" are reserved.
  const valid: { name: string; fqName: string; labels?: string[]; constLabels?: Record<string, string> }[] = [
    { name: "a colon in a metric name", fqName: "job:requests:rate5m" },
    {
      name: "OpenTelemetry's dotted names",
      fqName: "http.server.duration",
      labels: ["service.name"],
      constLabels: { "deployment.environment": "prod" },
    },
    { name: "a dash in a metric name", fqName: "foo-bar" },
    { name: "a metric name starting with a digit", fqName: "1foo" },
    { name: "a metric name starting with __", fqName: "__internal" },
    { name: "a dash and a colon in label names", fqName: "m", labels: ["a-b"], constLabels: { "a:b": "x" } },
    { name: "emoji and CJK", fqName: "température_🌡", labels: ["日本"] },
  ];
  for (const c of valid) {
    test(`valid: ${c.name}`, () => {
      expect(newDesc(c.fqName, "Help.", c.labels, c.constLabels).err).toBeUndefined();
    });
  }

  test("a unit is kept and counts in dimHash, as client_golang's WithUnit", () => {
    const a = newDesc("x_seconds", "X.", null, null, { unit: "seconds" });
    expect(a.unit).toBe("seconds");
    expect(newDesc("x_seconds", "X.").unit).toBe("");
    expect(a.dimHash).not.toBe(newDesc("x_seconds", "X.").dimHash);
  });
});

describe("Desc identity", () => {
  test("id is name plus const label values: variable labels and help do not count", () => {
    const a = newDesc("x", "X.", ["code"], { b: "2", a: "1" });
    const b = newDesc("x", "Other help.", ["method"], { a: "1", b: "2" });
    expect(a.id).toBe(b.id);
  });

  test("id differs when a const label value differs", () => {
    const a = newDesc("x", "X.", [], { env: "prod" });
    const b = newDesc("x", "X.", [], { env: "dev" });
    expect(a.id).not.toBe(b.id);
  });

  test("dimHash is help plus the set of label names, const or variable", () => {
    const a = newDesc("x", "X.", ["code", "env"]);
    const b = newDesc("x", "X.", ["code"], { env: "prod" });
    expect(a.dimHash).toBe(b.dimHash);
    expect(newDesc("x", "Y.", ["code", "env"]).dimHash).not.toBe(a.dimHash);
    expect(newDesc("x", "X.", ["code"]).dimHash).not.toBe(a.dimHash);
  });

  test("toString names the metric and its labels, as client_golang's Desc.String", () => {
    const d = newDesc("x", "X.", ["code", "method"], { app: "api" });
    expect(String(d)).toBe(`Desc{fqName: "x", help: "X.", constLabels: {app="api"}, variableLabels: [code method]}`);
  });
});

describe("buildFQName", () => {
  const cases = [
    { name: "all parts", parts: ["ns", "sub", "name"], want: "ns_sub_name" },
    { name: "no subsystem", parts: ["ns", "", "name"], want: "ns_name" },
    { name: "no namespace", parts: ["", "sub", "name"], want: "sub_name" },
    { name: "name only", parts: ["", "", "name"], want: "name" },
    { name: "empty name gives empty", parts: ["ns", "sub", ""], want: "" },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const [ns, sub, name] = c.parts;
      expect(buildFQName(ns, sub, name)).toBe(c.want);
    });
  }
});

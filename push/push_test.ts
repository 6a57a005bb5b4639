// Ported in spirit from client_golang's push/push_test.go, against a fake client that
// records each request: methods, paths (base64 for values with "/", "=" for empty
// ones), bodies, refused metrics and grouping names, errors for non-2xx answers and an
// unreachable gateway. push/pushgateway_e2e_test.ts does the same against a real one.
import { describe, expect, test } from "bun:test";
import { newCounter } from "../prometheus/counter.ts";
import { newGauge } from "../prometheus/gauge.ts";
import { Registry } from "../prometheus/registry.ts";
import { contentTypes } from "../prometheus/expfmt.ts";
import { newPusher } from "./push.ts";

interface Seen {
  method: string;
  path: string;
  body: string;
  headers: Headers;
}

/** A client answering `status` (and `body`) to everything, recording the requests. */
function recorder(status = 200, body = "") {
  const seen: Seen[] = [];
  const client = async (input: string | URL | Request, init?: RequestInit) => {
    const req = new Request(input, init);
    seen.push({ method: req.method, path: new URL(req.url).pathname, body: await req.text(), headers: req.headers });
    return new Response(body, { status });
  };
  return { seen, client };
}

const metric1 = () => {
  const c = newCounter({ name: "testname1", help: "testhelp1" });
  c.add(3);
  return c;
};
const metric2 = () => newGauge({ name: "testname2", help: "testhelp2", constLabels: { foo: "bar", dings: "bums" } });
const wantBody = [
  "# HELP testname1 testhelp1",
  "# TYPE testname1 counter",
  "testname1 3",
  "# HELP testname2 testhelp2",
  "# TYPE testname2 gauge",
  'testname2{dings="bums",foo="bar"} 0',
  "",
].join("\n");

describe("newPusher", () => {
  test("pushes protobuf by default, as Go's", async () => {
    const { seen, client } = recorder();
    await newPusher("http://gw:9091/", "testjob").client(client).collector(metric1()).push();
    expect(seen[0].headers.get("content-type")).toBe(contentTypes.protobuf);
  });

  test("push is a PUT of the text exposition to /metrics/job/<job>", async () => {
    const { seen, client } = recorder();
    await newPusher("http://gw:9091/", "testjob").format("text").client(client).collector(metric1()).collector(
      metric2(),
    ).push();
    expect(seen.length).toBe(1);
    expect([seen[0].method, seen[0].path, seen[0].body]).toEqual(["PUT", "/metrics/job/testjob", wantBody]);
    expect(seen[0].headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  });

  test("add is a POST of the same; a gatherer's metrics are pushed too", async () => {
    const { seen, client } = recorder(202);
    const reg = new Registry();
    reg.register(metric2());
    await newPusher("gw:9091", "testjob").format("text").client(client).collector(metric1()).gatherer(reg).add();
    expect([seen[0].method, seen[0].path, seen[0].body]).toEqual(["POST", "/metrics/job/testjob", wantBody]);
  });

  test("a URL without a scheme is taken as http", () => {
    expect(newPusher("gw:9091", "j").groupURL).toBe("http://gw:9091/metrics/job/j");
  });

  const paths: [string, string, [string, string][], string][] = [
    ["a job with / is base64url-encoded", "test/job", [], "/metrics/job@base64/dGVzdC9qb2I"],
    ["a grouping value with /", "testjob", [["foobar", "bu/ms"]], "/metrics/job/testjob/foobar@base64/YnUvbXM"],
    [
      "a grouping value of non-ASCII characters",
      "testjob",
      [["titan", "Προμηθεύς"]],
      "/metrics/job/testjob/titan/" +
      encodeURIComponent("Προμηθεύς"),
    ],
    ["an empty grouping value", "testjob", [["empty", ""]], "/metrics/job/testjob/empty@base64/="],
    ["two grouping labels, in order", "testjob", [["a", "x"], ["b", "y"]], "/metrics/job/testjob/a/x/b/y"],
  ];
  for (const [name, job, grouping, path] of paths) {
    test(name, async () => {
      const { seen, client } = recorder();
      let p = newPusher("http://gw", job).client(client).collector(metric1());
      for (const [k, v] of grouping) p = p.grouping(k, v);
      await p.push();
      expect(seen[0].path).toBe(path);
    });
  }

  test("delete is a DELETE of the group, without a body", async () => {
    const { seen, client } = recorder(202);
    await newPusher("http://gw", "testjob").client(client).grouping("a", "x").delete();
    expect([seen[0].method, seen[0].path, seen[0].body]).toEqual(["DELETE", "/metrics/job/testjob/a/x", ""]);
  });

  test("basic auth is sent with every request", async () => {
    const { seen, client } = recorder(202);
    await newPusher("http://gw", "j").client(client).basicAuth("user", "pässword").delete();
    expect(seen[0].headers.get("authorization")).toBe("Basic " + Buffer.from("user:pässword").toString("base64"));
  });
});

describe("refusals", () => {
  test("a metric with a job label, or with a grouping label, is refused before anything is sent", async () => {
    const { seen, client } = recorder();
    const withJob = newGauge({ name: "g", help: "h", constLabels: { job: "x" } });
    await expect(newPusher("http://gw", "j").client(client).collector(withJob).push()).rejects.toThrow(
      "pushed metric g (Desc{",
    );
    await expect(newPusher("http://gw", "j").client(client).collector(withJob).push()).rejects.toThrow(
      "already contains a job label",
    );
    await expect(newPusher("http://gw", "j").client(client).collector(metric2()).grouping("foo", "bums").push()).rejects
      .toThrow(
        'pushed metric testname2 (Desc{fqName: "testname2"',
      );
    await expect(newPusher("http://gw", "j").client(client).collector(metric2()).grouping("foo", "bums").add()).rejects
      .toThrow(
        "already contains grouping label foo",
      );
    expect(seen).toEqual([]);
  });

  test("setup errors are returned by the next push, add or delete", async () => {
    const { seen, client } = recorder();
    const bad = newPusher("http://gw", "j").client(client).grouping("foo-bar", "bums");
    expect(bad.error()!.message).toBe("grouping label has invalid name: foo-bar");
    await expect(bad.push()).rejects.toThrow("grouping label has invalid name: foo-bar");
    await expect(bad.delete()).rejects.toThrow("grouping label has invalid name");
    await expect(newPusher("http://gw", "").client(client).push()).rejects.toThrow("job name is empty");
    const c = metric1();
    const twice = newPusher("http://gw", "j").client(client).collector(c).collector(c);
    await expect(twice.push()).rejects.toThrow("duplicate metrics collector registration attempted");
    expect(seen).toEqual([]);
  });

  test("an answer other than 200 or 202 is an error with its status, URL and body", async () => {
    const { client } = recorder(500, "fake error\n");
    await expect(newPusher("http://gw", "j").client(client).collector(metric1()).push()).rejects.toThrow(
      "unexpected status code 500 while pushing to http://gw/metrics/job/j: fake error",
    );
    await expect(newPusher("http://gw", "j").client(recorder(200).client).delete()).rejects.toThrow(
      "unexpected status code 200 while deleting http://gw/metrics/job/j",
    );
  });

  test("a gateway that cannot be reached is an error naming the URL", async () => {
    const down = () => Promise.reject(new TypeError("Unable to connect"));
    await expect(newPusher("http://gw", "j").client(down).collector(metric1()).push()).rejects.toThrow(
      "pushing to http://gw/metrics/job/j failed: Unable to connect",
    );
  });

  test("a collector that fails fails the push", async () => {
    const { seen, client } = recorder();
    const broken = { name: "broken", describe: () => {}, collect: () => Promise.reject(new Error("sensor gone")) };
    await expect(newPusher("http://gw", "j").client(client).collector(broken).push()).rejects.toThrow("sensor gone");
    expect(seen).toEqual([]);
  });
});

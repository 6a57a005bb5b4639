// The deployment files agree with the binary and with each other: the port, metrics
// path and probe paths come from the flag definitions and the running exporter, not
// from copies; promtool accepts the Prometheus config, and its relabelling turns the
// Deployment's pod into the right target.
//
// Runs under `bun test` and `deno test` (make test-unit, test-deno, test-deploy).
// The live tests run the binary named by $EXPORTER (make test-deploy passes
// ./exporter), else one they compile from this tree with the pinned Bun.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { Proc, ROOT } from "../testing/process.ts";
import { flagDefs, shutdownGraceMs, splitHostPort } from "../web/mod.ts";

const DEPLOY = join(ROOT, "deploy");

// deno-lint-ignore no-explicit-any
type Doc = any;

/** Every YAML document in `file` (under deploy/), failing on any parse error. */
function load(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(join(DEPLOY, file), "utf8"));
  for (const d of docs) {
    if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join("; ")}`);
  }
  return docs.map((d) => d.toJS());
}

function flagDefault(name: string): unknown {
  const d = flagDefs.find((f) => f.name === name);
  if (!d) throw new Error(`web/mod.ts flagDefs has no --${name}`);
  return d.default;
}

// What the manifests must agree with: the binary's zero-configuration behaviour.
const port = splitHostPort((flagDefault("web.listen-address") as string[])[0]).port;
const metricsPath = flagDefault("web.telemetry-path") as string;
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

const [deployment] = load("kubernetes/deployment.yaml");
const [service] = load("kubernetes/service.yaml");
const [serviceMonitor] = load("prometheus-operator/servicemonitor.yaml");
const [prometheusConfig] = load("prometheus/prometheus.yml");
const pod = deployment.spec.template;
const container = pod.spec.containers.find((c: Doc) => c.name === "exporter");

describe("YAML files", () => {
  const files = ["kubernetes", "prometheus-operator", "prometheus"].flatMap((d) =>
    readdirSync(join(DEPLOY, d)).filter((f) => /\.ya?ml$/.test(f)).map((f) => `${d}/${f}`)
  );
  test("every file under deploy/ parses", () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const f of files) expect(load(f).length).toBeGreaterThan(0);
  });
  test("every Kubernetes manifest is in one of the two kustomizations", () => {
    const manifests = files.filter((f) => !f.startsWith("prometheus/") && !f.endsWith("kustomization.yaml"));
    const listed = ["kubernetes", "prometheus-operator"].flatMap((d) =>
      load(`${d}/kustomization.yaml`)[0].resources.filter((r: string) => /\.ya?ml$/.test(r)).map((r: string) =>
        `${d}/${r}`
      )
    );
    expect(listed.sort()).toEqual(manifests.sort());
  });
  test("every manifest names its apiVersion, kind and metadata.name", () => {
    for (
      const [doc, want] of [
        [deployment, "apps/v1 Deployment"],
        [service, "v1 Service"],
        [serviceMonitor, "monitoring.coreos.com/v1 ServiceMonitor"],
      ]
    ) {
      expect(`${doc.apiVersion} ${doc.kind}`).toBe(want);
      expect(typeof doc.metadata?.name).toBe("string");
    }
  });
});

describe("Deployment", () => {
  test("the selector matches the pod template's labels", () => {
    for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) expect(pod.metadata.labels[k]).toBe(v);
  });
  test("the pod's prometheus.io annotations are the binary's defaults, as strings", () => {
    // Kubernetes rejects a non-string annotation; an unquoted 8080 would be a number.
    expect(pod.metadata.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(port),
      "prometheus.io/path": metricsPath,
    });
  });
  test("the container port named http is the default listen port", () => {
    expect(container.ports).toEqual([{ name: "http", containerPort: port, protocol: "TCP" }]);
  });
  test("the probes ask /-/ready and /-/healthy on the http port", () => {
    expect(container.readinessProbe.httpGet).toEqual({ path: "/-/ready", port: "http" });
    expect(container.livenessProbe.httpGet).toEqual({ path: "/-/healthy", port: "http" });
  });
  test("the image is the one `make image` tags", () => {
    expect(container.image).toBe(`ts-exporter-kit:${pkg.version}`);
  });
  test("resources have requests within limits", () => {
    const { requests, limits } = container.resources;
    expect(milli(requests.cpu)).toBeLessThanOrEqual(milli(limits.cpu));
    expect(bytes(requests.memory)).toBeLessThanOrEqual(bytes(limits.memory));
    // Below the RSS measured idle (42 MB, see deployment.yaml) the pod is OOM-killed.
    expect(bytes(limits.memory)).toBeGreaterThan(42e6);
  });
  test("the container runs as nonroot on a read-only root, without privileges", () => {
    const want = { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } };
    expect(pod.spec.securityContext).toEqual({ ...want, runAsGroup: 65532 });
    expect(container.securityContext).toEqual({
      ...want,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
  });
  test("the grace period outlasts the exporter's shutdown", () => {
    expect((pod.spec.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(shutdownGraceMs);
  });
});

describe("Service and ServiceMonitor", () => {
  test("the Service selects the pods and targets the http port", () => {
    for (const [k, v] of Object.entries(service.spec.selector)) expect(pod.metadata.labels[k]).toBe(v);
    expect(service.spec.ports).toEqual([{ name: "http", port, targetPort: "http", protocol: "TCP" }]);
  });
  test("the ServiceMonitor selects the Service and scrapes the metrics path", () => {
    for (const [k, v] of Object.entries(serviceMonitor.spec.selector.matchLabels)) {
      expect(service.metadata.labels[k]).toBe(v);
    }
    expect(serviceMonitor.spec.endpoints.map((e: Doc) => [e.port, e.path])).toEqual([["http", metricsPath]]);
  });
});

describe("kustomizations", () => {
  const base = kustomize("kubernetes");
  const operator = kustomize("prometheus-operator");
  const key = (o: Doc) => `${o.apiVersion} ${o.kind} ${o.metadata.name}`;

  test("the default one holds only kinds every cluster serves, so it applies without the Prometheus Operator", () => {
    expect(base.map(key).sort()).toEqual(["apps/v1 Deployment exporter", "v1 Service exporter"]);
    for (const o of base) {
      const group = o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : "";
      if (!BUILTIN_GROUPS.has(group)) throw new Error(`${key(o)}: group ${JSON.stringify(group)} needs a CRD`);
    }
  });
  test("the prometheus-operator one adds exactly the ServiceMonitor, labelled for kube-prometheus-stack", () => {
    const added = operator.filter((o) => !base.some((b) => key(b) === key(o)));
    expect(added.map(key)).toEqual(["monitoring.coreos.com/v1 ServiceMonitor exporter"]);
    // The rest is the default kustomization, unchanged.
    expect(operator.filter((o) => o !== added[0]).sort(byKey)).toEqual([...base].sort(byKey));
    expect(added[0].metadata.labels.release).toBe(KUBE_PROMETHEUS_STACK_RELEASE);
  });
  test("deploy/README.md gives both commands and the release label", () => {
    const readme = readFileSync(join(DEPLOY, "README.md"), "utf8");
    for (
      const want of [
        "kubectl apply -k deploy/kubernetes\n",
        "kubectl apply -k deploy/prometheus-operator\n",
        `release: ${KUBE_PROMETHEUS_STACK_RELEASE}`,
      ]
    ) {
      if (!readme.includes(want)) throw new Error(`deploy/README.md: got no ${JSON.stringify(want)}`);
    }
  });

  const kubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" }).status === 0;
  if (!kubectl) {
    console.warn("kubectl not found: the kustomizations are checked with this file's resources-only emulation alone");
  }
  (kubectl ? test : test.skip)("kubectl kustomize renders what the emulation above renders", () => {
    for (const [dir, want] of [["kubernetes", base], ["prometheus-operator", operator]] as const) {
      const r = spawnSync("kubectl", ["kustomize", join(DEPLOY, dir)], { encoding: "utf8", timeout: 30_000 });
      if (r.status !== 0) throw new Error(`kubectl kustomize deploy/${dir}: exit ${r.status}\n${r.stderr}`);
      const got = parseAllDocuments(r.stdout).map((d) => d.toJS());
      expect(got.sort(byKey)).toEqual([...want].sort(byKey));
    }
  });

  function byKey(a: Doc, b: Doc): number {
    return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  }
});

describe("Dockerfile", () => {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const instr = (name: string) =>
    [...dockerfile.matchAll(new RegExp(`^${name}\\s+(.+)$`, "gm"))].map((m) => m[1].trim());
  test("builds with the Bun that package.json pins", () => {
    expect(instr("ARG").filter((a) => a.startsWith("BUN_VERSION="))).toEqual([
      `BUN_VERSION=${pkg.devDependencies.bun}`,
    ]);
    expect(dockerfile).toContain("bun install --frozen-lockfile");
  });
  test("compiles with exactly `make build`'s command, flags from build.flags, plus the target", () => {
    // Both commands run as a user's build runs them (make's recipe, the RUN through
    // /bin/sh -c with the ARGs in its environment), with a stand-in bun that records
    // its arguments.
    const dir = mkdtempSync(join(tmpdir(), "build-flags-"));
    try {
      const bun = join(dir, "bun");
      writeFileSync(bun, `#!/bin/sh\nprintf '%s\\0' "$@" >"$BUN_ARGV"\n`, { mode: 0o755 });
      const argv = (name: string) => readFileSync(join(dir, name), "utf8").split("\0").slice(0, -1);
      const ids = ["VERSION=9.8.7", "REVISION=f00ba47"];
      const make = spawnSync("make", [
        "--no-print-directory",
        "-o",
        "node_modules/.installed",
        "build",
        `BUN=${bun}`,
        "EXPORTER=out/exporter",
        ...ids,
      ], {
        cwd: ROOT,
        env: { ...process.env, BUN_ARGV: join(dir, "make") },
        encoding: "utf8",
        timeout: 120_000,
      });
      if (make.status !== 0) throw new Error(`make build: exit ${make.status}\n${make.stdout}${make.stderr}`);
      const want = argv("make");
      expect(want).toContain("--define");
      expect(want.slice(-3)).toEqual(["main.ts", "--outfile", "out/exporter"]);

      const run = instructions(dockerfile).filter((i) => i.startsWith("RUN ") && /\bbun build\b/.test(i));
      expect(run.length).toBe(1);
      for (const [arch, target] of [["amd64", "bun-linux-x64"], ["arm64", "bun-linux-arm64"]]) {
        const r = spawnSync("/bin/sh", ["-c", run[0].slice("RUN ".length)], {
          cwd: ROOT,
          env: {
            PATH: `${dir}:${process.env.PATH}`,
            TARGETARCH: arch,
            BUN_ARGV: join(dir, arch),
            ...Object.fromEntries(ids.map((v) => v.split("="))),
          },
          encoding: "utf8",
        });
        if (r.status !== 0) {
          throw new Error(`the Dockerfile's RUN with TARGETARCH=${arch}: exit ${r.status}\n${r.stderr}`);
        }
        const got = argv(arch);
        expect(got.filter((a) => a.startsWith("--target="))).toEqual([`--target=${target}`]);
        const rest = got.filter((a) => !a.startsWith("--target="));
        expect(rest.slice(-1)).toEqual(["/out/exporter"]);
        expect(rest.slice(0, -1)).toEqual(want.slice(0, -1));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
  test("the build context holds build.flags (.dockerignore does not exclude it)", () => {
    const patterns = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    expect(patterns.length).toBeGreaterThan(0);
    // Docker's patterns are Go filepath.Match globs plus "**"; "!" re-includes.
    const glob = (p: string) =>
      new RegExp(
        `^${
          p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*\/?/g, "\0").replace(/\*/g, "[^/]*").replace(
            /\?/g,
            "[^/]",
          ).replace(/\0/g, ".*")
        }$`,
      );
    let excluded = false;
    for (const p of patterns) {
      const neg = p.startsWith("!");
      if (glob(neg ? p.slice(1) : p).test("build.flags")) excluded = !neg;
    }
    expect(excluded).toBe(false);
    expect(glob("**/*_test.ts").test("deploy/manifests_test.ts")).toBe(true);
  });
  test("runs /exporter as nonroot on distroless cc, exposing the default port", () => {
    expect(instr("FROM").at(-1)).toBe("gcr.io/distroless/cc-debian12:nonroot");
    expect(instr("USER")).toEqual([`${container.securityContext.runAsUser}:${container.securityContext.runAsGroup}`]);
    expect(instr("EXPOSE")).toEqual([String(port)]);
    expect(instr("ENTRYPOINT")).toEqual(['["/exporter"]']);
    expect(dockerfile).toMatch(/^\s+CMD \["\/exporter", "--healthcheck"\]$/m);
  });
});

describe("Prometheus scrape config", () => {
  const job = prometheusConfig.scrape_configs.find((j: Doc) => j.job_name === "kubernetes-pods");
  const target = (annotations: Record<string, string>, ip = "10.1.2.3", phase = "Running") =>
    relabel(
      {
        __address__: `${ip}:${port}`,
        __scheme__: "http",
        __metrics_path__: "/metrics",
        __meta_kubernetes_namespace: "monitoring",
        __meta_kubernetes_pod_name: "exporter-5d9c7",
        __meta_kubernetes_pod_ip: ip,
        __meta_kubernetes_pod_phase: phase,
        __meta_kubernetes_pod_container_name: container.name,
        ...Object.fromEntries(
          Object.entries(pod.metadata.labels).map((
            [k, v],
          ) => [`__meta_kubernetes_pod_label_${sanitize(k)}`, v as string]),
        ),
        ...Object.fromEntries(
          Object.entries(annotations).map(([k, v]) => [`__meta_kubernetes_pod_annotation_${sanitize(k)}`, v]),
        ),
      },
      job.relabel_configs,
    );

  test("discovers pods", () => {
    expect(job.kubernetes_sd_configs).toEqual([{ role: "pod" }]);
  });
  test("scrapes the Deployment's pod at its IP, annotated port and path", () => {
    const t = target(pod.metadata.annotations);
    expect(t && [t.__address__, t.__metrics_path__, t.__scheme__]).toEqual([`10.1.2.3:${port}`, metricsPath, "http"]);
    expect(t && [t.namespace, t.pod, t.container, t.app_kubernetes_io_name]).toEqual([
      "monitoring",
      "exporter-5d9c7",
      "exporter",
      "exporter",
    ]);
  });
  test("brackets an IPv6 pod IP", () => {
    expect(target(pod.metadata.annotations, "fd00::1:2")?.__address__).toBe(`[fd00::1:2]:${port}`);
  });
  test("honours other ports and paths", () => {
    const t = target({ "prometheus.io/scrape": "true", "prometheus.io/port": "9100", "prometheus.io/path": "/probe" });
    expect(t && [t.__address__, t.__metrics_path__]).toEqual(["10.1.2.3:9100", "/probe"]);
  });
  test("drops pods not annotated, annotated false, or finished", () => {
    expect(target({})).toBeUndefined();
    expect(target({ ...pod.metadata.annotations, "prometheus.io/scrape": "false" })).toBeUndefined();
    expect(target(pod.metadata.annotations, "10.1.2.3", "Succeeded")).toBeUndefined();
  });

  const promtool = spawnSync("promtool", ["--version"]).status === 0;
  if (!promtool) console.warn("promtool not found: skipping `promtool check config` (make system-deps installs it)");
  (promtool ? test : test.skip)("promtool check config accepts it", () => {
    const file = join(DEPLOY, "prometheus/prometheus.yml");
    let r = spawnSync("promtool", ["check", "config", file], { encoding: "utf8" });
    if (r.status !== 0 && /field kubernetes_sd_configs not found/.test(r.stdout + r.stderr)) {
      // Debian builds Prometheus without Kubernetes discovery (its client libraries are
      // not packaged), so this promtool cannot parse kubernetes_sd_configs at all. Check
      // everything else, the relabelling above all, with static targets in its place.
      console.warn(
        "promtool has no Kubernetes discovery (Debian's build): checking the config with static_configs in place of kubernetes_sd_configs",
      );
      const dir = mkdtempSync(join(tmpdir(), "prometheus-config-"));
      try {
        const copy = structuredClone(prometheusConfig);
        for (const j of copy.scrape_configs) {
          if (!j.kubernetes_sd_configs) continue;
          delete j.kubernetes_sd_configs;
          j.static_configs = [{ targets: [`10.1.2.3:${port}`] }];
        }
        writeFileSync(join(dir, "prometheus.yml"), stringify(copy));
        r = spawnSync("promtool", ["check", "config", join(dir, "prometheus.yml")], { encoding: "utf8" });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    if (r.status !== 0) throw new Error(`promtool check config: exit ${r.status}\n${r.stdout}${r.stderr}`);
  });
});

describe("the probes on a running exporter", () => {
  let running: Promise<{ proc: Proc; base: string }> | undefined;
  let buildDir: string | undefined;
  // Started by the first test that needs it, as that one has a timeout long enough
  // to compile a binary.
  const exporter = () => (running ??= start());

  async function start() {
    let bin = process.env.EXPORTER;
    if (!bin) {
      buildDir = mkdtempSync(join(tmpdir(), "exporter-build-"));
      bin = join(buildDir, "exporter");
      // build.flags' flags, as `make build` and the Dockerfile compile with them.
      const flags = readFileSync(join(ROOT, "build.flags"), "utf8").split("\n").filter((l) => l.startsWith("--"));
      const r = spawnSync(join(ROOT, "node_modules/.bin/bun"), ["build", ...flags, "main.ts", "--outfile", bin], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 60_000,
      });
      if (r.status !== 0) throw new Error(`bun build --compile: exit ${r.status}\n${r.stdout}${r.stderr}`);
    }
    // Port 0: the system picks a free one and the "Listening on" line names it.
    const proc = new Proc("exporter", bin, ["--web.listen-address=127.0.0.1:0"]);
    const [, address] = await proc.waitOutput(/msg="Listening on" address=(\S+)/, 1, 10_000);
    return { proc, base: `http://${address}` };
  }

  afterAll(async () => {
    const r = await running?.catch(() => undefined);
    await r?.proc.kill();
    if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  });

  for (
    const [name, path] of [
      ["readinessProbe", container.readinessProbe.httpGet.path],
      ["livenessProbe", container.livenessProbe.httpGet.path],
      ["the prometheus.io/path annotation", pod.metadata.annotations["prometheus.io/path"]],
    ]
  ) {
    test(`${name} ${path} answers 200`, async () => {
      const { base } = await exporter();
      const res = await fetch(base + path, { signal: AbortSignal.timeout(5000) });
      const body = await res.text();
      if (res.status !== 200) throw new Error(`GET ${path}: got ${res.status}, want 200\n${body}`);
      if (path === metricsPath) expect(body).toMatch(/^foo_metric 1$/m);
    }, 60_000);
  }

  test("SIGTERM stops it with exit code 0", async () => {
    const { proc } = await exporter();
    proc.signal("SIGTERM");
    const code = (await proc.waitExit(5000))?.code ?? "still running";
    expect(code).toBe(0);
  }, 60_000);
});

/**
 * The objects `kubectl kustomize deploy/<dir>` outputs, for the one field these
 * kustomizations use: `resources`, files or directories with their own
 * kustomization.yaml. Any other field fails, rather than being silently ignored.
 */
function kustomize(dir: string): Doc[] {
  const [k] = load(`${dir}/kustomization.yaml`);
  const unknown = Object.keys(k).filter((f) => !["apiVersion", "kind", "resources"].includes(f));
  if (unknown.length) throw new Error(`deploy/${dir}/kustomization.yaml: ${unknown.join(", ")} not emulated here`);
  return k.resources.flatMap((r: string) => {
    const path = join(dir, r);
    return /\.ya?ml$/.test(r) ? load(path) : kustomize(path);
  });
}

/**
 * API groups a cluster serves without any CustomResourceDefinition ("" is the core
 * group, apiVersion v1). The Prometheus Operator's monitoring.coreos.com is not one.
 */
const BUILTIN_GROUPS = new Set([
  "",
  "apps",
  "batch",
  "autoscaling",
  "policy",
  "networking.k8s.io",
  "rbac.authorization.k8s.io",
]);

/**
 * kube-prometheus-stack's Prometheus selects ServiceMonitors labelled
 * `release: <helm release name>` (its values' serviceMonitorSelectorNilUsesHelmValues,
 * true by default); this is the release name its README installs with.
 */
const KUBE_PROMETHEUS_STACK_RELEASE = "kube-prometheus-stack";

/**
 * A Dockerfile's instructions, one string each: continuation lines joined, comment
 * and empty lines dropped (Docker drops them inside a continued instruction too).
 */
function instructions(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (const line of text.split("\n")) {
    if (/^\s*(#|$)/.test(line)) continue;
    // Docker removes the backslash and the newline, joining the lines as they are.
    cur += line.endsWith("\\") ? line.slice(0, -1) : line;
    if (!line.endsWith("\\")) {
      out.push(cur.trim());
      cur = "";
    }
  }
  return out;
}

/** Prometheus' relabelling for the actions the config uses; undefined when dropped. */
function relabel(labels: Record<string, string>, rules: Doc[]): Record<string, string> | undefined {
  const out = { ...labels };
  for (const r of rules) {
    const action = r.action ?? "replace";
    // Prometheus anchors every regex at both ends; the default is (.*).
    const re = new RegExp(`^(?:${r.regex ?? "(.*)"})$`);
    const value = (r.source_labels ?? []).map((l: string) => out[l] ?? "").join(r.separator ?? ";");
    switch (action) {
      case "keep":
        if (!re.test(value)) return undefined;
        break;
      case "drop":
        if (re.test(value)) return undefined;
        break;
      case "replace": {
        const m = value.match(re);
        if (!m) break;
        const v = m[0].replace(re, r.replacement ?? "$1");
        if (v === "") delete out[r.target_label];
        else out[r.target_label] = v;
        break;
      }
      case "labelmap":
        for (const [k, v] of Object.entries(out)) if (re.test(k)) out[k.replace(re, r.replacement ?? "$1")] = v;
        break;
      default:
        throw new Error(`relabel action ${JSON.stringify(action)} is not emulated here`);
    }
  }
  for (const k of Object.keys(out)) if (k.startsWith("__meta_")) delete out[k];
  return out;
}

/** Kubernetes discovery's label-name form of an annotation or label key. */
function sanitize(key: string): string {
  return key.replace(/[^a-zA-Z0-9_]/g, "_");
}

function milli(cpu: string): number {
  return cpu.endsWith("m") ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000;
}

function bytes(mem: string): number {
  const m = mem.match(/^(\d+)(Ki|Mi|Gi|K|M|G)?$/);
  if (!m) throw new Error(`unsupported quantity ${JSON.stringify(mem)}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ""] ?? 1;
  return Number(m[1]) * unit;
}

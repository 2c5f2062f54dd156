// deploy/: the Kubernetes manifests are consistent with each other and with the app, and our own scan passes them.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { forbiddenAddressReason } from "../src/charts/address.js";
import { parseAllDocuments } from "yaml";
import { HEALTH_PATH } from "../src/github/app.js";
import { DEFAULT_CONFIG } from "../src/policy/config.js";
import { analyse } from "../src/policy/api.js";
import type { SourceFile } from "../src/policy/types.js";
import { CILIUM_SCHEMAS_DIR, hasCommand, hasShared, PROJECT_ROOT } from "./helpers/external.js";

const DEPLOY_DIR = join(PROJECT_ROOT, "deploy");

function deploySources(): SourceFile[] {
  return readdirSync(DEPLOY_DIR)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => {
      const content = readFileSync(join(DEPLOY_DIR, name));
      return { path: `deploy/${name}`, size: content.byteLength, content: new Uint8Array(content) };
    });
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function objects(): Obj[] {
  return deploySources().flatMap((source) =>
    parseAllDocuments(Buffer.from(source.content as Uint8Array).toString("utf8")).map((document) => {
      expect(document.errors, source.path).toEqual([]);
      return document.toJS() as Obj;
    }),
  );
}

function find(kind: string, name: string): Obj {
  const found = objects().find((object) => object.kind === kind && object.metadata?.name === name);
  expect(found, `${kind}/${name}`).toBeDefined();
  return found as Obj;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

describe("deploy/", () => {
  it("passes our own scan: two policies read, no warning and no error", async () => {
    const result = await analyse(deploySources(), { config: DEFAULT_CONFIG });
    expect(result.policies).toBe(2);
    expect(result.findings.filter((finding) => finding.severity !== "info")).toEqual([]);
  });

  it("would fail the scan if the app reached Redis through toServices+toPorts (the scan is not blind here)", async () => {
    const sources = deploySources().map((source) => {
      if (source.path !== "deploy/networkpolicy.yaml") return source;
      const text = Buffer.from(source.content as Uint8Array)
        .toString("utf8")
        .replace(
          /- toEndpoints:\n(\s+)- matchLabels:\n\s+app\.kubernetes\.io\/name: cilium-policy-bot-redis\n\s+app\.kubernetes\.io\/component: redis\n/,
          "- toServices:\n$1- k8sService:\n$1    serviceName: cilium-policy-bot-redis\n$1    namespace: cilium-policy-bot\n",
        );
      expect(text).toContain("toServices");
      const content = new TextEncoder().encode(text);
      return { path: source.path, size: content.byteLength, content };
    });
    const result = await analyse(sources, { config: DEFAULT_CONFIG });
    expect(result.findings.map((finding) => finding.ruleId)).toContain("to-services-with-to-ports");
  });

  it("runs two replicas probed on the app's health route, kept up by a PodDisruptionBudget and behind a Service", () => {
    const deployment = find("Deployment", "cilium-policy-bot");
    expect(deployment.spec.replicas).toBe(2);
    const podLabels = deployment.spec.template.metadata.labels;
    expect(matches(deployment.spec.selector.matchLabels, podLabels)).toBe(true);
    const [container] = deployment.spec.template.spec.containers;
    expect(container.readinessProbe.httpGet.path).toBe(HEALTH_PATH);
    expect(container.livenessProbe).toBeDefined();
    const env = Object.fromEntries(container.env.map((entry: Obj) => [entry.name, entry.value]));
    expect(env.HOST).toBe("0.0.0.0");
    const port = Number(env.PORT);
    expect(container.ports.find((p: Obj) => p.name === "http").containerPort).toBe(port);

    const pdb = find("PodDisruptionBudget", "cilium-policy-bot");
    expect(pdb.spec.minAvailable).toBe(1);
    expect(matches(pdb.spec.selector.matchLabels, podLabels)).toBe(true);
    const service = find("Service", "cilium-policy-bot");
    expect(matches(service.spec.selector, podLabels)).toBe(true);

    // REDIS_URL names the Redis Service, whose selector picks the Redis pods.
    const redisUrl = new URL(env.REDIS_URL);
    const redisService = find("Service", redisUrl.hostname);
    expect(redisService.spec.ports.map((p: Obj) => p.port)).toContain(Number(redisUrl.port));
    const redis = find("Deployment", redisUrl.hostname);
    expect(matches(redisService.spec.selector, redis.spec.template.metadata.labels)).toBe(true);

    // Secrets come from a template only.
    const secret = find("Secret", deployment.spec.template.spec.containers[0].envFrom[0].secretRef.name);
    for (const value of Object.values(secret.stringData as Record<string, string>)) {
      expect(value.trim()).toMatch(/^REPLACE_WITH_/);
    }
  });

  it("runs the image as the Dockerfile builds it: its port and its non-root user (node, uid 1000)", () => {
    const dockerfile = readFileSync(join(PROJECT_ROOT, "Dockerfile"), "utf8");
    const deployment = find("Deployment", "cilium-policy-bot");
    const [container] = deployment.spec.template.spec.containers;
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${container.ports[0].containerPort}$`, "m"));
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
  });

  it("lets the app reach only DNS (with a DNS rule), Redis, GitHub on 443 and public addresses on 443 (chart downloads)", () => {
    const deployment = find("Deployment", "cilium-policy-bot");
    const podLabels = deployment.spec.template.metadata.labels;
    const redisLabels = find("Deployment", "cilium-policy-bot-redis").spec.template.metadata.labels;
    const policy = find("CiliumNetworkPolicy", "cilium-policy-bot");
    expect(matches(policy.spec.endpointSelector.matchLabels, podLabels)).toBe(true);
    const egress: Obj[] = policy.spec.egress;
    const peers = egress.map((rule) => Object.keys(rule).filter((key) => key !== "toPorts"));
    expect(peers).toEqual([["toEndpoints"], ["toEndpoints"], ["toFQDNs"], ["toCIDRSet"]]);
    const [dns, toRedis, github, charts] = egress as [Obj, Obj, Obj, Obj];
    expect(dns.toEndpoints[0].matchLabels).toEqual({
      "k8s:io.kubernetes.pod.namespace": "kube-system",
      "k8s-app": "kube-dns",
    });
    expect(dns.toPorts[0].ports[0].port).toBe("53");
    expect(dns.toPorts[0].rules.dns.length).toBeGreaterThan(0);
    expect(matches(toRedis.toEndpoints[0].matchLabels, redisLabels)).toBe(true);
    expect(toRedis.toPorts[0].ports).toEqual([{ port: "6379", protocol: "TCP" }]);
    expect(github.toFQDNs).toEqual([{ matchName: "api.github.com" }, { matchName: "github.com" }]);
    expect(github.toPorts[0].ports).toEqual([{ port: "443", protocol: "TCP" }]);
    // Downloads reach public addresses only: every range the app refuses is excluded at the network too.
    expect(charts.toPorts[0].ports).toEqual([{ port: "443", protocol: "TCP" }]);
    const [v4, v6] = charts.toCIDRSet as [Obj, Obj];
    expect(v4.cidr).toBe("0.0.0.0/0");
    expect(v4.except).toEqual(
      expect.arrayContaining([
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "100.64.0.0/10",
      ]),
    );
    expect(v6.cidr).toBe("::/0");
    expect(v6.except).toEqual(expect.arrayContaining(["::1/128", "fc00::/7", "fe80::/10"]));
    for (const range of [...v4.except, ...v6.except] as string[]) {
      const [address] = range.split("/");
      expect(forbiddenAddressReason(address!), range).not.toBeNull();
    }
    const env = Object.fromEntries(deployment.spec.template.spec.containers[0].env.map((e: Obj) => [e.name, e.value]));
    const mounts = deployment.spec.template.spec.containers[0].volumeMounts.map((m: Obj) => m.mountPath);
    expect(mounts).toContain(env.CHART_CACHE_DIR);

    const redisPolicy = find("CiliumNetworkPolicy", "cilium-policy-bot-redis");
    expect(matches(redisPolicy.spec.endpointSelector.matchLabels, redisLabels)).toBe(true);
    expect(matches(redisPolicy.spec.ingress[0].fromEndpoints[0].matchLabels, podLabels)).toBe(true);
  });

  describe.skipIf(!hasShared())("against Cilium's CRD schema", () => {
    it("both policies validate", () => {
      const schema = JSON.parse(readFileSync(join(CILIUM_SCHEMAS_DIR, "ciliumnetworkpolicy_v2.json"), "utf8"));
      const regExp = Object.assign(
        (pattern: string, flags: string) =>
          new RegExp(pattern.replaceAll("\\PC", "\\P{C}"), flags.includes("u") ? flags : `${flags}u`),
        { code: "new RegExp" },
      );
      const validate = new Ajv({ strict: false, allErrors: true, code: { regExp } }).compile(schema);
      const policies = objects().filter((object) => object.kind === "CiliumNetworkPolicy");
      expect(policies).toHaveLength(2);
      for (const policy of policies) expect(validate(policy), JSON.stringify(validate.errors)).toBe(true);
    });
  });

  // An extra oracle where kubectl exists; not required (nothing depends on kubectl).
  it.skipIf(!hasCommand("kubectl", ["version", "--client"]))("renders with kubectl kustomize, every file used", () => {
    const rendered = execFileSync("kubectl", ["kustomize", DEPLOY_DIR], { encoding: "utf8" });
    const kinds = parseAllDocuments(rendered).map((document) => {
      const object = document.toJS() as Obj;
      expect(object.metadata.namespace ?? "cluster").toMatch(/^(cilium-policy-bot|cluster)$/);
      return object.kind;
    });
    expect(kinds.sort()).toEqual(
      objects()
        .map((object) => object.kind)
        .filter((kind) => kind !== "Kustomization")
        .sort(),
    );
  });
});

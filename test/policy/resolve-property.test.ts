// Arbitrary repositories (kustomizations pointing anywhere, odd Services and workloads) and arbitrary toServices
// entries: indexing and resolution never throw, and every answer that is not from the repository, the configuration
// or a builtin explains itself with a note.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/policy/config.js";
import { parseManifestFile } from "../../src/policy/read/manifests.js";
import { buildRepoIndex } from "../../src/policy/index/repo-index.js";
import { IndexLookups } from "../../src/policy/index/lookups.js";
import { resolveServices } from "../../src/policy/resolve/resolve.js";
import { stringify } from "yaml";
import { source } from "../helpers/sources.js";

const dirs = ["", "a", "a/b", "c", "../x"];
const names = ["web", "db", "kube-dns", "kubernetes", "cluster-vault"];
const anyValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 2 }),
);
const labels = fc.oneof(
  fc.dictionary(fc.constantFrom("app", "tier", "k8s:app", "team"), fc.constantFrom("web", "db", "x")),
  anyValue,
);
const reference = fc.oneof(
  fc.constantFrom(...dirs, "svc.yaml", "a/svc.yaml", "https://example.com/x", "../../.."),
  fc.string(),
);

const kustomization = fc.record(
  {
    namespace: fc.oneof(fc.constantFrom("n1", "n2"), anyValue),
    namePrefix: fc.oneof(fc.constantFrom("p-"), anyValue),
    nameSuffix: fc.oneof(fc.constantFrom("-s"), anyValue),
    commonLabels: labels,
    labels: fc.oneof(
      fc.array(fc.record({ pairs: labels, includeSelectors: fc.boolean(), includeTemplates: fc.boolean() }), {
        maxLength: 2,
      }),
      anyValue,
    ),
    resources: fc.oneof(fc.array(reference, { maxLength: 4 }), anyValue),
    bases: fc.array(reference, { maxLength: 2 }),
    components: fc.oneof(fc.array(reference, { maxLength: 2 }), anyValue),
    patches: fc.oneof(
      fc.array(
        fc.record({
          target: fc.record({
            kind: fc.constantFrom("Service", "Deployment"),
            name: fc.constantFrom("web", "(", ".*"),
          }),
        }),
      ),
      anyValue,
    ),
    kind: fc.constantFrom("Kustomization", "Component"),
  },
  { requiredKeys: [] },
);

const service = fc.record({
  apiVersion: fc.constant("v1"),
  kind: fc.constant("Service"),
  metadata: fc.record(
    {
      name: fc.oneof(fc.constantFrom(...names), anyValue),
      namespace: fc.oneof(fc.constantFrom("n1", "kube-system"), anyValue),
      labels,
    },
    { requiredKeys: [] },
  ),
  spec: fc.oneof(
    fc.record(
      {
        selector: labels,
        type: fc.constantFrom("ClusterIP", "ExternalName"),
        ports: fc.oneof(
          fc.array(
            fc.record(
              {
                port: fc.oneof(fc.integer({ min: 0, max: 70000 }), anyValue),
                targetPort: fc.oneof(fc.integer(), fc.constantFrom("http", ""), anyValue),
                protocol: anyValue,
              },
              { requiredKeys: [] },
            ),
            { maxLength: 3 },
          ),
          anyValue,
        ),
      },
      { requiredKeys: [] },
    ),
    anyValue,
  ),
});

const workload = fc.record({
  apiVersion: fc.constant("apps/v1"),
  kind: fc.constant("Deployment"),
  metadata: fc.record({ name: fc.constantFrom(...names), namespace: fc.constantFrom("n1", "n2") }),
  spec: fc.oneof(
    fc.record({
      template: fc.record({
        metadata: fc.record({ labels }),
        spec: fc.record({
          containers: fc.array(
            fc.record({
              ports: fc.array(
                fc.record({ name: fc.constantFrom("http", "web"), containerPort: fc.oneof(fc.integer(), anyValue) }),
              ),
            }),
          ),
        }),
      }),
    }),
    anyValue,
  ),
});

const flux = fc.record({
  apiVersion: fc.constant("kustomize.toolkit.fluxcd.io/v1"),
  kind: fc.constant("Kustomization"),
  metadata: fc.record({ name: fc.constantFrom("apps", "infra"), namespace: fc.constant("flux-system") }),
  spec: fc.oneof(
    fc.record(
      {
        path: fc.oneof(fc.constantFrom(...dirs, "./", "./a"), anyValue),
        targetNamespace: fc.oneof(fc.constantFrom("n1", "n2"), anyValue),
        namePrefix: anyValue,
        commonMetadata: fc.oneof(fc.record({ labels }), anyValue),
        postBuild: anyValue,
        patches: anyValue,
        components: anyValue,
        sourceRef: fc.oneof(fc.record({ kind: fc.constantFrom("GitRepository", "OCIRepository") }), anyValue),
      },
      { requiredKeys: [] },
    ),
    anyValue,
  ),
});

const entry = fc.oneof(
  fc.record({
    k8sService: fc.record(
      {
        serviceName: fc.oneof(fc.constantFrom(...names), anyValue),
        namespace: fc.oneof(fc.constantFrom("n1", "n2", "kube-system", "default"), anyValue),
      },
      { requiredKeys: [] },
    ),
  }),
  fc.record({
    k8sServiceSelector: fc.record(
      {
        selector: fc.oneof(fc.record({ matchLabels: labels }), anyValue),
        namespace: fc.oneof(fc.constantFrom("n1"), anyValue),
      },
      { requiredKeys: [] },
    ),
  }),
  anyValue,
);

const repository = fc.array(
  fc.tuple(
    fc.constantFrom(...dirs.filter((d) => !d.startsWith(".."))),
    fc.oneof(
      fc.constant("kustomization.yaml"),
      fc.constant("svc.yaml"),
      fc.constant("w.yaml"),
      fc.constant("flux.yaml"),
    ),
    kustomization,
    service,
    workload,
    flux,
  ),
  { maxLength: 6 },
);

describe("resolution on arbitrary repositories", () => {
  it("never throws, and guesses and failures always carry a note", () => {
    fc.assert(
      fc.property(repository, fc.array(entry, { maxLength: 4 }), fc.boolean(), (files, entries, clusterwide) => {
        const parsed = files.map(([dir, name, k, s, w, f]) => {
          const path = dir === "" ? name : `${dir}/${name}`;
          const body = name === "kustomization.yaml" ? k : name === "svc.yaml" ? s : name === "flux.yaml" ? f : w;
          return parseManifestFile(source(path, stringify(body)));
        });
        const lookups = new IndexLookups(buildRepoIndex(parsed));
        const config = resolveConfig({});
        for (const e of entries) {
          for (const answer of resolveServices(e, {
            policy: { namespace: clusterwide ? undefined : "n1", clusterwide },
            lookups,
            config,
          })) {
            if (answer.resolution === "guessed" || answer.resolution === "manual") expect(answer.note).toBeTruthy();
            if (answer.resolution !== "manual" && answer.selector) expect(answer.namespace).toBeDefined();
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

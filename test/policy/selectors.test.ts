import { describe, expect, it } from "vitest";
import {
  constrainsNamespace,
  hasNamespaceConstraint,
  isEmptySelector,
  isNamespaceKey,
  isPodLabelSelector,
  labelSelectorFrom,
  matchesLabels,
  parseLabelSelectorText,
  parseSelectorKey,
  selectorNamespaces,
} from "../../src/policy/selectors.js";

describe("selector keys", () => {
  it("splits the source prefix off", () => {
    expect(parseSelectorKey("k8s:app")).toEqual({ source: "k8s", key: "app" });
    expect(parseSelectorKey("app.kubernetes.io/name")).toEqual({ source: undefined, key: "app.kubernetes.io/name" });
    expect(parseSelectorKey("reserved:host")).toEqual({ source: "reserved", key: "host" });
  });

  it("recognises both spellings of the namespace key, and namespace labels", () => {
    expect(isNamespaceKey("k8s:io.kubernetes.pod.namespace")).toBe(true);
    expect(isNamespaceKey("io.kubernetes.pod.namespace")).toBe(true);
    expect(isNamespaceKey("any:io.kubernetes.pod.namespace")).toBe(true);
    expect(isNamespaceKey("reserved:io.kubernetes.pod.namespace")).toBe(false);
    expect(isNamespaceKey("io.kubernetes.pod.namespacex")).toBe(false);
    expect(constrainsNamespace("k8s:io.cilium.k8s.namespace.labels.team")).toBe(true);
    expect(constrainsNamespace("app")).toBe(false);
  });
});

describe("selectors", () => {
  it("finds the namespaces a selector pins", () => {
    expect(selectorNamespaces({ matchLabels: { "k8s:io.kubernetes.pod.namespace": "vault" } })).toEqual(["vault"]);
    expect(
      selectorNamespaces({
        matchExpressions: [{ key: "io.kubernetes.pod.namespace", operator: "In", values: ["a", "b"] }],
        matchLabels: { "io.kubernetes.pod.namespace": "b" },
      }),
    ).toEqual(["b"]);
    expect(selectorNamespaces({ matchLabels: { app: "x" } })).toBeUndefined();
    expect(hasNamespaceConstraint({ matchLabels: { app: "x", "io.kubernetes.pod.namespace": "y" } })).toBe(true);
    expect(hasNamespaceConstraint({ matchLabels: { app: "x" } })).toBe(false);
  });

  it("tells empty and pod-label-only selectors apart", () => {
    expect(isEmptySelector({})).toBe(true);
    expect(isEmptySelector({ matchLabels: {}, matchExpressions: [] })).toBe(true);
    expect(isPodLabelSelector({ matchLabels: { "k8s:app": "x", tier: "db" } })).toBe(true);
    expect(isPodLabelSelector({ matchLabels: { "reserved:host": "" } })).toBe(false);
    expect(isPodLabelSelector({ matchLabels: { "io.cilium.k8s.policy.serviceaccount": "sa" } })).toBe(false);
  });

  it("matches labels with Kubernetes semantics and Cilium sources", () => {
    const labels = { app: "vault", tier: "backend" };
    expect(matchesLabels({ matchLabels: { "k8s:app": "vault" } }, labels)).toBe(true);
    expect(matchesLabels({ matchLabels: { "any:app": "vault", tier: "backend" } }, labels)).toBe(true);
    expect(matchesLabels({ matchLabels: { app: "other" } }, labels)).toBe(false);
    expect(matchesLabels({ matchLabels: { "container:app": "vault" } }, labels)).toBe(false);
    const expressions = (operator: string, values?: string[]) =>
      matchesLabels({ matchExpressions: [{ key: "tier", operator, ...(values ? { values } : {}) }] }, labels);
    expect(expressions("In", ["backend", "x"])).toBe(true);
    expect(expressions("In", ["x"])).toBe(false);
    expect(expressions("NotIn", ["backend"])).toBe(false);
    expect(expressions("NotIn", ["x"])).toBe(true);
    expect(expressions("Exists")).toBe(true);
    expect(expressions("DoesNotExist")).toBe(false);
    expect(expressions("Gt", ["1"])).toBe(false);
    expect(matchesLabels({}, labels)).toBe(true);
  });

  it("reads selectors from parsed YAML defensively", () => {
    expect(labelSelectorFrom({ matchLabels: { app: "x", n: 1, bad: { a: 1 } } })).toEqual({
      matchLabels: { app: "x", n: "1" },
      matchExpressions: [],
    });
    expect(
      labelSelectorFrom({ matchExpressions: [{ key: "a", operator: "In", values: ["b", 2] }, { key: 1 }] }),
    ).toEqual({
      matchLabels: {},
      matchExpressions: [{ key: "a", operator: "In", values: ["b", "2"] }],
    });
    expect(labelSelectorFrom("x")).toBeUndefined();
    expect(labelSelectorFrom(null)).toBeUndefined();
  });
});

describe("label selectors written as text (kubectl -l, kustomize patch targets)", () => {
  it.each([
    ["a=b,c!=d", { matchLabels: { a: "b" }, matchExpressions: [{ key: "c", operator: "NotIn", values: ["d"] }] }],
    ["a==b", { matchLabels: { a: "b" }, matchExpressions: [] }],
    [
      "env in (prod, staging),!legacy,tier",
      {
        matchLabels: {},
        matchExpressions: [
          { key: "env", operator: "In", values: ["prod", "staging"] },
          { key: "legacy", operator: "DoesNotExist" },
          { key: "tier", operator: "Exists" },
        ],
      },
    ],
    ["", { matchLabels: {}, matchExpressions: [] }],
  ])("%s", (text, expected) => {
    expect(parseLabelSelectorText(text)).toEqual(expected);
  });

  it.each(["a notin (true", "a b", "a in ()", "a in (x y)", "=b", "a=b=c", "a in ((x))"])(
    "%s is not a selector",
    (text) => {
      expect(parseLabelSelectorText(text)).toBeUndefined();
    },
  );

  it("reads adversarial text from a pull request in linear time, and refuses what is too long to be real", () => {
    const spaces = " ".repeat(8_000);
    expect(parseLabelSelectorText(`a${spaces}x`)).toBeUndefined();
    expect(parseLabelSelectorText(`a${spaces}=${spaces}b`)).toEqual({ matchLabels: { a: "b" }, matchExpressions: [] });
    expect(parseLabelSelectorText(`a=b,${"c".repeat(20_000)}`)).toBeUndefined();
  });

  it("notin matches objects without the label, as Kubernetes does", () => {
    const selector = parseLabelSelectorText("substitution.flux.home.arpa/disabled notin (true)")!;
    expect(matchesLabels(selector, {})).toBe(true);
    expect(matchesLabels(selector, { "substitution.flux.home.arpa/disabled": "false" })).toBe(true);
    expect(matchesLabels(selector, { "substitution.flux.home.arpa/disabled": "true" })).toBe(false);
  });
});

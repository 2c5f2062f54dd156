// Generated GitOps repositories for the benchmarks: one kustomize folder per app with a Deployment, a Service and a
// CiliumNetworkPolicy. Every fourth policy (app index % 4 === 0) reaches the next app's Service with
// toServices+toPorts, which is what the engine looks for; the others use toEndpoints. Deterministic: the same
// arguments always give the same bytes.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Apps share namespaces the way teams do. */
export const NAMESPACES = 50;
export const FILES_PER_APP = 4;

export function appName(index) {
  return `app-${String(index).padStart(5, "0")}`;
}

export function namespaceOf(index) {
  return `team-${String(index % NAMESPACES).padStart(2, "0")}`;
}

/** Whether app `index`'s policy combines toServices with toPorts. */
export function hasToServicesWithToPorts(index) {
  return index % 4 === 0;
}

function kustomization(index) {
  return `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ${namespaceOf(index)}
commonLabels:
  team: ${namespaceOf(index)}
resources:
  - deployment.yaml
  - service.yaml
  - networkpolicy.yaml
`;
}

function deployment(index) {
  const name = appName(index);
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels:
    app.kubernetes.io/name: ${name}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: ${name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${name}
        app.kubernetes.io/part-of: shop
    spec:
      containers:
        - name: ${name}
          image: registry.example.com/shop/${name}:1.${index % 10}.0
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
          readinessProbe:
            httpGet:
              path: /ready
              port: http
`;
}

function service(index) {
  const name = appName(index);
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  labels:
    app.kubernetes.io/name: ${name}
spec:
  selector:
    app.kubernetes.io/name: ${name}
  ports:
    - name: http
      port: 80
      targetPort: http
      protocol: TCP
`;
}

/** App `index`'s policy; `toServices` says whether it reaches the next app through toServices+toPorts. */
export function policyOf(index, apps, { toServices = hasToServicesWithToPorts(index) } = {}) {
  const name = appName(index);
  const peer = (index + 1) % apps;
  const peerName = appName(peer);
  const egressToPeer = toServices
    ? `    # calls ${peerName} through its Service
    - toServices:
        - k8sService:
            serviceName: ${peerName}
            namespace: ${namespaceOf(peer)}
      toPorts:
        - ports:
            - port: "8080"
              protocol: TCP
`
    : `    - toEndpoints:
        - matchLabels:
            app.kubernetes.io/name: ${peerName}
            k8s:io.kubernetes.pod.namespace: ${namespaceOf(peer)}
      toPorts:
        - ports:
            - port: "8080"
              protocol: TCP
`;
  return `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: ${name}
spec:
  endpointSelector:
    matchLabels:
      app.kubernetes.io/name: ${name}
  ingress:
    - fromEndpoints:
        - matchLabels:
            app.kubernetes.io/part-of: shop
      toPorts:
        - ports:
            - port: "8080"
              protocol: TCP
  egress:
    - toEndpoints:
        - matchLabels:
            k8s:io.kubernetes.pod.namespace: kube-system
            k8s-app: kube-dns
      toPorts:
        - ports:
            - port: "53"
              protocol: ANY
${egressToPeer}`;
}

/** The files of a repository of `apps` apps, as repository-relative paths and texts. */
export function* repositoryFiles(apps) {
  for (let index = 0; index < apps; index++) {
    const folder = `apps/${appName(index)}`;
    yield { path: `${folder}/kustomization.yaml`, text: kustomization(index) };
    yield { path: `${folder}/deployment.yaml`, text: deployment(index) };
    yield { path: `${folder}/service.yaml`, text: service(index) };
    yield { path: `${folder}/networkpolicy.yaml`, text: policyOf(index, apps) };
  }
}

/** Writes a repository of `apps` apps under `dir` (created when missing) and returns its file count and bytes. */
export function writeRepository(dir, apps) {
  let files = 0;
  let bytes = 0;
  for (const file of repositoryFiles(apps)) {
    const target = join(dir, file.path);
    if (file.path.endsWith("kustomization.yaml")) mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.text);
    files += 1;
    bytes += Buffer.byteLength(file.text);
  }
  return { dir, files, bytes };
}

/** A fresh temporary directory holding a repository of `apps` apps. */
export function generateRepository(apps, parent = tmpdir()) {
  return writeRepository(mkdtempSync(join(parent, `cpb-bench-${apps}-`)), apps);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const apps = Number(process.argv[2] ?? 1000);
  const dir = process.argv[3];
  const result = dir ? writeRepository(dir, apps) : generateRepository(apps);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

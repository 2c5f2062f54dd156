// A small GitOps repository for the app's end-to-end tests: a Service and its Deployment, and policies.
export const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
spec:
  selector:
    app: api
  ports:
    - name: http
      port: 80
      targetPort: 8080
`;

export const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
        - name: api
          image: example/api:1
          ports:
            - name: http
              containerPort: 8080
`;

/** A policy whose egress rule combines toServices with toPorts. */
export function badPolicy(name: string): string {
  return `# egress of ${name} to the API
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: ${name}
  namespace: shop
spec:
  endpointSelector:
    matchLabels:
      app: ${name}
  egress:
    - toServices:
        - k8sService:
            serviceName: api
            namespace: shop
      toPorts:
        - ports:
            - port: "80"
              protocol: TCP
`;
}

export function goodPolicy(name: string): string {
  return `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: ${name}
  namespace: shop
spec:
  endpointSelector:
    matchLabels:
      app: ${name}
  egress:
    - toEndpoints:
        - matchLabels:
            app: api
            k8s:io.kubernetes.pod.namespace: shop
      toPorts:
        - ports:
            - port: "8080"
              protocol: TCP
`;
}

export const BASE_FILES: Record<string, string> = {
  "README.md": "# shop\n",
  "apps/api/service.yaml": SERVICE,
  "apps/api/deployment.yaml": DEPLOYMENT,
  "apps/web/policy.yaml": goodPolicy("web"),
  "apps/legacy/policy.yaml": badPolicy("legacy"),
};

/** A policy whose Service nothing in the repository describes: a rewrite can only guess its pods. */
export function unknownServicePolicy(name: string): string {
  return badPolicy(name).replace("serviceName: api", "serviceName: payments");
}

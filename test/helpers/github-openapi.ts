// Checks requests against GitHub's OpenAPI description (@octokit/openapi): the route exists for the method, the
// path parameters fit their schemas, and a JSON body validates against the operation's requestBody schema.
// GraphQL requests are checked against GitHub's GraphQL schema (@octokit/graphql-schema) by graphql-js itself.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { schema as githubGraphqlSdl } from "@octokit/graphql-schema";
import { buildSchema } from "graphql";
import type { GraphQLSchema } from "graphql";
import { Ajv } from "ajv";
import type { ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

const require = createRequire(import.meta.url);
// ajv-formats is CommonJS with a default export
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

interface Operation {
  readonly method: string;
  readonly template: string;
  readonly pattern: RegExp;
  readonly params: readonly string[];
  readonly pointer: string;
  readonly hasJsonBody: boolean;
  readonly bodyRequired: boolean;
  readonly paramSchemas: Record<string, unknown>;
}

export interface RouteMatch {
  readonly template: string;
  readonly params: Record<string, string>;
}

type Spec = {
  paths: Record<string, Record<string, unknown>>;
  components: { parameters: Record<string, unknown> };
};

function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

export class OpenApiValidator {
  readonly #operations: Operation[] = [];
  readonly #ajv: Ajv;
  readonly #validators = new Map<string, ValidateFunction>();

  constructor() {
    const path = require.resolve("@octokit/openapi/generated/api.github.com.json");
    const spec = JSON.parse(readFileSync(path, "utf8")) as Spec;
    this.#ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, discriminator: false });
    addFormats(this.#ajv);
    this.#ajv.addFormat("repo.nwo", /^[^/]+\/[^/]+$/); // Octokit's "owner/name" format
    this.#ajv.addSchema({ components: spec.components, paths: spec.paths }, "gh");
    for (const [template, item] of Object.entries(spec.paths)) {
      const params: string[] = [];
      const source = template
        .split("/")
        .map((segment) => {
          const match = /^\{(.+)\}$/.exec(segment);
          if (!match) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
          params.push(match[1]!);
          return "([^/]+)";
        })
        .join("/");
      for (const method of ["get", "post", "put", "patch", "delete"]) {
        const op = item[method] as
          | { requestBody?: { required?: boolean; content?: Record<string, unknown> }; parameters?: unknown[] }
          | undefined;
        if (!op) continue;
        const paramSchemas: Record<string, unknown> = {};
        for (const raw of [...((item.parameters as unknown[]) ?? []), ...(op.parameters ?? [])]) {
          let param = raw as { $ref?: string; name?: string; in?: string; schema?: unknown };
          if (param.$ref) param = spec.components.parameters[param.$ref.split("/").pop()!] as typeof param;
          if (param?.in === "path" && param.name) paramSchemas[param.name] = param.schema;
        }
        this.#operations.push({
          method: method.toUpperCase(),
          template,
          pattern: new RegExp(`^${source}$`),
          params,
          pointer: `gh#/paths/${escapePointer(template)}/${method}/requestBody/content/application~1json/schema`,
          hasJsonBody: Boolean(op.requestBody?.content?.["application/json"]),
          bodyRequired: Boolean(op.requestBody?.required),
          paramSchemas,
        });
      }
    }
    // Literal segments win over parameters (e.g. /repos/{o}/{r}/pulls/comments before /pulls/{pull_number}).
    this.#operations.sort((a, b) => a.params.length - b.params.length);
  }

  match(method: string, rawPath: string): RouteMatch | null {
    const path = rawPath.split("?")[0]!;
    for (const op of this.#operations) {
      if (op.method !== method) continue;
      const match = op.pattern.exec(path);
      if (!match) continue;
      const params: Record<string, string> = {};
      op.params.forEach((name, i) => (params[name] = decodeURIComponent(match[i + 1]!)));
      return { template: op.template, params };
    }
    return null;
  }

  /** Returns the violations of one request; empty when it is a valid call of GitHub's API. */
  check(method: string, rawPath: string, body: unknown): string[] {
    const path = rawPath.split("?")[0]!;
    const op = this.#operations.find((candidate) => candidate.method === method && candidate.pattern.test(path));
    if (!op) return [`${method} ${path}: no such route in GitHub's REST API`];
    const problems: string[] = [];
    const values = op.pattern.exec(path)!;
    op.params.forEach((name, i) => {
      const schema = op.paramSchemas[name] as { type?: string } | undefined;
      const value = decodeURIComponent(values[i + 1]!);
      if (schema?.type === "integer" && !/^\d+$/.test(value)) {
        problems.push(`${method} ${op.template}: path parameter ${name}=${JSON.stringify(value)} is not an integer`);
      }
      if (value === "") problems.push(`${method} ${op.template}: path parameter ${name} is empty`);
    });
    if (body !== undefined && !op.hasJsonBody) {
      problems.push(`${method} ${op.template}: sends a body but the operation takes none`);
    }
    if (body === undefined && op.bodyRequired) problems.push(`${method} ${op.template}: the body is required`);
    if (body !== undefined && op.hasJsonBody) {
      let validate = this.#validators.get(op.pointer);
      if (!validate) {
        validate = this.#ajv.compile({ $ref: op.pointer });
        this.#validators.set(op.pointer, validate);
      }
      if (!validate(body)) {
        for (const error of validate.errors ?? []) {
          problems.push(
            `${method} ${op.template}: body${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`,
          );
        }
      }
    }
    return problems;
  }
}

let shared: OpenApiValidator | null = null;
/** One validator per test process: the description is 13 MB. */
export function openApiValidator(): OpenApiValidator {
  shared ??= new OpenApiValidator();
  return shared;
}

let graphqlSchema: GraphQLSchema | null = null;
/** GitHub's GraphQL schema, built once per test process. */
export function githubGraphqlSchema(): GraphQLSchema {
  // The published SDL defines two EnterpriseOwnerInfo fields twice, which graphql-js's SDL check rejects; the
  // schema it builds is still GitHub's (the later definition wins, and both are the same).
  graphqlSchema ??= buildSchema(githubGraphqlSdl.idl, { assumeValidSDL: true });
  return graphqlSchema;
}

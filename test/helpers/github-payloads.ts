// Webhook payloads: real examples from @octokit/webhooks-examples, adapted to the stand-in's repository and PRs.
import { createRequire } from "node:module";
import type { GitHubStandIn, PullRequestState } from "./github-standin.js";

const require = createRequire(import.meta.url);
type Definition = { name: string; examples: Array<Record<string, unknown> & { action?: string }> };
const definitions = require("@octokit/webhooks-examples/api.github.com/index.json") as Definition[];

export type PullRequestAction = "opened" | "synchronize" | "reopened" | "ready_for_review" | "closed" | "edited";

function example(name: string, action: string): Record<string, unknown> {
  const found = definitions.find((d) => d.name === name)?.examples.find((e) => e.action === action);
  if (!found) throw new Error(`no ${name}.${action} example in @octokit/webhooks-examples`);
  return structuredClone(found);
}

export interface Sender {
  readonly login: string;
  readonly type: "User" | "Bot";
}

/** A `pull_request` event for `pr` as GitHub would send it now. */
export function pullRequestEvent(
  standIn: GitHubStandIn,
  pr: PullRequestState,
  action: PullRequestAction,
  sender: Sender = { login: "octocat", type: "User" },
  /** For "edited": the body before the edit (the examples hold no edited event; GitHub's carries `changes`). */
  bodyBefore?: string,
): Record<string, unknown> {
  const payload = example("pull_request", action === "edited" ? "opened" : action);
  if (action === "edited") {
    payload.action = "edited";
    payload.changes = { body: { from: bodyBefore ?? "" } };
  }
  const live = standIn.pullJson(pr);
  const original = payload.pull_request as Record<string, unknown>;
  const repository = { ...(payload.repository as Record<string, unknown>), ...live.base.repo };
  const headRepo = { ...((original.head as { repo: Record<string, unknown> }).repo ?? {}), ...live.head.repo };
  payload.number = pr.number;
  payload.pull_request = {
    ...original,
    ...live,
    state: action === "closed" ? "closed" : "open",
    head: { ...(original.head as object), ...live.head, repo: headRepo },
    base: { ...(original.base as object), ...live.base, repo: repository },
  };
  payload.repository = repository;
  payload.installation = { id: standIn.options.installationId, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" };
  payload.sender = { ...(payload.sender as object), login: sender.login, type: sender.type };
  if (action === "synchronize") payload.after = pr.headSha;
  return payload;
}

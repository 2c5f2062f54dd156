// Whether a file names a Cilium policy kind, told from its bytes as they stream past without keeping them: what the
// shells learn about a file too large to read, so that a policy in it is reported as unchecked (an error), not as a
// file without policies.
import { POLICY_KINDS } from "./manifests.js";

const LONGEST = Math.max(...POLICY_KINDS.map((kind) => kind.length));

export interface PolicyScanner {
  /** Feeds the next bytes of the file. */
  push(chunk: Uint8Array): void;
  /** Whether any policy kind was seen so far. */
  readonly found: boolean;
}

export function policyScanner(): PolicyScanner {
  const decoder = new TextDecoder("utf-8", { fatal: false });
  let tail = "";
  let found = false;
  return {
    push(chunk) {
      if (found) return;
      const text = tail + decoder.decode(chunk, { stream: true });
      found = POLICY_KINDS.some((kind) => text.includes(kind));
      tail = text.slice(-(LONGEST - 1));
    },
    get found() {
      return found;
    },
  };
}

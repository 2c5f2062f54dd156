// Exit codes and the one-line error reporting every command shares.
import { CommanderError } from "commander";

export const EXIT = {
  /** No error findings (or, for fix, nothing went wrong). */
  ok: 0,
  /** Error findings. */
  findings: 1,
  /** Usage errors, unreadable input, invalid configuration. */
  usage: 2,
} as const;

/** An error the user can act on: printed as one line, without a stack trace, and the process exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** The first line of an error's message: what the user sees. */
export function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] || "unknown error";
}

/** Describes a Node.js file system error in words, with the path it concerns. */
export function ioError(error: unknown, path: string): CliError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    code === "ENOENT"
      ? "no such file or directory"
      : code === "EACCES" || code === "EPERM"
        ? "permission denied"
        : code === "ENOTDIR"
          ? "not a directory"
          : code === "EISDIR"
            ? "is a directory"
            : errorLine(error);
  return new CliError(`${path}: ${reason}`);
}

/**
 * The exit code for an error thrown while a command ran, after printing it. Commander has already printed its own
 * usage errors; `--help` and `--version` end with success.
 */
export function exitCodeFor(error: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  if (error instanceof CommanderError) {
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return EXIT.ok;
    if (error.code === "commander.help") return EXIT.ok;
    return EXIT.usage;
  }
  if (error instanceof CliError) {
    stderr.write(`error: ${errorLine(error)}\n`);
    return error.exitCode;
  }
  // A bug: still one line, unless the user asked for the details.
  stderr.write(`error: unexpected failure: ${errorLine(error)}\n`);
  if (process.env.CILIUM_POLICY_BOT_DEBUG && error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
  return EXIT.usage;
}

// Which queue the app runs on: in process unless REDIS_URL names a Redis. The Redis queue (and BullMQ with it) is
// loaded only when one is named, and lives apart from the contract it implements (queue.ts), so neither needs the other.
import { IN_PROCESS_NOT_DURABLE, InProcessQueue } from "./queue.js";
import type { InProcessQueueOptions, JobQueue, QueueLogger } from "./queue.js";

export interface QueueOptions extends InProcessQueueOptions {
  /** With a Redis URL, jobs go to BullMQ (src/github/redis-queue.ts) so several instances share them. */
  readonly redisUrl?: string;
  readonly warn?: (message: string) => void;
  /** Pino-style logger (Probot's app.log) for the Redis queue's outage reports; `warn` otherwise. */
  readonly log?: QueueLogger;
}

export async function createQueue(options: QueueOptions = {}): Promise<JobQueue> {
  if (options.redisUrl) {
    const { RedisJobQueue } = await import("./redis-queue.js");
    const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
    const viaWarn = (object: object, message?: string) => warn(`${message ?? ""} ${JSON.stringify(object)}`);
    return new RedisJobQueue({
      url: options.redisUrl,
      logger: options.log ?? { info: viaWarn, warn: viaWarn, error: viaWarn },
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
    });
  }
  (options.warn ?? ((message: string) => process.stderr.write(`${message}\n`)))(IN_PROCESS_NOT_DURABLE);
  return new InProcessQueue(options);
}

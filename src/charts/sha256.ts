// The one digest the chart shell keys and checks things by (archives, chart directories, renders, cache paths).
import { createHash } from "node:crypto";

/** Lower-case hex sha256 of `data` (a string is hashed as UTF-8). */
export const sha256 = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex");

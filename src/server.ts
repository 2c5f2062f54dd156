// The app's process (`npm start`, the Dockerfile's CMD): Probot's `run` of the app (src/index.ts), as `probot run`
// does it (configuration from the environment, the manifest flow when there is no app id yet), with the app's
// logger, whose request lines carry no unverified header (src/github/request-log.ts).
import { run } from "probot";
import { appLogger } from "./github/request-log.js";
import app from "./index.js";

await run(app, { log: await appLogger() });

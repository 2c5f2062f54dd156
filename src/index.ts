// The Probot app (`probot run ./dist/index.js`): a thin shell over the engine, see src/github/. Webhook bodies pass
// the bounded intake (src/github/intake.ts) before Probot reads them.
import { createApp } from "./github/app.js";
import { withBoundedIntake } from "./github/intake.js";

export default withBoundedIntake(createApp());

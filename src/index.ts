// The Probot app (`probot run ./dist/index.js`): a thin shell over the engine, see src/github/.
import { createApp } from "./github/app.js";

export default createApp();

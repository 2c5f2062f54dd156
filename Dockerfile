# cilium-policy-bot, the GitHub App. Four stages: build (all dependencies, TypeScript compile), production
# dependencies only, the pinned helm (scripts/install-helm.sh checks its digests), and a slim runtime image running as
# the unprivileged `node` user (uid 1000) with helm at /app/bin/helm, so the app renders charts out of the box.
# test/e2e/dockerfile.test.ts runs this file's RUN steps and CMD in a temp copy of the repository.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS helm
WORKDIR /helm
COPY scripts/install-helm.sh scripts/zip-entry.mjs ./
RUN bash install-helm.sh ./bin/helm

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    LOG_LEVEL=info \
    HELM_BIN=/app/bin/helm
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=helm --chown=root:root /helm/bin/helm ./bin/helm
COPY --chown=root:root package.json app.yml ./
USER node
EXPOSE 3000
# Node's fetch: the slim image has no curl. GET /health also reports the job queue (Redis when REDIS_URL is set).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node directly (not `npm start`), so the process gets SIGTERM and stops gracefully. dist/server.js is Probot's `run`
# with the app's logger (src/github/request-log.ts: no unverified header in the request log).
CMD ["node", "dist/server.js"]

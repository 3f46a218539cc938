# syntax=docker/dockerfile:1
# scope: one image for the bot and the worker (the command picks the role).
# Node 24 runs the TypeScript sources directly (type stripping), so there is no build step: the image holds
# src/, package.json and the production dependencies installed from the lockfile.
#
# Base image pinned by digest, so a re-pushed tag cannot change what is built. The tag stays for readers; the
# digest decides. Re-pin (and review the diff) with scripts/pin-images.sh — see deploy/images.md.
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Exactly the lockfile, no devDependencies, no install scripts. The only dependency with an install script is
# msgpackr-extract, an optional native speed-up of msgpackr (used by BullMQ). Denying its script is not enough
# to keep native code out: its optional @msgpackr-extract/* packages ship prebuilt binaries that msgpackr
# loads at run time. --omit=optional leaves them (the only optional dependencies) out, so the image runs
# msgpackr's pure-JS code only — no prebuilt native code from the registry.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# MSGPACKR_NATIVE_ACCELERATION_DISABLED: belt and braces, msgpackr never tries to load a native extension.
# A small young generation keeps GC pauses short, so p99 digest lookups stay within 5 ms (docs/PERFORMANCE.md).
ENV NODE_ENV=production \
    MSGPACKR_NATIVE_ACCELERATION_DISABLED=true \
    NODE_OPTIONS=--max-semi-space-size=8
WORKDIR /app
# Files stay owned by root and read-only for the runtime user: the process cannot modify its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# Writable by the runtime user for the audit chain's witness file (a named volume in docker-compose.yml).
RUN mkdir -p /var/lib/scope-audit && chown node:node /var/lib/scope-audit
# The official image's unprivileged user (uid 1000).
USER node
# 3000: Slack requests (HTTP mode); 9464: /healthz, /readyz, /metrics.
EXPOSE 3000 9464
# No HEALTHCHECK: docker-compose and Kubernetes probe /readyz and /healthz on :9464 themselves.
# Run `node src/main.ts worker` for the worker (see docker-compose.yml and deploy/kubernetes/).
CMD ["node", "src/main.ts", "bot"]

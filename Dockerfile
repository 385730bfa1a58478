# The agent's image: one image, two roles (`worker` and `ingress`; `serve` needs TEMPORAL_ADDRESS
# here, the image has no embedded Temporal server), with the call workflows bundled ahead of time.
# Node 24: long-term support until April 2028, within the engines of this package and of the
# Temporal SDK (>= 20.3). Node 20, which CI runs the tests on, reached its end of life in April 2026.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the Temporal CLI and test server (.temporal/) are for development and tests.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY scripts ./scripts
# The worker loads dist/workflow-bundle.js (WORKFLOW_BUNDLE, below) instead of bundling as it
# starts, and refuses it if it was not built from this dist/.
RUN npm run build && npm run build:bundle

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
ENV WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
USER node
ENTRYPOINT ["node", "bin/voipbin-agent.js"]
CMD ["serve"]

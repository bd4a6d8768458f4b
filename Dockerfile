# Sluice gateway image: production dependencies only, run as the unprivileged `node` user, health-checked on /health.
#   docker build -t sluice .
#   docker run -p 8787:8787 -e OPENAI_API_KEY -e SLUICE_ADMIN_KEY sluice
# Your own config: mount it and pass it, e.g. `-v $PWD/gateway.config.ts:/etc/sluice/gateway.config.ts:ro` and
# `start --config /etc/sluice/gateway.config.ts --host 0.0.0.0` as the command (docs/deploy.md).

# Build stage: better-sqlite3 is compiled here (python3, make and g++ are in the full image), not downloaded.
FROM node:20.20-bookworm AS deps
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json .prebuild-installrc ./
RUN npm ci --omit=dev && npm cache clean --force

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --chown=node:node --from=deps /app/node_modules ./node_modules
COPY --chown=node:node package.json gateway.config.ts ./
COPY --chown=node:node bin ./bin
COPY --chown=node:node core ./core
COPY --chown=node:node plugins ./plugins
USER node
EXPOSE 8787
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8787/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `--host 0.0.0.0`: reachable from outside the container. Without an auth plugin (keys()) it warns at start.
ENTRYPOINT ["node", "bin/sluice.mjs"]
CMD ["start", "--host", "0.0.0.0", "--port", "8787"]

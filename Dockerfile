# etl in a container: Node 24 slim, non-root, `etl` as the entrypoint, runtime dependencies only (no embedded
# PostgreSQL: configure DATABASE_URL or the PG* variables; no pg-boss unless built with --build-arg WITH_QUEUE=1).
#   docker build -t prostate-etl .
#   docker run --init --rm -e DATABASE_URL=postgres://... -e HOPSWORKS_HOST=... -e HOPSWORKS_API_KEY=... \
#     -e HOPSWORKS_PROJECT=... -v etl-data:/data prostate-etl run --data-dir /data
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY lib ./lib
# all dependencies to compile dist/ (the prepare script), then only the runtime ones
RUN npm ci --no-audit --no-fund && rm -rf node_modules && npm ci --omit=dev --ignore-scripts --no-audit --no-fund
ARG WITH_QUEUE=0
RUN if [ "$WITH_QUEUE" = 1 ]; then npm install --no-save --ignore-scripts --no-audit --no-fund pg-boss@"$(node -p "require('./package.json').peerDependencies['pg-boss']")"; fi

FROM node:24-slim
ENV NODE_ENV=production \
    ETL_HEARTBEAT_FILE=/tmp/etl-heartbeat
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY fixtures ./fixtures
RUN mkdir /data && chown node:node /data
USER node
VOLUME ["/data"]
# SIGTERM stops a run cleanly: nothing is committed, the run is recorded as Cancelled, exit 143. etl handles SIGTERM
# and SIGINT itself, so it stops as PID 1 too; `docker run --init` (tini) also reaps any stray child.
STOPSIGNAL SIGTERM
# Alive = the running command (a run, `etl schedule`, `etl worker`) rewrote its heartbeat file in the last 30 s:
# a stuck event loop or a dead process turns the container unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["node", "/app/bin/etl.js", "health", "--max-age", "30"]
ENTRYPOINT ["node", "/app/bin/etl.js"]
CMD ["run", "--data-dir", "/data"]

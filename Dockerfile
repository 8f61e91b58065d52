# etl in a container: Node 24 slim, non-root, `etl` as the entrypoint.
#   docker build -t prostate-etl .
#   docker run --rm -e DATABASE_URL=postgres://... -e HOPSWORKS_HOST=... -e HOPSWORKS_API_KEY=... \
#     -e HOPSWORKS_PROJECT=... -v etl-data:/data prostate-etl run --data-dir /data
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY lib ./lib
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY fixtures ./fixtures
RUN mkdir /data && chown node:node /data
USER node
VOLUME ["/data"]
# SIGTERM stops a run cleanly: nothing is committed, the run is recorded as Cancelled.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/bin/etl.js"]
CMD ["run", "--data-dir", "/data"]

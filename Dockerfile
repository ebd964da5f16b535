# syntax=docker/dockerfile:1

# Build: compile TypeScript and the web client with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --ignore-scripts && npx patch-package
COPY tsconfig.json ./
COPY src ./src
COPY web ./web
RUN npm run build

# Run: compiled JavaScript, production dependencies only, as an unprivileged user.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are skipped: in a container the service talks to DATABASE_URL, never to the
# embedded PostgreSQL whose binaries those scripts prepare.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
# The fixes of patches/ (postgres.js' connection queue, the error of a new connection's first
# query), applied in the build stage.
COPY --from=build /app/node_modules/postgres/src/queue.js ./node_modules/postgres/src/queue.js
COPY --from=build /app/node_modules/postgres/src/connection.js ./node_modules/postgres/src/connection.js
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
COPY --from=build /app/web/dist ./web/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
# Exec form: node is PID 1 and receives SIGTERM itself, then drains requests and exits.
# An old generation of at most 160 MB keeps the service's memory under 250 MB under load;
# 16 MB semi-spaces keep the young generation's collections rare (docs/performance.md).
CMD ["node", "--max-semi-space-size=16", "--max-old-space-size=160", "dist/src/main.js"]

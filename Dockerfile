# spoofwatch daemon image: node:20-slim with tcpdump (live interface capture), plus a small SIPp image
# (target "sipp") used by docker-compose.yml to play the labelled scenario calls. See docs/docker.md.

FROM node:20-slim AS build
WORKDIR /app
# better-sqlite3 12 ships prebuilt binaries for Node 20 on glibc; the toolchain is only a fallback.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# SIPp (Debian package sip-tester) for the scenario players in docker-compose.yml.
FROM debian:bookworm-slim AS sipp
RUN apt-get update \
 && apt-get install -y --no-install-recommends sip-tester \
 && rm -rf /var/lib/apt/lists/*
ENTRYPOINT ["sipp"]

# The default target: the daemon.
FROM node:20-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tcpdump \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY captures ./captures
RUN mkdir -p /data/inbox
VOLUME ["/data"]
# HTTP + WebSocket, SIP (UDP+TCP), HEP v3 (UDP+TCP). The embedded default config binds them to 127.0.0.1.
EXPOSE 8080/tcp 5060/udp 5060/tcp 9060/udp 9060/tcp
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--max-semi-space-size=8", "--initial-old-space-size=96", "dist/cli.js"]
CMD ["daemon", "--store", "/data/spoofwatch.db", "--watch", "/data/inbox"]

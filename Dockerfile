# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript, then a slim runtime as a non-root user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV PUPPETEER_SKIP_DOWNLOAD=true
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY channels ./channels
COPY commands ./commands
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
# chromium: only for the optional whatsapp-web.js channel (WHATSAPP_WEB_ENABLED=true).
RUN apt-get update \
  && apt-get install -y --no-install-recommends chromium fonts-dejavu-core ca-certificates \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PUPPETEER_SKIP_DOWNLOAD=true \
    WHATSAPP_CHROMIUM_PATH=/usr/bin/chromium \
    PORT=3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY templates ./dist/templates
COPY channels/webchat-widget ./dist/channels/webchat-widget
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# MONGODB_URI must be set in a container: the embedded database is for local development.
CMD ["node", "dist/src/main.js"]

# `ibf serve` in a container, for Cloud Run or any VM (docs/API.md "Running on Node (ibf serve)").
#
# NOT BUILT OR RUN HERE: the machine this was written on has no access to an image registry (node:20-slim
# cannot be pulled), so this file is untested as an image. The server it starts is tested directly:
# test/api/node-server.test.ts and test/api/serve-cli.test.ts (the same command, spawned from dist/).
#
#   docker build -t e4drr-ibf .
#   docker run -p 8080:8080 -v ibf-data:/data e4drr-ibf
#   docker run --rm -v ibf-data:/data e4drr-ibf keys create --partner malawi --scopes read,run,upload
#
# Cloud Run sets PORT (8080) and sends SIGTERM before it stops an instance: the server then stops
# accepting, lets requests and jobs in flight finish (10 s at most) and exits 0. Its filesystem is in
# memory and lost with the instance: mount a volume at /data for uploads and job results, and the keys
# file as a secret (IBF_KEYS_FILE=/secrets/keys.json; the server re-reads it when it changes).

# --- build: TypeScript and the WASM kernels need the dev dependencies (typescript, assemblyscript)
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY asm ./asm
COPY scripts ./scripts
COPY src ./src
COPY bench ./bench
RUN npm run build

# --- run: production dependencies and the built files only
FROM node:20-slim
ENV NODE_ENV=production PORT=8080 IBF_DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/build/ibf.simd.wasm /app/build/ibf.scalar.wasm ./build/
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
# `ibf serve --host 0.0.0.0 --port $PORT`: without --port, ibf serve listens on $PORT. Exec form, so node
# is PID 1 and receives SIGTERM itself; other commands run as `docker run IMAGE keys list`.
ENTRYPOINT ["node", "dist/src/cli/bin.js"]
CMD ["serve", "--host", "0.0.0.0"]

# syntax=docker/dockerfile:1
# csmarket: a static binary with the frontend embedded, run as a non-root user.

FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
COPY api/openapi.yaml /src/api/openapi.yaml
RUN npm run build

FROM golang:1.26.10-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=frontend /src/frontend/dist ./frontend/dist
RUN CGO_ENABLED=0 GOFLAGS=-trimpath go build -ldflags="-s -w" -o /out/csmarket ./cmd/csmarket \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /var/lib/csmarket
COPY --from=build /out/csmarket /usr/local/bin/csmarket
COPY --from=build --chown=65532:65532 /out/data ./data
USER 65532:65532
ENV CSM_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/csmarket"]
CMD ["serve"]

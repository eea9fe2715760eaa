# syntax=docker/dockerfile:1
# DriftLock: one static binary in a distroless image (no shell, no curl:
# health checks use `driftlock healthcheck URL`).
#   docker build -t driftlock:local .
#   docker run --rm -p 4317:4317 -p 4318:4318 -e DRIFTLOCK_KAFKA_BROKERS=kafka:9092 driftlock:local ingest

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/driftlock ./cmd/driftlock

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/driftlock /usr/local/bin/driftlock
USER nonroot:nonroot
# OTLP gRPC, OTLP HTTP, ingest admin, detector admin, console
EXPOSE 4317 4318 8888 8889 8080
ENTRYPOINT ["/usr/local/bin/driftlock"]
CMD ["dev"]

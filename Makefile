# DriftLock. Quick start: `make run` (everything on an embedded broker), `make test`.
GO      ?= go
BIN     := bin/driftlock
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: build run test bench bench-compare eval demo e2e fmt vet clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/driftlock

run: build
	./$(BIN) dev $(ARGS)

test:
	$(GO) test -race ./...

# Go benchmarks of every stage with -benchmem, then the ingest load test with
# telemetrygen. Figures and machine go into docs/BENCHMARKS.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...
	./scripts/bench-ingest.sh

# The ingest's CPU per record beside the OpenTelemetry Collector's (OTLP
# receiver -> Kafka exporter, with the same guarantee and as usually
# deployed; built once with ocb), in alternating runs.
bench-compare:
	./scripts/bench-compare.sh

# Detection quality on ../shared/datasets (NAB, loghub); see docs/EVALUATION.md.
eval: build
	./scripts/eval.sh

# With `make run` going in another terminal: steady logs, then a burst of new
# error lines; an anomaly shows in the console a few seconds later.
demo:
	$(GO) run ./scripts/demo

# End-to-end suite on a real Apache Kafka (scripts/kafka-native-setup.sh start).
E2E_BROKERS ?= 127.0.0.1:9092
E2E_TIMEOUT ?= 20m

e2e:
	DRIFTLOCK_E2E_BROKERS=$(E2E_BROKERS) $(GO) test -count=1 -timeout $(E2E_TIMEOUT) -v ./e2e/...

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...

clean:
	rm -rf bin

// Package config assembles DriftLock's configuration from a YAML file, the
// DRIFTLOCK_* environment and command-line flags (later wins). Each component
// owns one struct with its defaults and Validate; this package only gathers them.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/driftlock/driftlock/internal/cbad"
)

// Config is the whole configuration of every DriftLock service.
type Config struct {
	Kafka    Kafka    `mapstructure:"kafka"`
	Ingest   Ingest   `mapstructure:"ingest"`
	Detector Detector `mapstructure:"detector"`
	Console  Console  `mapstructure:"console"`
}

// Kafka configures the connection to the brokers, shared by every service.
type Kafka struct {
	// Brokers to bootstrap from. Default ["127.0.0.1:9092"].
	Brokers []string `mapstructure:"brokers"`
	// ClientID sent to the brokers. Default "driftlock".
	ClientID string `mapstructure:"client_id"`
	// EventsTopic receives one record per log record, metric and span. Default "otlp-events".
	EventsTopic string `mapstructure:"events_topic"`
	// AnomaliesTopic receives one record per anomaly. Default "anomaly-events".
	AnomaliesTopic string `mapstructure:"anomalies_topic"`
	// DeadLetterTopic, when set, receives records the detector cannot decode. Default "" (off).
	DeadLetterTopic string `mapstructure:"dead_letter_topic"`
	// TopicPartitions is used when a service creates a missing topic. Default 3.
	TopicPartitions int `mapstructure:"topic_partitions"`
	// ReplicationFactor is used when a service creates a missing topic. Default 1.
	ReplicationFactor int `mapstructure:"replication_factor"`
	// BatchSize is the most records a producer sends in one request. Default 100.
	BatchSize int `mapstructure:"batch_size"`
	// BatchTimeoutMS is how long a producer waits to fill a batch. Default 5.
	BatchTimeoutMS int `mapstructure:"batch_timeout_ms"`
	// Compression of produced batches: none, gzip, snappy, lz4 or zstd. Default none.
	Compression string `mapstructure:"compression"`
	// TLSEnabled turns on TLS to the brokers. Default false.
	TLSEnabled bool `mapstructure:"tls_enabled"`
	// CAFile verifies the brokers' certificates; empty uses the system pool.
	CAFile string `mapstructure:"ca_file"`
	// CertFile and KeyFile hold a client certificate for mutual TLS.
	CertFile string `mapstructure:"cert_file"`
	KeyFile  string `mapstructure:"key_file"`
	// InsecureSkipVerify skips verification of the brokers' certificates. Default false.
	InsecureSkipVerify bool `mapstructure:"insecure_skip_verify"`
	// SASL authentication; empty mechanism means none.
	SASL SASL `mapstructure:"sasl"`
}

// SASL configures broker authentication.
type SASL struct {
	// Mechanism is "", PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. Default "".
	Mechanism string `mapstructure:"mechanism"`
	Username  string `mapstructure:"username"`
	Password  string `mapstructure:"password"`
}

// Ingest configures the OTLP ingest service.
type Ingest struct {
	// GRPCEndpoint serves OTLP/gRPC. Default "0.0.0.0:4317".
	GRPCEndpoint string `mapstructure:"grpc_endpoint"`
	// HTTPEndpoint serves OTLP/HTTP. Default "0.0.0.0:4318".
	HTTPEndpoint string `mapstructure:"http_endpoint"`
	// AdminEndpoint serves /metrics, /healthz and /readyz. Default "0.0.0.0:8888".
	AdminEndpoint string `mapstructure:"admin_endpoint"`
	// MaxRequestBytes bounds a request body after decompression. Default 8 MiB.
	MaxRequestBytes int `mapstructure:"max_request_bytes"`
	// MaxRecordBytes bounds one encoded event; larger ones are rejected with a
	// partial success. Default 1000000 (Kafka's default message.max.bytes, less headroom).
	MaxRecordBytes int `mapstructure:"max_record_bytes"`
	// MaxInflightBytes bounds the bytes of events waiting for Kafka; beyond it
	// clients are told to retry. Default 64 MiB.
	MaxInflightBytes int `mapstructure:"max_inflight_bytes"`
	// MaxAttributes bounds the attributes of one record. Default 128.
	MaxAttributes int `mapstructure:"max_attributes"`
	// MaxAttributeDepth bounds the nesting of attribute values. Default 8.
	MaxAttributeDepth int `mapstructure:"max_attribute_depth"`
	// WriteTimeoutMS bounds the wait for Kafka's acknowledgement of a request. Default 10000.
	WriteTimeoutMS int `mapstructure:"write_timeout_ms"`
	// Auth requires a bearer token on every OTLP request. Default off (no tokens).
	Auth IngestAuth `mapstructure:"auth"`
	// TLS serves OTLP/gRPC and OTLP/HTTP over TLS. Default off (no certificate).
	TLS ServerTLS `mapstructure:"tls"`
}

// ServerTLS configures TLS on the OTLP endpoints, the same for gRPC and
// HTTP. It is on when CertFile and KeyFile are set; the files are read
// again when they change, without a restart.
type ServerTLS struct {
	// CertFile is the server's certificate chain (PEM). Default "" (no TLS).
	CertFile string `mapstructure:"cert_file"`
	// KeyFile is the certificate's private key (PEM). Default "".
	KeyFile string `mapstructure:"key_file"`
	// ClientCAFile, when set, turns on mutual TLS: every client must present
	// a certificate signed by one of these CAs (PEM). Default "".
	ClientCAFile string `mapstructure:"client_ca_file"`
	// MinVersion is the lowest TLS version accepted: "1.2" or "1.3". Default "1.2".
	MinVersion string `mapstructure:"min_version"`
	// Admin serves the admin endpoint over TLS too, with the same certificate
	// (client certificates are not asked for there). Default false.
	Admin bool `mapstructure:"admin"`
}

// Enabled reports whether a certificate is configured.
func (t ServerTLS) Enabled() bool { return t.CertFile != "" }

// IngestAuth configures bearer-token authentication of OTLP clients. It is
// on when at least one token is configured, in Tokens or in TokensFile.
type IngestAuth struct {
	// Tokens accepted, each "name:token" or "token" (named by the first 8
	// hex digits of its SHA-256). Default none.
	Tokens []string `mapstructure:"tokens"`
	// TokensFile holds more tokens, one "name:token" or "token" per line;
	// blank lines and lines starting with # are skipped. Default "" (none).
	TokensFile string `mapstructure:"tokens_file"`
	// ClientHeader records who sent a request as the driftlock-client header
	// of each of its records: the name of its token or, for a request with
	// no token over mutual TLS, the subject of its client certificate (its
	// common name, else the whole subject). Needs tokens or
	// ingest.tls.client_ca_file. Default false.
	ClientHeader bool `mapstructure:"client_header"`
}

// Enabled reports whether tokens are configured.
func (a IngestAuth) Enabled() bool { return len(a.Tokens) > 0 || a.TokensFile != "" }

// Detector configures a detector replica.
type Detector struct {
	// GroupID is the consumer group all replicas join. Default "driftlock-detector".
	GroupID string `mapstructure:"group_id"`
	// WindowSize is the number of events in the window being judged. Default 1024.
	WindowSize int `mapstructure:"window_size"`
	// HopSize is the number of events between two judgements of a stream. Default 256.
	HopSize int `mapstructure:"hop_size"`
	// Threshold is the confidence (1 - p-value) needed to raise an anomaly. Default 0.9.
	Threshold float64 `mapstructure:"threshold"`
	// Determinism makes the same input give the same anomalies byte for byte. Default true.
	Determinism bool `mapstructure:"determinism"`
	// Seed seeds the permutation test. Default 42.
	Seed int64 `mapstructure:"seed"`
	// Compressor is zstd, gzip or lz4. Default zstd.
	Compressor string `mapstructure:"compressor"`
	// Permutations is the most permutations of one significance test. Default 200.
	Permutations int `mapstructure:"permutations"`
	// EventThreshold is the score in (0, 1) an event needs to raise an event
	// anomaly: for a metric value, 0.75 is 3 interquartile ranges beyond
	// the 1st to 99th percentile of the stream's latest values. Default 0.75.
	EventThreshold float64 `mapstructure:"event_threshold"`
	// EventWarmup is the number of events a stream must have seen before it
	// can raise an event anomaly. Default 256.
	EventWarmup int `mapstructure:"event_warmup"`
	// MaxStreams bounds the streams tracked per partition (so that results do
	// not depend on how partitions are spread over replicas); the least
	// recently seen is evicted. At defaults a full stream holds about 0.1 MB,
	// a young one a few KB, so
	// the default bounds a partition's streams to about 0.35 GB. Default 3000.
	MaxStreams int `mapstructure:"max_streams"`
	// StateTopic is the compacted topic holding checkpoints of each
	// partition's state, from which a new owner of a partition restores
	// instead of replaying the partition from its start. Created when
	// missing, with cleanup.policy=compact and as many partitions as the
	// events topic. Default "driftlock-detector-state".
	StateTopic string `mapstructure:"state_topic"`
	// CheckpointRecords is how many records of a partition are processed
	// between two checkpoints of its state; 0 turns checkpoints off (a new
	// owner then replays the whole retained partition). A replica giving a
	// partition up in a rebalance or on shutdown also writes one at the
	// offset it committed. Default 100000.
	CheckpointRecords int `mapstructure:"checkpoint_records"`
	// AdminEndpoint serves /metrics, /healthz and /readyz. Default "0.0.0.0:8889".
	AdminEndpoint string `mapstructure:"admin_endpoint"`
}

// Console configures the anomaly console.
type Console struct {
	// HTTPEndpoint serves the UI, /api/v1, /metrics, /healthz and /readyz. Default "0.0.0.0:8080".
	HTTPEndpoint string `mapstructure:"http_endpoint"`
	// GroupID is the console's consumer group. Default "driftlock-console".
	GroupID string `mapstructure:"group_id"`
	// MaxAnomalies is how many of the newest anomalies are kept in memory. Default 10000.
	MaxAnomalies int `mapstructure:"max_anomalies"`
	// MaxSSEClients caps concurrent live-stream clients. Default 100.
	MaxSSEClients int `mapstructure:"max_sse_clients"`
	// AuthToken, when set, is required as a bearer token by the API and UI. Default "".
	AuthToken string `mapstructure:"auth_token"`
	// AlertmanagerURL, when set, receives each anomaly as an alert (v2 API). Default "".
	AlertmanagerURL string `mapstructure:"alertmanager_url"`
	// WebhookURLs each receive each anomaly as JSON. Default none.
	WebhookURLs []string `mapstructure:"webhook_urls"`
	// ExternalURL is the console's address as people reach it, used in alert
	// links. Default "" (http://<hostname>:<port> of http_endpoint).
	ExternalURL string `mapstructure:"external_url"`
}

// Default returns the documented defaults.
func Default() Config {
	return Config{
		Kafka: Kafka{
			Brokers:           []string{"127.0.0.1:9092"},
			ClientID:          "driftlock",
			EventsTopic:       "otlp-events",
			AnomaliesTopic:    "anomaly-events",
			TopicPartitions:   3,
			ReplicationFactor: 1,
			BatchSize:         100,
			BatchTimeoutMS:    5,
			Compression:       "none",
		},
		Ingest: Ingest{
			GRPCEndpoint:      "0.0.0.0:4317",
			HTTPEndpoint:      "0.0.0.0:4318",
			AdminEndpoint:     "0.0.0.0:8888",
			MaxRequestBytes:   8 << 20,
			MaxRecordBytes:    1_000_000,
			MaxInflightBytes:  64 << 20,
			MaxAttributes:     128,
			MaxAttributeDepth: 8,
			WriteTimeoutMS:    10_000,
			TLS:               ServerTLS{MinVersion: "1.2"},
		},
		Detector: defaultDetector(),
		Console: Console{
			HTTPEndpoint:  "0.0.0.0:8080",
			GroupID:       "driftlock-console",
			MaxAnomalies:  10_000,
			MaxSSEClients: 100,
		},
	}
}

// Validate checks every section and returns the first problem as one line
// naming the key, the value and what is allowed.
func (c Config) Validate() error {
	for _, err := range []error{c.Kafka.Validate(), c.Ingest.Validate(), c.Detector.Validate(), c.Console.Validate()} {
		if err != nil {
			return err
		}
	}
	return nil
}

func invalid(key string, value any, allowed string) error {
	return fmt.Errorf("invalid value %v for %s: %s", fmtValue(value), key, allowed)
}

func fmtValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

func oneOf(key, value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return invalid(key, value, "must be one of "+strings.Join(allowed, ", "))
}

func positive(key string, value int) error {
	if value <= 0 {
		return invalid(key, value, "must be a positive integer")
	}
	return nil
}

// Validate checks the Kafka section.
func (k Kafka) Validate() error {
	if len(k.Brokers) == 0 {
		return invalid("kafka.brokers", "[]", "must list at least one host:port")
	}
	for _, b := range k.Brokers {
		if !strings.Contains(b, ":") {
			return invalid("kafka.brokers", b, "each broker must be host:port")
		}
	}
	if k.EventsTopic == "" {
		return invalid("kafka.events_topic", k.EventsTopic, "must be a topic name")
	}
	if k.AnomaliesTopic == "" {
		return invalid("kafka.anomalies_topic", k.AnomaliesTopic, "must be a topic name")
	}
	if err := positive("kafka.topic_partitions", k.TopicPartitions); err != nil {
		return err
	}
	if err := positive("kafka.replication_factor", k.ReplicationFactor); err != nil {
		return err
	}
	if err := positive("kafka.batch_size", k.BatchSize); err != nil {
		return err
	}
	if k.BatchTimeoutMS < 0 {
		return invalid("kafka.batch_timeout_ms", k.BatchTimeoutMS, "must be 0 or more")
	}
	if err := oneOf("kafka.compression", k.Compression, "none", "gzip", "snappy", "lz4", "zstd"); err != nil {
		return err
	}
	if k.SASL.Mechanism != "" && oneOf("kafka.sasl.mechanism", k.SASL.Mechanism, "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512") != nil {
		return invalid("kafka.sasl.mechanism", k.SASL.Mechanism, "must be empty (no SASL) or one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512")
	}
	if (k.CertFile == "") != (k.KeyFile == "") {
		return invalid("kafka.cert_file", k.CertFile, "cert_file and key_file must be set together")
	}
	return nil
}

// Validate checks the ingest section.
func (i Ingest) Validate() error {
	for _, f := range []struct {
		key   string
		value int
	}{
		{"ingest.max_request_bytes", i.MaxRequestBytes},
		{"ingest.max_record_bytes", i.MaxRecordBytes},
		{"ingest.max_inflight_bytes", i.MaxInflightBytes},
		{"ingest.max_attributes", i.MaxAttributes},
		{"ingest.max_attribute_depth", i.MaxAttributeDepth},
		{"ingest.write_timeout_ms", i.WriteTimeoutMS},
	} {
		if err := positive(f.key, f.value); err != nil {
			return err
		}
	}
	if i.MaxInflightBytes < i.MaxRequestBytes {
		return invalid("ingest.max_inflight_bytes", i.MaxInflightBytes, "must be at least ingest.max_request_bytes")
	}
	if err := i.TLS.Validate(); err != nil {
		return err
	}
	if err := i.Auth.Validate(); err != nil {
		return err
	}
	if i.Auth.ClientHeader && !i.Auth.Enabled() && i.TLS.ClientCAFile == "" {
		return invalid("ingest.auth.client_header", i.Auth.ClientHeader,
			"needs tokens in ingest.auth.tokens or ingest.auth.tokens_file, or client certificates (ingest.tls.client_ca_file)")
	}
	return nil
}

// Validate checks the ingest.tls section.
func (t ServerTLS) Validate() error {
	if err := oneOf("ingest.tls.min_version", t.MinVersion, "1.2", "1.3"); err != nil {
		return err
	}
	switch {
	case t.CertFile == "" && t.KeyFile != "":
		return invalid("ingest.tls.key_file", t.KeyFile, "needs ingest.tls.cert_file")
	case t.CertFile != "" && t.KeyFile == "":
		return invalid("ingest.tls.cert_file", t.CertFile, "needs ingest.tls.key_file")
	case t.ClientCAFile != "" && !t.Enabled():
		return invalid("ingest.tls.client_ca_file", t.ClientCAFile, "needs ingest.tls.cert_file and ingest.tls.key_file")
	case t.Admin && !t.Enabled():
		return invalid("ingest.tls.admin", t.Admin, "needs ingest.tls.cert_file and ingest.tls.key_file")
	}
	return nil
}

// redacted stands for a secret in an error message: the position of the
// entry, never its text.
type redacted int

func (r redacted) String() string { return fmt.Sprintf("<entry %d>", int(r)) }

// Validate checks the ingest.auth section. Token entries are named by
// their position, so that a message never shows a secret.
func (a IngestAuth) Validate() error {
	for i, entry := range a.Tokens {
		if _, _, err := ParseToken(entry); err != nil {
			return invalid("ingest.auth.tokens", redacted(i+1), err.Error())
		}
	}
	return nil
}

// ParseToken splits a token entry, "name:token" or "token", into its name
// and token. An entry without a name is named by the first 8 hex digits of
// the token's SHA-256. The error says what a valid entry is.
func ParseToken(entry string) (name, token string, err error) {
	entry = strings.TrimSpace(entry)
	name, token, named := strings.Cut(entry, ":")
	if !named {
		name, token = "", entry
	}
	switch {
	case token == "" || strings.ContainsAny(token, " \t"):
		return "", "", errors.New(`must be "name:token" or "token", the token not empty and without spaces`)
	case named && (name == "" || strings.ContainsAny(name, " \t")):
		return "", "", errors.New(`must be "name:token" or "token", the name not empty and without spaces`)
	}
	if !named {
		sum := sha256.Sum256([]byte(token))
		name = hex.EncodeToString(sum[:4])
	}
	return name, token, nil
}

// defaultDetector is the detector section's defaults: the scoring core's
// own (cbad.DefaultConfig) for the settings that decide what is found.
func defaultDetector() Detector {
	c := cbad.DefaultConfig()
	return Detector{
		GroupID:           "driftlock-detector",
		WindowSize:        c.WindowSize,
		HopSize:           c.HopSize,
		Threshold:         c.Threshold,
		Determinism:       true,
		Seed:              c.Seed,
		Compressor:        c.Compressor,
		Permutations:      c.Permutations,
		EventThreshold:    c.EventThreshold,
		EventWarmup:       c.EventWarmup,
		MaxStreams:        3_000,
		StateTopic:        "driftlock-detector-state",
		CheckpointRecords: 100_000,
		AdminEndpoint:     "0.0.0.0:8889",
	}
}

// Scoring returns the scoring core's settings: its defaults with this
// section's window, hop, thresholds, seed, compressor, permutations and
// event warm-up. The baseline keeps the core's default ratio to the window.
func (d Detector) Scoring() cbad.Config {
	c := cbad.DefaultConfig()
	if c.BaselineSize > 0 && c.WindowSize > 0 {
		c.BaselineSize = min(1<<20, max(8, c.BaselineSize*d.WindowSize/c.WindowSize))
	}
	c.WindowSize = d.WindowSize
	c.HopSize = d.HopSize
	c.Threshold = d.Threshold
	c.Seed = d.Seed
	c.Compressor = d.Compressor
	c.Permutations = d.Permutations
	c.EventThreshold = d.EventThreshold
	c.EventWarmup = d.EventWarmup
	c.BlockSize = min(c.BlockSize, max(1, d.HopSize))
	return c
}

// Validate checks the detector section; the scoring settings are checked
// by the scoring core, which defines their ranges.
func (d Detector) Validate() error {
	if d.GroupID == "" {
		return invalid("detector.group_id", d.GroupID, "must be a consumer group name")
	}
	if err := d.Scoring().ValidateAs("detector."); err != nil {
		return err
	}
	if d.CheckpointRecords < 0 {
		return invalid("detector.checkpoint_records", d.CheckpointRecords, "must be 0 (off) or a positive integer")
	}
	if d.CheckpointRecords > 0 && d.StateTopic == "" {
		return invalid("detector.state_topic", d.StateTopic, "must name a topic while detector.checkpoint_records is above 0")
	}
	return positive("detector.max_streams", d.MaxStreams)
}

// Validate checks the console section.
func (c Console) Validate() error {
	if c.GroupID == "" {
		return invalid("console.group_id", c.GroupID, "must be a consumer group name")
	}
	if err := positive("console.max_anomalies", c.MaxAnomalies); err != nil {
		return err
	}
	return positive("console.max_sse_clients", c.MaxSSEClients)
}

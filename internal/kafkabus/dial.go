package kafkabus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/apiversions"
	"github.com/segmentio/kafka-go/protocol/saslauthenticate"
	"github.com/segmentio/kafka-go/protocol/saslhandshake"
	"github.com/segmentio/kafka-go/sasl"
)

// minProduceVersion is the oldest produce request carrying v2 record
// batches (Kafka 0.11).
const minProduceVersion = 3

// DialBroker opens a connection to the broker at addr (host:port) set up
// as the transport sets up its own: TLS and SASL as configured, API
// versions negotiated with the broker. Requests go over it one at a time
// (RoundTrip) or several in flight (BrokerConn); the caller closes it. ctx
// bounds the whole set-up.
func (b *Bus) DialBroker(ctx context.Context, addr string) (*BrokerConn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	pc, err := b.setUp(ctx, nc, addr)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("kafka broker %s: %w", addr, err)
	}
	return pc, nil
}

// setUp does the TLS handshake, API version negotiation and SASL
// authentication on a new connection.
func (b *Bus) setUp(ctx context.Context, nc net.Conn, addr string) (*BrokerConn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		if err := nc.SetDeadline(deadline); err != nil {
			return nil, err
		}
	}
	if b.tls != nil {
		tc := b.tls
		if tc.ServerName == "" {
			tc = tc.Clone()
			tc.ServerName = host
		}
		conn := tls.Client(nc, tc)
		if err := conn.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		nc = conn
	}
	pc, err := NewBrokerConn(nc, b.cfg.ClientID)
	if err != nil {
		return nil, err
	}
	if b.mechanism != nil {
		portNum, _ := strconv.Atoi(port)
		ctx = sasl.WithMetadata(ctx, &sasl.Metadata{Host: host, Port: portNum})
		if err := authenticate(ctx, pc.Conn, b.mechanism); err != nil {
			return nil, fmt.Errorf("sasl %s: %w", b.mechanism.Name(), err)
		}
	}
	return pc, pc.SetDeadline(time.Time{})
}

// negotiateVersions picks, for each API, the newest version both kafka-go
// and the broker speak, checks that produce requests can carry record
// batches, and sets the versions on pc.
func negotiateVersions(pc *protocol.Conn) (map[protocol.ApiKey]int16, error) {
	msg, err := pc.RoundTrip(&apiversions.Request{})
	if err != nil {
		return nil, fmt.Errorf("api versions: %w", err)
	}
	res := msg.(*apiversions.Response)
	if res.ErrorCode != 0 {
		return nil, fmt.Errorf("api versions: %w", kafka.Error(res.ErrorCode))
	}
	versions := make(map[protocol.ApiKey]int16, len(res.ApiKeys))
	for _, k := range res.ApiKeys {
		key := protocol.ApiKey(k.ApiKey)
		versions[key] = key.SelectVersion(k.MinVersion, k.MaxVersion)
	}
	if v, ok := versions[protocol.Produce]; !ok || v < minProduceVersion {
		return nil, fmt.Errorf("broker does not accept produce requests v%d or newer", minProduceVersion)
	}
	pc.SetVersions(versions)
	return versions, nil
}

// authenticate runs the SASL handshake and exchange of mechanism m.
func authenticate(ctx context.Context, pc *protocol.Conn, m sasl.Mechanism) error {
	msg, err := pc.RoundTrip(&saslhandshake.Request{Mechanism: m.Name()})
	if err != nil {
		return err
	}
	if code := msg.(*saslhandshake.Response).ErrorCode; code != 0 {
		return kafka.Error(code)
	}
	sess, state, err := m.Start(ctx)
	if err != nil {
		return err
	}
	for done := false; !done; {
		msg, err := pc.RoundTrip(&saslauthenticate.Request{AuthBytes: state})
		if errors.Is(err, io.EOF) {
			// A broker may answer a failed exchange by closing the connection.
			return kafka.SASLAuthenticationFailed
		}
		if err != nil {
			return err
		}
		res := msg.(*saslauthenticate.Response)
		if res.ErrorCode != 0 {
			return fmt.Errorf("%w: %s", kafka.Error(res.ErrorCode), res.ErrorMessage)
		}
		if done, state, err = sess.Next(ctx, res.AuthBytes); err != nil {
			return err
		}
	}
	return nil
}

package kafkabus

import (
	"fmt"
	"net"

	"github.com/segmentio/kafka-go/protocol"
)

// BrokerConn is a set-up connection to one broker (DialBroker). Besides
// protocol.Conn's RoundTrip, which waits for each answer, it can keep
// several requests in flight: WriteRequest sends one and ReadResponse
// reads the oldest answer not read yet, as a broker answers the requests
// of a connection in the order it got them. WriteRequest and ReadResponse
// may run on two goroutines at once; RoundTrip only while no request is
// in flight.
type BrokerConn struct {
	*protocol.Conn
	clientID string
	versions map[protocol.ApiKey]int16
	next     int32 // correlation id of the next WriteRequest; only its caller touches it
}

// NewBrokerConn negotiates API versions on nc, a connection to a broker
// already through TLS when the broker wants it, and returns it ready for
// requests (SASL, when the broker wants it, is the caller's).
func NewBrokerConn(nc net.Conn, clientID string) (*BrokerConn, error) {
	c := &BrokerConn{Conn: protocol.NewConn(nc, clientID), clientID: clientID, next: 1 << 30}
	versions, err := negotiateVersions(c.Conn)
	if err != nil {
		return nil, err
	}
	c.versions = versions
	return c, nil
}

// Version is the version of api's requests on c (0 when the broker does
// not know api).
func (c *BrokerConn) Version(api protocol.ApiKey) int16 { return c.versions[api] }

// WriteRequest writes msg without waiting for its answer and returns its
// correlation id, which ReadResponse checks.
func (c *BrokerConn) WriteRequest(msg protocol.Message) (int32, error) {
	id := c.next
	c.next++
	return id, protocol.WriteRequest(c.Conn, c.Version(msg.ApiKey()), id, c.clientID, msg)
}

// ReadResponse reads the answer to the oldest request in flight, which
// must be the one of correlation id id and of API api.
func (c *BrokerConn) ReadResponse(api protocol.ApiKey, id int32) (protocol.Message, error) {
	got, msg, err := protocol.ReadResponse(c.Conn, api, c.Version(api))
	if err != nil {
		return nil, err
	}
	if got != id {
		return nil, fmt.Errorf("kafka answered request %d where %d was expected", got, id)
	}
	return msg, nil
}

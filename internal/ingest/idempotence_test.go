package ingest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/otlpconv"
	"github.com/driftlock/driftlock/internal/testkit"
)

// TestStampProducer: a stamped batch carries the producer id, epoch and
// base sequence, with a CRC that kafka-go's decoder and kmsg accept, for
// every compression.
func TestStampProducer(t *testing.T) {
	recs := testRecords()
	ts := time.UnixMilli(1767323045123)
	for _, name := range codecNames {
		t.Run(name, func(t *testing.T) {
			var b recordBatch
			b.reset()
			for i := range recs {
				h := recordHeaderValues(&recs[i])
				b.add(recs[i].Key, recs[i].Value, &h)
			}
			payload, err := b.finish(ts.UnixMilli(), codecOf(t, name))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				id  producerIdentity
				seq int32
			}{{producerIdentity{id: 4711, epoch: 3}, 123456}, {producerIdentity{id: math.MaxInt64 - 1, epoch: math.MaxInt16}, math.MaxInt32}, {producerIdentity{}, 0}} {
				stampProducer(payload, c.id, c.seq)
				if _, got := decodeRecordSet(t, payload); len(got) != len(recs) {
					t.Fatalf("%d records decoded, want %d", len(got), len(recs))
				}
				var rb kmsg.RecordBatch
				if err := rb.ReadFrom(payload[4:]); err != nil {
					t.Fatal(err)
				}
				crc := int32(crc32.Checksum(payload[offAttributes:], crc32.MakeTable(crc32.Castagnoli)))
				if rb.ProducerID != c.id.id || rb.ProducerEpoch != c.id.epoch || rb.FirstSequence != c.seq ||
					rb.CRC != crc || rb.Attributes&0x10 != 0 || int(rb.NumRecords) != len(recs) ||
					rb.LastOffsetDelta != int32(len(recs)-1) || rb.FirstTimestamp != ts.UnixMilli() {
					t.Errorf("stamped %+v seq %d: header %+v", c.id, c.seq, rb)
				}
			}
		})
	}
}

func TestNextSequence(t *testing.T) {
	for _, c := range []struct {
		seq  int32
		n    int
		want int32
	}{{0, 1, 1}, {5, 10, 15}, {math.MaxInt32 - 2, 2, math.MaxInt32}, {math.MaxInt32, 1, 0}, {math.MaxInt32 - 1, 5, 3}} {
		if got := nextSequence(c.seq, c.n); got != c.want {
			t.Errorf("nextSequence(%d, %d) = %d, want %d", c.seq, c.n, got, c.want)
		}
	}
}

// sendInOrder posts requests from, from+1, ... up to to (excluded) of 5
// logs of one stream, one after the other, and fails the test unless each
// is acknowledged; it returns the bodies in the order sent.
func (h *harness) sendInOrder(t *testing.T, from, to int) []string {
	t.Helper()
	var all []string
	for r := from; r < to; r++ {
		bodies := make([]string, 5)
		for i := range bodies {
			bodies[i] = fmt.Sprintf("r%d-i%d", r, i)
		}
		if code, detail := h.tryPost(logsRequest("checkout", bodies...)); code != http.StatusOK {
			t.Fatalf("request %d: %s", r, detail)
		}
		all = append(all, bodies...)
	}
	return all
}

// checkExactlyOnce fails the test unless the topic holds want, each record
// once and in order, and returns the records.
func (h *harness) checkExactlyOnce(t *testing.T, want []string) []*kgo.Record {
	t.Helper()
	recs := h.consumeAll()
	var got []string
	for _, r := range recs {
		_, data := decodeData(t, r)
		got = append(got, data["body"].(string))
	}
	counts := map[string]int{}
	for _, b := range got {
		counts[b]++
	}
	var dup int
	for _, n := range counts {
		dup += n - 1
	}
	t.Logf("%d records sent, %d on the topic, %d written more than once", len(want), len(got), dup)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("topic holds\n%v\nwant each record once, in order:\n%v", got, want)
	}
	return recs
}

// TestLostAcknowledgementNotDuplicated: Kafka appends batches but their
// acknowledgement is lost (REQUEST_TIMED_OUT after the append, as a
// broker answers when replication is slow), so ingest sends them again;
// the broker knows them by their sequence and each record is on the
// topic once.
func TestLostAcknowledgementNotDuplicated(t *testing.T) {
	h := startHarness(t, nil)
	first := h.sendInOrder(t, 0, 2)
	lost := h.cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.RequestTimedOut, Count: 3})
	want := h.sendInOrder(t, 2, 12)
	if n := lost.Hits(); n != 3 {
		t.Errorf("%d acknowledgements lost, want 3", n)
	}
	lost.Remove()
	recs := h.checkExactlyOnce(t, append(first, want...))
	for _, r := range recs {
		if r.ProducerID < 0 {
			t.Fatalf("record %s written without a producer id", r.Value)
		}
	}
}

// TestSequenceReset: when Kafka answers UNKNOWN_PRODUCER_ID or
// OUT_OF_ORDER_SEQUENCE_NUMBER, ingest bumps its epoch, starts the
// partition's sequence again from 0 and sends the batch again; every record
// is on the topic once and in order, the later ones under the new epoch.
func TestSequenceReset(t *testing.T) {
	for _, code := range []*kerr.Error{kerr.UnknownProducerID, kerr.OutOfOrderSequenceNumber} {
		t.Run(code.Message, func(t *testing.T) {
			h := startHarness(t, nil)
			first := h.sendInOrder(t, 0, 3)
			failOnce(h.cluster, code)
			recs := h.checkExactlyOnce(t, append(first, h.sendInOrder(t, 3, 9)...))
			before, after := recs[0], recs[len(recs)-1]
			if after.ProducerID != before.ProducerID || after.ProducerEpoch != before.ProducerEpoch+1 ||
				recs[len(first)].ProducerEpoch != after.ProducerEpoch {
				t.Errorf("producer %d epoch %d before the reset, %d epoch %d after; want the epoch bumped",
					before.ProducerID, before.ProducerEpoch, after.ProducerID, after.ProducerEpoch)
			}
			if m := h.metricsText(); !strings.Contains(m, "driftlock_ingest_producer_resets_total 1\n") {
				t.Errorf("reset not counted in driftlock_ingest_producer_resets_total")
			}
		})
	}
}

// failOnce answers the next produce request with code for each of its
// partitions, without appending.
func failOnce(c *kfake.Cluster, code *kerr.Error) {
	c.ControlKey(int16(kmsg.Produce), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		req := kr.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, code.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
}

// cutConn is a broker connection that, while cuts are left, lets a produce
// request reach the broker and closes the connection instead of reading
// its answer: the records are appended but their acknowledgement is lost.
// Requests may be written while an answer is read (pipelining).
type cutConn struct {
	net.Conn
	cuts       *atomic.Int32
	left       int         // bytes of the request being written; only Write touches it
	produceOut atomic.Bool // a produce request was written since the last read began
}

func (c *cutConn) Write(p []byte) (int, error) {
	if err := walkRequests(p, &c.left, func(key uint16) {
		if key == uint16(kmsg.Produce) {
			c.produceOut.Store(true)
		}
	}); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// walkRequests calls start with the API key of each request that begins
// in p, the next bytes written on a broker connection; *left is the
// bytes of the request being written that p's predecessors did not hold.
func walkRequests(p []byte, left *int, start func(key uint16)) error {
	for len(p) > 0 {
		if *left == 0 { // a request starts: its size, then its API key
			if len(p) < 6 {
				return errors.New("request header split across writes")
			}
			*left = 4 + int(binary.BigEndian.Uint32(p))
			start(binary.BigEndian.Uint16(p[4:6]))
		}
		n := min(*left, len(p))
		*left -= n
		p = p[n:]
	}
	return nil
}

func (c *cutConn) Read(p []byte) (int, error) {
	if c.produceOut.Swap(false) && c.cuts.Add(-1) >= 0 {
		time.Sleep(100 * time.Millisecond) // the broker appends
		c.Conn.Close()
		return 0, errors.New("injected: connection lost before the produce answer")
	}
	return c.Conn.Read(p)
}

// cuttingDial opens broker connections through a cutConn.
func cuttingDial(cuts *atomic.Int32) dialFunc {
	return wrappedDial("", func(nc net.Conn) net.Conn { return &cutConn{Conn: nc, cuts: cuts} })
}

// TestConnectionLostAfterAppend: the connection to the leader drops after
// a produce request reached it, so ingest sends the batch again on a new
// connection; each record is on the topic once and in order.
func TestConnectionLostAfterAppend(t *testing.T) {
	h := startProducer(t, nil)
	var cuts atomic.Int32
	h.p.dial = cuttingDial(&cuts)
	var want []string
	for r := range 12 {
		if r%4 == 2 {
			cuts.Store(1)
		}
		recs := make([]otlpconv.Record, 5)
		for i := range recs {
			v := fmt.Sprintf("r%d-i%d", r, i)
			recs[i] = otlpconv.Record{Key: "checkout|log", Value: []byte(v), Type: event.TypeLog, Service: "checkout", Source: sourceGRPC}
			want = append(want, v)
		}
		if _, err := h.p.produce(context.Background(), recs); err != nil {
			t.Fatalf("request %d: %v", r, err)
		}
		if cuts.Load() >= 0 {
			t.Fatalf("request %d: no connection was cut", r)
		}
	}
	var got []string
	for _, r := range h.consume() {
		got = append(got, string(r.Value))
	}
	t.Logf("%d records sent, %d on the topic", len(want), len(got))
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("topic holds\n%v\nwant each record once, in order:\n%v", got, want)
	}
}

// TestAbandonedBatchNotWritten: a batch whose requests were all answered
// with a retryable error (Kafka refused it past the write timeout) is not
// tried again once Kafka is back, so the client's retry puts its records on
// the topic once.
func TestAbandonedBatchNotWritten(t *testing.T) {
	clock := testkit.NewManualClock(time.Now())
	h := startHarness(t, func(cfg *config.Config) {
		cfg.Ingest.WriteTimeoutMS = 500
		cfg.Kafka.BatchTimeoutMS = 0 // batches go without the clock moving
	}, WithClock(clock))
	first := h.sendInOrder(t, 0, 1)
	down := h.cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotEnoughReplicas, Count: -1})
	req := logsRequest("checkout", "r1-i0", "r1-i1", "r1-i2", "r1-i3", "r1-i4")
	answered := make(chan string, 1)
	go func() {
		if code, detail := h.tryPost(req); code != http.StatusServiceUnavailable {
			answered <- detail
		}
		close(answered)
	}()
	clock.WaitForTimer(t, 10*time.Second, retryBackoffMin) // the refused batch's backoff
	clock.Advance(500 * time.Millisecond)
	if detail, wrong := <-answered; wrong {
		t.Fatalf("during the outage: %s, want 503", detail)
	}
	// Kafka is back before the batch's delivery deadline: the batch, still
	// being retried, must not be written now that its request was answered,
	// once its backoff ends (unless it was given up at once: the lane then
	// waits for its idle time).
	down.Remove()
	clock.WaitForTimer(t, 10*time.Second, laneIdle)
	clock.Advance(retryBackoffMin)
	h.checkExactlyOnce(t, append(first, h.sendInOrder(t, 1, 3)...))
}

// TestAnsweredByTheAttemptInFlight: Kafka appends a batch only after its
// request's write timeout passed. The request waits for that attempt
// instead of telling its client to send again, so the client is answered
// 200 and its records are on the topic once.
func TestAnsweredByTheAttemptInFlight(t *testing.T) {
	h := startHarness(t, func(cfg *config.Config) { cfg.Ingest.WriteTimeoutMS = 300 })
	first := h.sendInOrder(t, 0, 1)
	var held atomic.Bool
	h.cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		if held.CompareAndSwap(false, true) {
			// Only the first attempt is held: the attempt sent again
			// meanwhile runs this function too.
			h.cluster.SleepControl(func() { time.Sleep(450 * time.Millisecond) })
		}
		h.cluster.DropControl()
		return nil, nil, false // then appended as usual
	})
	late := h.sendInOrder(t, 1, 2)
	if !held.Load() {
		t.Fatal("the produce request was not held")
	}
	h.checkExactlyOnce(t, append(first, late...))
}

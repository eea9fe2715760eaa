package ingest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/otlpconv"
	"github.com/driftlock/driftlock/internal/testkit"
)

// inFlight counts the requests written on broker connections and not yet
// answered, and the most there were at once.
type inFlight struct {
	mu        sync.Mutex
	out, most int
}

func (f *inFlight) add(n int) {
	f.mu.Lock()
	f.out += n
	f.most = max(f.most, f.out)
	f.mu.Unlock()
}

func (f *inFlight) now() (out, most int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out, f.most
}

// countingConn is a broker connection that counts its requests in
// flight in an inFlight.
type countingConn struct {
	net.Conn
	f     *inFlight
	wleft int    // bytes of the request being written
	rleft int    // bytes of the answer being read
	rsize []byte // the start of the next answer's size
}

func (c *countingConn) Write(p []byte) (int, error) {
	if err := walkRequests(p, &c.wleft, func(uint16) { c.f.add(1) }); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	for rest := p[:n]; len(rest) > 0; {
		if c.rleft == 0 { // an answer's size
			k := min(4-len(c.rsize), len(rest))
			c.rsize, rest = append(c.rsize, rest[:k]...), rest[k:]
			if len(c.rsize) == 4 {
				c.rleft, c.rsize = int(binary.BigEndian.Uint32(c.rsize)), c.rsize[:0]
			}
			continue
		}
		k := min(c.rleft, len(rest))
		if c.rleft -= k; c.rleft == 0 {
			c.f.add(-1)
		}
		rest = rest[k:]
	}
	return n, err
}

// streamRecords returns n records of one stream, valued prefix0, prefix1, ...
func streamRecords(prefix string, n int) ([]otlpconv.Record, []string) {
	recs, values := make([]otlpconv.Record, n), make([]string, n)
	for i := range recs {
		values[i] = fmt.Sprintf("%s%d", prefix, i)
		recs[i] = otlpconv.Record{Key: "checkout|log", Value: []byte(values[i]), Type: event.TypeLog, Service: "checkout", Source: sourceGRPC}
	}
	return recs, values
}

// checkTopic fails the test unless the events topic holds want, each
// value once and in order.
func (h *producerHarness) checkTopic(want []string) {
	h.t.Helper()
	var got []string
	for _, r := range h.consume() {
		got = append(got, string(r.Value))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		h.t.Errorf("topic holds %d records\n%v\nwant %d, each once, in order:\n%v", len(got), got, len(want), want)
	}
}

// TestPipelineInFlight: the batches of a partition go out without waiting
// for the answers to the ones before, up to maxInFlight requests at once
// and no more, and the records are on the topic once and in order.
func TestPipelineInFlight(t *testing.T) {
	h := startProducer(t, func(c *producerConfig) { c.batchRecords = 5 })
	var f inFlight
	h.p.dial = wrappedDial("", func(nc net.Conn) net.Conn { return &countingConn{Conn: nc, f: &f} })
	// The first produce request is answered once maxInFlight are out
	// (or after 10 s, when the test fails).
	var held atomic.Bool
	h.cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		if held.CompareAndSwap(false, true) {
			h.cluster.SleepControl(func() {
				testkit.Poll(10*time.Second, func() bool { out, _ := f.now(); return out >= maxInFlight })
			})
		}
		h.cluster.KeepControl()
		return nil, nil, false
	})
	recs, want := streamRecords("r", 60) // 12 batches of one partition
	if _, err := h.p.produce(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if _, most := f.now(); most != maxInFlight {
		t.Errorf("at most %d requests were in flight on the partition's connection, want %d", most, maxInFlight)
	}
	h.checkTopic(want)
}

// TestPipelineFailureRecovered: one produce request in the middle of a
// pipeline fails (refused before the append, answered as timed out after
// it, or its connection cut after the broker got it). The batches after it
// in flight, refused as out of sequence or written, are not taken twice:
// every record is on the topic once and in order, under the same epoch
// (no batch needed a new sequence).
func TestPipelineFailureRecovered(t *testing.T) {
	for _, c := range []struct {
		name  string
		fault *kerr.Error // on the third request of a pipeline; nil: a connection is cut
	}{
		{"refused", kerr.NotEnoughReplicas},
		{"timed out after the append", kerr.RequestTimedOut},
		{"connection cut", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := startProducer(t, func(c *producerConfig) { c.batchRecords = 5 })
			var cuts atomic.Int32
			var fault *kfake.FaultHandle
			if c.fault != nil {
				// The request of the batch r10..r14: the third of the second call.
				fault = h.cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: c.fault, When: func(req kmsg.Request) bool {
					for _, t := range req.(*kmsg.ProduceRequest).Topics {
						for _, p := range t.Partitions {
							if bytes.Contains(p.Records, []byte("r10")) {
								return true
							}
						}
					}
					return false
				}})
			} else {
				h.p.dial = cuttingDial(&cuts)
			}
			first, wantFirst := streamRecords("a", 10) // the connection and producer id, before the cut
			if _, err := h.p.produce(context.Background(), first); err != nil {
				t.Fatal(err)
			}
			if c.fault == nil {
				cuts.Store(1)
			}
			recs, want := streamRecords("r", 60)
			if _, err := h.p.produce(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			if c.fault != nil && fault.Hits() != 1 {
				t.Fatalf("the fault hit %d produce requests, want 1", fault.Hits())
			}
			if c.fault == nil && cuts.Load() >= 0 {
				t.Fatal("no connection was cut")
			}
			h.checkTopic(append(wantFirst, want...))
			if m := testutil.ToFloat64(h.m.producerResets); m != 0 {
				t.Errorf("%v producer resets, want none", m)
			}
		})
	}
}

// TestPipelineBatchRefused: Kafka refuses a batch in the middle of a
// pipeline for good. Its request is answered with the error; the batches
// after it, refused as out of sequence, are stamped again under a new
// epoch and written, so the topic holds every other record once and in
// order.
func TestPipelineBatchRefused(t *testing.T) {
	h := startProducer(t, func(c *producerConfig) { c.batchRecords = 5 })
	fault := h.cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.InvalidRecord, When: func(req kmsg.Request) bool {
		return bytes.Contains(req.(*kmsg.ProduceRequest).Topics[0].Partitions[0].Records, []byte("r10"))
	}})
	recs, values := streamRecords("r", 30)
	if _, err := h.p.produce(context.Background(), recs); err == nil {
		t.Fatal("produce succeeded with a batch refused")
	}
	if fault.Hits() != 1 {
		t.Fatalf("the fault hit %d produce requests, want 1", fault.Hits())
	}
	h.checkTopic(append(values[:10:10], values[15:]...))
	if m := testutil.ToFloat64(h.m.producerResets); m != 1 {
		t.Errorf("%v producer resets, want 1", m)
	}
}

// TestPipelineUnderFaults: clients produce to two partitions at once while
// produce requests are refused before the append, answered as timed out
// after it, and connections are cut after the broker got a request, at
// random (seeded). Every acknowledged record is on the topic once, every
// client's records in the order it sent them, and no record twice.
func TestPipelineUnderFaults(t *testing.T) {
	h := startProducer(t, func(c *producerConfig) { c.batchRecords = 5 })
	var cuts atomic.Int32
	h.p.dial = cuttingDial(&cuts)
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	chance := func(p float64) bool {
		mu.Lock()
		defer mu.Unlock()
		return rng.Float64() < p
	}
	// faultAt draws once per request, however often When asks.
	faultAt := func(p float64) func(kmsg.Request) bool {
		drawn := map[kmsg.Request]bool{}
		return func(req kmsg.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			if hit, ok := drawn[req]; ok {
				return hit
			}
			drawn[req] = rng.Float64() < p
			return drawn[req]
		}
	}
	refused := h.cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotEnoughReplicas, Count: -1, When: faultAt(0.08)})
	timedOut := h.cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.RequestTimedOut, Count: -1, When: faultAt(0.08)})
	const clients, requests = 4, 25
	sent := make([][]string, clients)
	acked := make([][]bool, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range requests {
				if chance(0.05) {
					cuts.Store(1)
				}
				recs, values := streamRecords(fmt.Sprintf("c%d-r%d-", c, r), 12)
				for i := range recs {
					recs[i].Key = fmt.Sprintf("stream-%d", c%2)
				}
				_, err := h.p.produce(context.Background(), recs)
				sent[c] = append(sent[c], values...)
				for range values {
					acked[c] = append(acked[c], err == nil)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("faults: %d refused, %d timed out after the append, connections cut: %v", refused.Hits(), timedOut.Hits(), cuts.Load() < 0)
	if refused.Hits() == 0 || timedOut.Hits() == 0 {
		t.Fatal("the faults were not reached")
	}
	count := map[string]int{}
	var order []string
	for _, r := range h.consume() {
		count[string(r.Value)]++
		order = append(order, string(r.Value))
	}
	var ackedN, missing, dup int
	for c := range clients {
		for i, v := range sent[c] {
			if acked[c][i] {
				ackedN++
				if count[v] == 0 {
					missing++
				}
			}
			if count[v] > 1 {
				dup++
			}
		}
		// The client's records on the topic, in the order it sent them.
		pos := map[string]int{}
		for i, v := range sent[c] {
			pos[v] = i
		}
		last := -1
		for _, v := range order {
			if i, ok := pos[v]; ok {
				if i < last {
					t.Errorf("client %d: %s on the topic after a record it sent later", c, v)
				}
				last = i
			}
		}
	}
	t.Logf("%d records acknowledged, %d on the topic", ackedN, len(order))
	if missing > 0 || dup > 0 {
		t.Errorf("%d acknowledged records missing, %d records on the topic more than once", missing, dup)
	}
}

// TestPipelineLeaderMoves: the partition's leader moves while batches are
// in flight to it. All are refused by the old leader; the producer asks it
// for the new one and sends them there, in order, after one backoff.
func TestPipelineLeaderMoves(t *testing.T) {
	c, _ := testkit.NewCluster(t, kfake.NumBrokers(2), kfake.SeedTopics(3, testTopic))
	clock := testkit.NewManualClock(time.Now())
	h := startProducerOn(t, c, config.SASL{}, func(c *producerConfig) { c.clock, c.linger, c.batchRecords = clock, 0, 5 })
	first, want := streamRecords("a", 5)
	if _, err := h.p.produce(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	moveLeader(t, c, first[0].Key)
	attempts := countProduce(c)
	recs, values := streamRecords("r", 30) // 6 batches
	moved := h.produceAsync(recs)
	clock.WaitForTimer(t, 10*time.Second, retryBackoffMin) // the first refused batch's backoff
	clock.Advance(retryBackoffMin)
	if a := waitProduced(t, moved, "produce after the leader moved"); a.err != nil {
		t.Fatalf("produce after the leader moved: %v", a.err)
	}
	if n := attempts.Load(); n > 12 {
		t.Errorf("%d produce requests for 6 batches, want at most 12 (each refused by the old leader once, then the new leader)", n)
	}
	h.checkTopic(append(want, values...))
}

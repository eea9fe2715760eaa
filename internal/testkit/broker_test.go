package testkit

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestStartBroker produces a record to the broker in its own process and
// reads its end offset back, then checks the process is gone once the test
// that started it ended.
func TestStartBroker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	var addr string
	t.Run("serves", func(t *testing.T) {
		brokers := StartBroker(t)
		addr = brokers[0]
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic("t"))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		adm := kadm.NewClient(cl)
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, "t"); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		ends, err := adm.ListEndOffsets(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		if end, _ := ends.Lookup("t", 0); end.Offset != 1 {
			t.Fatalf("end offset %d after one record, want 1", end.Offset)
		}
	})
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after the test that started the broker ended", addr)
	}
}

package console

import (
	"fmt"
	"testing"

	"github.com/driftlock/driftlock/internal/anomaly"
)

func BenchmarkStoreAdd(b *testing.B) {
	s := testStore(b, 10_000, 1, 1)
	as := make([]anomaly.Anomaly, 0, 1024)
	for i := range 1024 {
		as = append(as, sample(fmt.Sprintf("id-%d", i), fmt.Sprintf("svc-%d", i%50), "log", 0.95, i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a := as[i%len(as)]
		a.ID = fmt.Sprintf("n-%d", i)
		s.add(a)
	}
}

func BenchmarkStoreQueryFull(b *testing.B) {
	s := testStore(b, 10_000, 1, 1)
	for i := range 10_000 {
		s.add(sample(fmt.Sprintf("id-%d", i), fmt.Sprintf("svc-%d", i%50), "log", 0.9+float64(i%10)/100, i))
	}
	f := filter{service: "svc-7", minConfidence: 0.95}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := s.query(f, page{limit: 100}); r.total == 0 {
			b.Fatal("no match")
		}
	}
}

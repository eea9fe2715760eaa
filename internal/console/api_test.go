package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/testkit"
)

// feed starts a console and publishes a known set of anomalies through the
// broker: 6 checkout logs, 4 checkout metrics, 2 payments spans.
func feed(t *testing.T) *running {
	t.Helper()
	cfg := testConfig(t)
	r := startConsole(t, cfg)
	var recs []any
	for i := range 12 {
		switch {
		case i < 6:
			recs = append(recs, sample(fmt.Sprintf("log-%d", i), "checkout", "log", 0.9+float64(i)/100, i))
		case i < 10:
			recs = append(recs, sample(fmt.Sprintf("met-%d", i), "checkout", "metric", 0.95, i))
		default:
			recs = append(recs, sample(fmt.Sprintf("span-%d", i), "payments", "span", 0.999, i))
		}
	}
	recs = append(recs, []byte("not json"), sample("log-0", "checkout", "log", 0.9, 0))
	publish(t, cfg, recs...)
	testkit.WaitFor(t, 20*time.Second, "12 anomalies", func() bool {
		return r.retained(t) == 12 && r.metric(t, "driftlock_console_invalid_records_total") == 1
	})
	return r
}

func ids(items []Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func TestAPIFilters(t *testing.T) {
	r := feed(t)
	if got := r.metric(t, "driftlock_console_anomalies_received_total"); got != 12 {
		t.Errorf("received = %v, want 12 (the duplicate is not counted)", got)
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"", 12},
		{"service=checkout", 10},
		{"service=payments", 2},
		{"signal=metric", 4},
		{"service=checkout&signal=log", 6},
		{"stream=" + url.QueryEscape("checkout|metric|http.server.duration"), 4},
		{"min_confidence=0.95", 1 + 4 + 2}, // of the logs only log-5 reaches 0.95
		{"since=2026-11-26T04:10:00Z", 2},
		{"until=2026-11-26T04:02:00Z", 2},
		{"since=2026-11-26T04:03:00Z&until=2026-11-26T04:05:00Z", 2},
		{"service=nobody", 0},
	} {
		var resp listResponse
		if code := getJSON(t, r.url+"/api/v1/anomalies?"+tc.query, &resp); code != http.StatusOK {
			t.Fatalf("%s: status %d", tc.query, code)
		}
		if resp.Total != tc.want || len(resp.Anomalies) != tc.want {
			t.Errorf("%q: total %d, got %d items %v; want %d", tc.query, resp.Total, len(resp.Anomalies), ids(resp.Anomalies), tc.want)
		}
	}
}

func TestAPIPagingAndByID(t *testing.T) {
	r := feed(t)
	var all listResponse
	getJSON(t, r.url+"/api/v1/anomalies?limit=1000", &all)
	for i := 1; i < len(all.Anomalies); i++ {
		if all.Anomalies[i].Sequence >= all.Anomalies[i-1].Sequence {
			t.Fatalf("not newest first: %d after %d", all.Anomalies[i].Sequence, all.Anomalies[i-1].Sequence)
		}
	}
	if all.NextCursor != "" || all.LatestSequence != all.Anomalies[0].Sequence {
		t.Errorf("next_cursor %q latest %d", all.NextCursor, all.LatestSequence)
	}
	// Walk with a cursor, 5 at a time.
	var walked []string
	pages := 0
	for cursor := ""; ; pages++ {
		var p listResponse
		getJSON(t, r.url+"/api/v1/anomalies?limit=5&cursor="+cursor, &p)
		walked = append(walked, ids(p.Anomalies)...)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if strings.Join(walked, ",") != strings.Join(ids(all.Anomalies), ",") || pages != 2 {
		t.Errorf("cursor walk (%d pages) = %v, want %v", pages+1, walked, ids(all.Anomalies))
	}
	var off listResponse
	getJSON(t, r.url+"/api/v1/anomalies?limit=5&offset=5", &off)
	if strings.Join(ids(off.Anomalies), ",") != strings.Join(ids(all.Anomalies[5:10]), ",") {
		t.Errorf("offset page = %v, want %v", ids(off.Anomalies), ids(all.Anomalies[5:10]))
	}

	var one Item
	if code := getJSON(t, r.url+"/api/v1/anomalies/met-7", &one); code != http.StatusOK {
		t.Fatalf("by id: %d", code)
	}
	if one.ID != "met-7" || one.Stream.Metric != "http.server.duration" || len(one.Evidence) != 2 ||
		one.Evidence[0].Summary != "ERROR payment gateway timeout after 30000ms" || one.Explanation == "" {
		t.Errorf("by id = %+v", one)
	}
	var e errorBody
	if code := getJSON(t, r.url+"/api/v1/anomalies/nope", &e); code != http.StatusNotFound ||
		e.Error != `anomaly "nope" not found (unknown, or no longer held in memory)` {
		t.Errorf("unknown id: %d %q", code, e.Error)
	}
}

func TestAPIStreamsAndTimeline(t *testing.T) {
	r := feed(t)
	var resp struct{ Streams []StreamSummary }
	getJSON(t, r.url+"/api/v1/streams", &resp)
	if len(resp.Streams) != 3 {
		t.Fatalf("streams = %+v", resp.Streams)
	}
	first := resp.Streams[0]
	if first.Key != "payments|span" || first.Anomalies != 2 || first.LatestID != "span-11" ||
		first.LatestScores.Confidence != 0.999 || !first.LatestAt.Equal(baseTime.Add(11*time.Minute)) {
		t.Errorf("latest stream = %+v", first)
	}
	if resp.Streams[2].Key != "checkout|log" || resp.Streams[2].Anomalies != 6 {
		t.Errorf("oldest stream = %+v", resp.Streams[2])
	}
	var tl timelineResponse
	key := url.PathEscape("checkout|log")
	if code := getJSON(t, r.url+"/api/v1/streams/"+key+"/timeline", &tl); code != http.StatusOK {
		t.Fatalf("timeline status %d", code)
	}
	if len(tl.Points) != 6 || tl.Stream.Key != "checkout|log" {
		t.Fatalf("timeline = %+v", tl)
	}
	for i, p := range tl.Points {
		if !p.End.Equal(baseTime.Add(time.Duration(i)*time.Minute)) || p.ID != fmt.Sprintf("log-%d", i) {
			t.Errorf("point %d = %+v", i, p)
		}
	}
	var sa listResponse
	getJSON(t, r.url+"/api/v1/streams/"+key+"/anomalies?limit=2", &sa)
	if sa.Total != 6 || len(sa.Anomalies) != 2 || sa.Anomalies[0].ID != "log-5" {
		t.Errorf("stream anomalies = %d %v", sa.Total, ids(sa.Anomalies))
	}
	var e errorBody
	if code := getJSON(t, r.url+"/api/v1/streams/nope/timeline", &e); code != http.StatusNotFound {
		t.Errorf("unknown stream: %d", code)
	}
}

func TestAPIBadParameters(t *testing.T) {
	r := feed(t)
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/anomalies?limit=0", `invalid query parameter limit: "0" is not an integer between 1 and 1000`},
		{"/api/v1/anomalies?limit=ten", `invalid query parameter limit: "ten" is not an integer between 1 and 1000`},
		{"/api/v1/anomalies?min_confidence=1.5", `invalid query parameter min_confidence: "1.5" is not a number between 0 and 1`},
		{"/api/v1/anomalies?min_confidence=NaN", `invalid query parameter min_confidence: "NaN" is not a number between 0 and 1`},
		{"/api/v1/anomalies?since=yesterday", `invalid query parameter since: "yesterday" is not an RFC 3339 time such as 2026-01-02T15:04:05Z`},
		{"/api/v1/anomalies?until=2026-13-01", `invalid query parameter until: "2026-13-01" is not an RFC 3339 time such as 2026-01-02T15:04:05Z`},
		{"/api/v1/anomalies?since=2026-11-26T05:00:00Z&until=2026-11-26T04:00:00Z", `invalid query parameter until: must not be before since`},
		{"/api/v1/anomalies?signal=trace", `invalid query parameter signal: "trace" is not one of log, metric, span`},
		{"/api/v1/anomalies?cursor=abc", `invalid query parameter cursor: "abc" is not a cursor returned as next_cursor`},
		{"/api/v1/anomalies?offset=-1", `invalid query parameter offset: "-1" is not a non-negative integer`},
		{"/api/v1/anomalies?cursor=3&offset=1", `invalid query parameter offset: cannot be combined with cursor`},
		{"/api/v1/streams?signal=x", `invalid query parameter signal: "x" is not one of log, metric, span`},
		{"/api/v1/streams/checkout%7Clog/timeline?limit=-3", `invalid query parameter limit: "-3" is not an integer between 1 and 1000`},
		{"/api/v1/stream?last_event_id=x", `invalid query parameter last_event_id: "x" is not an event id (a non-negative integer)`},
	} {
		var e errorBody
		if code := getJSON(t, r.url+tc.path, &e); code != http.StatusBadRequest || e.Error != tc.want {
			t.Errorf("%s: %d %q\nwant 400 %q", tc.path, code, e.Error, tc.want)
		}
	}
	var e errorBody
	if code := getJSON(t, r.url+"/api/v1/nothing", &e); code != http.StatusNotFound || !strings.Contains(e.Error, "/api/v1/nothing") {
		t.Errorf("unknown endpoint: %d %q", code, e.Error)
	}
}

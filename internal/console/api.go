package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/driftlock/driftlock/internal/admin"
	"github.com/driftlock/driftlock/internal/console/web"
)

// handler routes the UI, the API and the operational endpoints.
func (s *Service) handler() http.Handler {
	api := http.NewServeMux()
	for _, rt := range s.routes() {
		api.HandleFunc(rt.pattern, rt.handler)
	}
	api.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no API endpoint %s %s", r.Method, r.URL.Path))
	})
	api.Handle("/", web.Handler())

	mux := http.NewServeMux()
	admin.Handle(mux, s.reg, s.ready)
	a := newAuth(s.cfg.Console.AuthToken)
	mux.HandleFunc("GET /login", a.loginPage)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.Handle("/", a.require(api))
	return securityHeaders(mux)
}

// route is one API endpoint; api/openapi.yaml documents each.
type route struct {
	pattern string
	handler http.HandlerFunc
}

func (s *Service) routes() []route {
	return []route{
		{"GET /api/v1/anomalies", s.listAnomalies},
		{"GET /api/v1/anomalies/{id}", s.getAnomaly},
		{"GET /api/v1/incidents", s.listIncidents},
		{"GET /api/v1/incidents/{id}", s.getIncident},
		{"GET /api/v1/streams", s.listStreams},
		{"GET /api/v1/streams/{key}/anomalies", s.streamAnomalies},
		{"GET /api/v1/streams/{key}/timeline", s.streamTimeline},
		{"GET /api/v1/stream", s.serveSSE},
		{"GET /api/v1/status", s.status},
	}
}

// listResponse is the body of the anomaly list endpoints.
type listResponse struct {
	Anomalies []Item `json:"anomalies"`
	// Total counts the anomalies held that match the filter.
	Total int `json:"total"`
	// NextCursor fetches the next (older) page; empty on the last page.
	NextCursor string `json:"next_cursor"`
	// LatestSequence is the newest anomaly's sequence: a client that opens
	// the live stream with last_event_id=LatestSequence misses nothing.
	LatestSequence uint64 `json:"latest_sequence"`
}

func (s *Service) listAnomalies(w http.ResponseWriter, r *http.Request) {
	s.list(w, r, "")
}

func (s *Service) streamAnomalies(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if _, ok := s.store.stream(key); !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("stream %q not found", key))
		return
	}
	s.list(w, r, key)
}

func (s *Service) list(w http.ResponseWriter, r *http.Request, stream string) {
	f, p, ok := filterAndPage(w, r)
	if !ok {
		return
	}
	if stream != "" {
		f.stream = stream
	}
	latest := s.store.latest()
	res := s.store.query(f, p)
	resp := listResponse{Anomalies: res.items, Total: res.total, LatestSequence: latest}
	if resp.Anomalies == nil {
		resp.Anomalies = []Item{}
	}
	if res.nextCursor != 0 {
		resp.NextCursor = strconv.FormatUint(res.nextCursor, 10)
	}
	writeJSON(w, http.StatusOK, resp)
}

// filterAndPage reads a list endpoint's filter and page; on a bad
// parameter it answers 400 and reports false.
func filterAndPage(w http.ResponseWriter, r *http.Request) (filter, page, bool) {
	q := r.URL.Query()
	f, err := parseFilter(q)
	var p page
	if err == nil {
		p, err = parsePage(q)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return f, p, false
	}
	return f, p, true
}

// incidentListResponse is the body of GET /api/v1/incidents.
type incidentListResponse struct {
	Incidents []Incident `json:"incidents"`
	// Total counts the incidents held that match the filter.
	Total int `json:"total"`
	// NextCursor fetches the next page (incidents updated earlier); empty
	// on the last page.
	NextCursor string `json:"next_cursor"`
	// LatestSequence is the newest anomaly's sequence, as in listResponse.
	LatestSequence uint64 `json:"latest_sequence"`
}

func (s *Service) listIncidents(w http.ResponseWriter, r *http.Request) {
	f, p, ok := filterAndPage(w, r)
	if !ok {
		return
	}
	latest := s.store.latest()
	res := s.store.queryIncidents(f, p)
	resp := incidentListResponse{Incidents: res.items, Total: res.total, LatestSequence: latest}
	if resp.Incidents == nil {
		resp.Incidents = []Incident{}
	}
	if res.nextCursor != 0 {
		resp.NextCursor = strconv.FormatUint(res.nextCursor, 10)
	}
	writeJSON(w, http.StatusOK, resp)
}

// incidentResponse is an incident with its records held, oldest first.
type incidentResponse struct {
	Incident  Incident `json:"incident"`
	Anomalies []Item   `json:"anomalies"`
}

func (s *Service) getIncident(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	inc, items, ok := s.store.incident(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("incident %q not found (unknown, or none of its anomalies is still held in memory)", id))
		return
	}
	writeJSON(w, http.StatusOK, incidentResponse{Incident: inc, Anomalies: items})
}

func (s *Service) getAnomaly(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	it, ok := s.store.get(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("anomaly %q not found (unknown, or no longer held in memory)", id))
		return
	}
	writeJSON(w, http.StatusOK, it)
}

func (s *Service) listStreams(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"streams": s.store.streamList(f)})
}

// timelineResponse is a stream's summary and its anomalies in time order.
type timelineResponse struct {
	Stream StreamSummary   `json:"stream"`
	Points []TimelinePoint `json:"points"`
}

func (s *Service) streamTimeline(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	q := r.URL.Query()
	f, err := parseFilter(q)
	limit := 500
	if v := q.Get("limit"); err == nil && v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxLimit {
			err = badParam("limit", "%q is not an integer between 1 and %d", v, maxLimit)
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	sum, ok := s.store.stream(key)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("stream %q not found", key))
		return
	}
	f.stream = key
	pts := s.store.timeline(f, limit)
	if pts == nil {
		pts = []TimelinePoint{}
	}
	writeJSON(w, http.StatusOK, timelineResponse{Stream: sum, Points: pts})
}

// statusResponse tells the UI what the console holds.
type statusResponse struct {
	Ready          bool   `json:"ready"`
	Retained       int    `json:"retained"`
	LatestSequence uint64 `json:"latest_sequence"`
	Streams        int    `json:"streams"`
	// Incidents counts the incidents with an anomaly held.
	Incidents    int    `json:"incidents"`
	Topic        string `json:"topic"`
	MaxAnomalies int    `json:"max_anomalies"`
	Alerting     bool   `json:"alerting"`
}

func (s *Service) status(w http.ResponseWriter, _ *http.Request) {
	st := statusResponse{Topic: s.cfg.Kafka.AnomaliesTopic, MaxAnomalies: s.cfg.Console.MaxAnomalies, Alerting: s.fwd.Enabled()}
	select {
	case <-s.rebuilt:
		st.Ready = true
	default:
	}
	st.Retained, st.LatestSequence, st.Streams, st.Incidents = s.store.counts()
	writeJSON(w, http.StatusOK, st)
}

// errorBody is every API error: {"error": "..."}.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // a failed write means the client left
}

// securityHeaders sets headers that keep the UI to its own origin.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Referrer-Policy", "no-referrer")
		hdr.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		h.ServeHTTP(w, r)
	})
}

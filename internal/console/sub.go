package console

// subscriber is one live-stream client. The store sends it new entries
// without blocking; when its buffer is full it is dropped: gone is closed
// and it receives nothing more.
type subscriber struct {
	ch   chan *entry
	gone chan struct{}
}

// subscribe registers a client and returns, atomically with the
// registration, the held entries with a sequence above after (none when
// replay is false), so nothing falls between the replay and the live feed.
func (s *store) subscribe(after uint64, replay bool) (*subscriber, []*entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.subs) >= s.maxSubs {
		return nil, nil, errTooManyClients
	}
	sub := &subscriber{ch: make(chan *entry, s.subBuf), gone: make(chan struct{})}
	s.subs[sub] = struct{}{}
	s.m.sseClients.Set(float64(len(s.subs)))
	if !replay || s.n == 0 {
		return sub, nil, nil
	}
	oldest := s.at(0).Sequence
	start := 0
	if after >= oldest {
		start = int(after - oldest + 1)
	}
	missed := make([]*entry, 0, max(s.n-start, 0))
	for i := start; i < s.n; i++ {
		missed = append(missed, s.at(i))
	}
	return sub, missed, nil
}

// unsubscribe removes a client; it is a no-op for a dropped one.
func (s *store) unsubscribe(sub *subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.subs[sub]; ok {
		delete(s.subs, sub)
		close(sub.gone)
		s.m.sseClients.Set(float64(len(s.subs)))
	}
}

// broadcast offers e to every client; callers hold the write lock.
func (s *store) broadcast(e *entry) {
	for sub := range s.subs {
		select {
		case sub.ch <- e:
		default:
			delete(s.subs, sub)
			close(sub.gone)
			s.m.sseDropped.Inc()
		}
	}
	s.m.sseClients.Set(float64(len(s.subs)))
}

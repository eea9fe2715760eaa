package console

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"sync"
	"time"
)

// Defaults of the console's sessions and of its limit on wrong tokens.
const (
	sessionTTL  = 12 * time.Hour
	maxSessions = 1024
	// A client address may present failBurst wrong tokens at once, then
	// one more every failEvery; beyond that it is answered 429.
	failBurst   = 10
	failEvery   = 6 * time.Second
	maxLimiters = 4096
)

// sessions is the server-side store of the login form's sessions. A
// session id is 32 random bytes; the store keeps only its SHA-256, so that
// a lookup's timing tells nothing about stored ids. It holds at most max
// sessions: a new one evicts expired ones, then the one closest to expiry.
type sessions struct {
	mu   sync.Mutex
	max  int
	ttl  time.Duration
	byID map[[sha256.Size]byte]time.Time // expiry
}

func newSessions(max int, ttl time.Duration) *sessions {
	return &sessions{max: max, ttl: ttl, byID: make(map[[sha256.Size]byte]time.Time)}
}

// create starts a session valid until now+ttl and returns its id.
func (s *sessions) create(now time.Time) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	id := hex.EncodeToString(raw[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) >= s.max {
		s.evict(now)
	}
	s.byID[sha256.Sum256([]byte(id))] = now.Add(s.ttl)
	return id, nil
}

// evict drops expired sessions, and the one closest to expiry if none was.
func (s *sessions) evict(now time.Time) {
	var oldest [sha256.Size]byte
	var oldestAt time.Time
	for k, exp := range s.byID {
		if !now.Before(exp) {
			delete(s.byID, k)
			continue
		}
		if oldestAt.IsZero() || exp.Before(oldestAt) {
			oldest, oldestAt = k, exp
		}
	}
	if len(s.byID) >= s.max {
		delete(s.byID, oldest)
	}
}

// valid reports whether id is a live session.
func (s *sessions) valid(id string, now time.Time) bool {
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.byID[k]
	if ok && !now.Before(exp) {
		delete(s.byID, k)
		return false
	}
	return ok
}

// end ends session id.
func (s *sessions) end(id string) {
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, k)
}

// limiter counts wrong tokens per client address in token buckets of
// failBurst, refilled one per failEvery. It tracks at most max addresses:
// when full it forgets the addresses whose bucket has refilled, then any.
type limiter struct {
	mu      sync.Mutex
	burst   float64
	every   time.Duration
	max     int
	clients map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, every time.Duration, max int) *limiter {
	return &limiter{burst: float64(burst), every: every, max: max, clients: make(map[string]*bucket)}
}

// refill brings b up to now.
func (l *limiter) refill(b *bucket, now time.Time) {
	b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.every))
	b.at = now
}

// blocked reports how long addr must wait before its next attempt, or 0.
func (l *limiter) blocked(addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.clients[addr]
	if !ok {
		return 0
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.every))
}

// fail counts a wrong token from addr.
func (l *limiter) fail(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.clients[addr]
	if !ok {
		if len(l.clients) >= l.max {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.clients[addr] = b
	}
	l.refill(b, now)
	b.tokens = max(b.tokens-1, 0)
}

func (l *limiter) prune(now time.Time) {
	for addr, b := range l.clients {
		if l.refill(b, now); b.tokens >= l.burst {
			delete(l.clients, addr)
		}
	}
	for addr := range l.clients {
		if len(l.clients) < l.max {
			return
		}
		delete(l.clients, addr)
	}
}

// retryAfter is d in whole seconds, at least 1, for a Retry-After header.
func retryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

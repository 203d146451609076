package server

import (
	"sync"
	"time"
)

// Stream limit defaults (see StreamLimits).
const (
	DefaultStreamsPerClient   = 100
	DefaultStreamsPerNode     = 2000
	DefaultStreamWriteTimeout = 10 * time.Second
)

// StreamLimits bound the revocation streams (GET /oauth2/revocations/
// stream) of one node: each holds a connection, a goroutine and buffers,
// and every revocation wakes them all. Zero fields take the defaults.
type StreamLimits struct {
	// PerClient caps one client's open streams on this node; a resource
	// server needs one per process, and its processes often share one
	// client, so the default leaves room for a large fleet.
	PerClient int
	// PerNode caps all open streams of this node.
	PerNode int
	// WriteTimeout bounds the writing of each batch of events (and each
	// keep-alive): a client that does not read is dropped then, and
	// resumes with Last-Event-ID when it reconnects.
	WriteTimeout time.Duration
}

func (l StreamLimits) withDefaults() StreamLimits {
	if l.PerClient <= 0 {
		l.PerClient = DefaultStreamsPerClient
	}
	if l.PerNode <= 0 {
		l.PerNode = DefaultStreamsPerNode
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = DefaultStreamWriteTimeout
	}
	return l
}

// streamRetry is the Retry-After of a stream refused for a cap: long
// enough for a stream to end, short against the verifier's MaxFeedGap.
const streamRetry = 5 * time.Second

// streamSlots counts open streams per client and in all.
type streamSlots struct {
	lim StreamLimits
	// open reports the node's count after every change (a gauge).
	open func(n int)

	mu        sync.Mutex
	total     int
	perClient map[string]int
}

func newStreamSlots(lim StreamLimits, open func(int)) *streamSlots {
	return &streamSlots{lim: lim.withDefaults(), open: open, perClient: map[string]int{}}
}

// acquire takes a slot for clientID; release gives it back. why says which
// cap refused it.
func (s *streamSlots) acquire(clientID string) (release func(), why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.perClient[clientID] >= s.lim.PerClient:
		return nil, "too many revocation streams for this client"
	case s.total >= s.lim.PerNode:
		return nil, "this node serves its maximum of revocation streams; retry (another node)"
	}
	s.perClient[clientID]++
	s.total++
	s.open(s.total)
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.perClient[clientID]--; s.perClient[clientID] <= 0 {
				delete(s.perClient, clientID)
			}
			s.total--
			s.open(s.total)
		})
	}, ""
}

package notify

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/csmarket/csmarket/internal/market"
)

// Channel is the Redis pub/sub channel on which replicas share the
// notifications each stored.
const Channel = "csm:notifications"

// subscriberBuffer is how many notifications a live client may fall
// behind by; past it the client is dropped and resumes from the store with
// Last-Event-ID, so that a slow or vanished client never blocks a writer.
const subscriberBuffer = 64

// Hub fans stored notifications out to the live clients of their users:
// through Redis pub/sub to every replica when rc is set, in process
// otherwise (and, while Redis is unreachable, to this replica's own
// clients, who resume the rest from the store).
type Hub struct {
	rc  redis.UniversalClient
	log *slog.Logger

	mu   sync.Mutex
	subs map[string]map[*subscriber]struct{}
}

type subscriber struct {
	ch     chan market.Notification
	closed bool
}

// NewHub returns a hub on rc (nil: in process only). Call Run to receive
// other replicas' notifications.
func NewHub(rc redis.UniversalClient, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{rc: rc, log: log, subs: map[string]map[*subscriber]struct{}{}}
}

// Subscribe returns a channel of userID's notifications from now on, and
// the function that ends the subscription. The channel is closed when the
// client fell too far behind.
func (h *Hub) Subscribe(userID string) (<-chan market.Notification, func()) {
	s := &subscriber{ch: make(chan market.Notification, subscriberBuffer)}
	h.mu.Lock()
	if h.subs[userID] == nil {
		h.subs[userID] = map[*subscriber]struct{}{}
	}
	h.subs[userID][s] = struct{}{}
	h.mu.Unlock()
	return s.ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs[userID], s)
		if len(h.subs[userID]) == 0 {
			delete(h.subs, userID)
		}
		if !s.closed {
			s.closed = true
			close(s.ch)
		}
	}
}

// Publish sends ns to their users' live clients on every replica.
func (h *Hub) Publish(ctx context.Context, ns []market.Notification) {
	if h.rc == nil {
		h.deliver(ns)
		return
	}
	b, err := json.Marshal(toWire(ns))
	if err == nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		err = h.rc.Publish(ctx, Channel, b).Err()
		cancel()
	}
	if err != nil {
		h.log.Warn("notifications: publish to Redis failed; live clients of other replicas will catch up on reconnecting", "error", err.Error())
		h.deliver(ns)
	}
}

// deliver hands ns to this process's subscribers, never waiting: a client
// whose buffer is full is cut off.
func (h *Hub) deliver(ns []market.Notification) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range ns {
		for s := range h.subs[n.UserID] {
			if s.closed {
				continue
			}
			select {
			case s.ch <- n:
			default:
				s.closed = true
				close(s.ch)
			}
		}
	}
}

// Run receives the notifications published by every replica (this one
// included) and delivers them here, until ctx ends. go-redis resubscribes
// by itself after a lost connection.
func (h *Hub) Run(ctx context.Context) {
	if h.rc == nil {
		<-ctx.Done()
		return
	}
	ps := h.rc.Subscribe(ctx, Channel)
	defer ps.Close()
	ch := ps.Channel(redis.WithChannelHealthCheckInterval(10 * time.Second))
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			var w []wireNotification
			if err := json.Unmarshal([]byte(m.Payload), &w); err != nil {
				h.log.Warn("notifications: bad message on the channel", "error", err.Error())
				continue
			}
			h.deliver(fromWire(w))
		}
	}
}

// wireNotification is a notification as replicas pass it on.
type wireNotification struct {
	ID        string    `json:"id"`
	Seq       int64     `json:"seq"`
	UserID    string    `json:"user_id"`
	Kind      string    `json:"kind"`
	TenderID  string    `json:"tender_id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Link      string    `json:"link"`
	CreatedAt time.Time `json:"created_at"`
}

func toWire(ns []market.Notification) []wireNotification {
	out := make([]wireNotification, len(ns))
	for i, n := range ns {
		out[i] = wireNotification{n.ID, n.Seq, n.UserID, string(n.Kind), n.TenderID, n.Title, n.Body, n.Link, n.CreatedAt}
	}
	return out
}

func fromWire(w []wireNotification) []market.Notification {
	out := make([]market.Notification, len(w))
	for i, n := range w {
		out[i] = market.Notification{ID: n.ID, Seq: n.Seq, UserID: n.UserID, Kind: market.NotificationKind(n.Kind),
			TenderID: n.TenderID, Title: n.Title, Body: n.Body, Link: n.Link, CreatedAt: n.CreatedAt}
	}
	return out
}

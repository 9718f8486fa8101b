package api

import (
	"io"
	"strconv"
	"sync"
	"time"
)

// accessLine writes the access line of every request as the JSON handler
// of log/slog would write
//
//	{"time":...,"level":"INFO","msg":"request","method":...,"route":...,
//	 "status":...,"duration_us":...,"bytes":...,"request_id":...}
//
// without slog's general machinery: the fields are fixed and every string
// in them (a method from a fixed set, a route template, a request ID of
// safe characters) needs no escaping, so the line is appended straight
// into a pooled buffer. It is on the path of every cached hit.
type accessLine struct {
	w io.Writer
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

func (a accessLine) write(t time.Time, method, route string, status int, d time.Duration, size int, requestID string) {
	bp := linePool.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, `{"time":"`...)
	b = t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `","level":"INFO","msg":"request","method":`...)
	b = appendJSONString(b, method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, route)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"duration_us":`...)
	b = strconv.AppendInt(b, d.Microseconds(), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(size), 10)
	if requestID != "" {
		b = append(b, `,"request_id":`...)
		b = appendJSONString(b, requestID)
	}
	b = append(b, "}\n"...)
	_, _ = a.w.Write(b) // a log that cannot be written must not fail the request
	*bp = b
	linePool.Put(bp)
}

// appendJSONString appends s quoted; the bytes JSON must escape are
// escaped, though the fields written here have none.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

package logsink

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// out records each write it is given.
type out struct {
	mu     sync.Mutex
	writes []string
}

func (o *out) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writes = append(o.writes, string(p))
	return len(p), nil
}

func (o *out) all() (string, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.writes, ""), len(o.writes)
}

func TestOrderAndBatches(t *testing.T) {
	o := &out{}
	s := New(o, time.Hour, 1<<20)
	for i := range 100 {
		fmt.Fprintf(s.Buffered(), "access %d\n", i)
	}
	if got, n := o.all(); n != 0 || got != "" {
		t.Fatalf("buffered lines written before a flush: %d writes", n)
	}
	fmt.Fprintln(s.Direct(), "error line")
	got, n := o.all()
	if n != 2 || !strings.HasPrefix(got, "access 0\n") || !strings.HasSuffix(got, "access 99\nerror line\n") {
		t.Fatalf("after a direct line: %d writes, %q...", n, got[:min(40, len(got))])
	}
	fmt.Fprintln(s.Buffered(), "last access")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := o.all(); !strings.HasSuffix(got, "error line\nlast access\n") {
		t.Errorf("Close did not write the rest: %q", got[len(got)-30:])
	}
	fmt.Fprintln(s.Buffered(), "after close")
	if got, _ := o.all(); !strings.HasSuffix(got, "after close\n") {
		t.Error("a line after Close was held back")
	}
}

func TestIntervalAndSize(t *testing.T) {
	o := &out{}
	s := New(o, 20*time.Millisecond, 64)
	defer s.Close()
	fmt.Fprintln(s.Buffered(), "one")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got, _ := o.all(); got == "one\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a gathered line was never written by the timer")
		}
		time.Sleep(5 * time.Millisecond)
	}
	line := bytes.Repeat([]byte("x"), 100)
	s.Buffered().Write(append(line, '\n'))
	if got, _ := o.all(); !strings.HasSuffix(got, string(line)+"\n") {
		t.Error("more than size bytes were held back")
	}
}

func TestConcurrentLinesStayWhole(t *testing.T) {
	o := &out{}
	s := New(o, time.Millisecond, 256)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				w := s.Buffered()
				if i%50 == 0 {
					w = s.Direct()
				}
				fmt.Fprintf(w, "g%d-%d %s\n", g, i, strings.Repeat("y", 20))
			}
		})
	}
	wg.Wait()
	s.Close()
	got, _ := o.all()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		var g, i int
		var rest string
		if _, err := fmt.Sscanf(l, "g%d-%d %s", &g, &i, &rest); err != nil || rest != strings.Repeat("y", 20) {
			t.Fatalf("a line was torn: %q", l)
		}
		seen[l] = true
	}
	if len(seen) != 8*500 {
		t.Errorf("%d distinct lines, want %d", len(seen), 8*500)
	}
}

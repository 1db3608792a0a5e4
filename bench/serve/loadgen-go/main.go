// Command loadgen drives GET /users/{id}/recommendations on a loopback server, closed or open
// loop, and prints one JSON object per run.
//
// Closed loop (-concurrency N): N clients, each sends its next request when the last one is
// answered. Open loop (-rates a,b,c): requests are due on a fixed schedule of R per second,
// independent of the responses (no coordinated omission); a latency is measured from the
// time the request was due, so a server that falls behind shows its queue in the
// percentiles. Rates are stepped in order for -duration each until a step breaks -max-p99
// (or has errors); sustained_rps is the highest rate held within it with no errors.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type level struct {
	Mode          string         `json:"mode"`
	Concurrency   int            `json:"concurrency,omitempty"`
	OfferedRPS    float64        `json:"offered_rps,omitempty"`
	Requests      int            `json:"requests"`
	Seconds       float64        `json:"seconds"`
	ThroughputRPS float64        `json:"throughput_rps"`
	P50           float64        `json:"p50_ms"`
	P95           float64        `json:"p95_ms"`
	P99           float64        `json:"p99_ms"`
	Max           float64        `json:"max_ms"`
	Errors        int            `json:"errors"`
	ByStatus      map[string]int `json:"by_status"`
	ErrorSamples  []string       `json:"error_samples"`
	MaxInFlight   int64          `json:"max_in_flight"`
}

type recorder struct {
	mu        sync.Mutex
	latencies []float64
	byStatus  map[string]int
	errors    int
	samples   []string
}

func (r *recorder) add(ms float64, status string, problem string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latencies = append(r.latencies, ms)
	r.byStatus[status]++
	if problem != "" {
		r.errors++
		if len(r.samples) < 3 {
			r.samples = append(r.samples, problem)
		}
	}
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	// nearest-rank on the sorted sample
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	if rank < 0 {
		rank = 0
	}
	if rank >= len(sorted) {
		rank = len(sorted) - 1
	}
	return sorted[rank]
}

func round(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

func (r *recorder) summary(mode string, elapsed time.Duration) level {
	sort.Float64s(r.latencies)
	n := len(r.latencies)
	out := level{
		Mode:          mode,
		Requests:      n,
		Seconds:       round(elapsed.Seconds()),
		ThroughputRPS: round(float64(n) / elapsed.Seconds()),
		P50:           round(percentile(r.latencies, 50)),
		P95:           round(percentile(r.latencies, 95)),
		P99:           round(percentile(r.latencies, 99)),
		Errors:        r.errors,
		ByStatus:      r.byStatus,
		ErrorSamples:  r.samples,
	}
	if n > 0 {
		out.Max = round(r.latencies[n-1])
	}
	if out.ErrorSamples == nil {
		out.ErrorSamples = []string{}
	}
	return out
}

type target struct {
	client *http.Client
	paths  []string
	k      int
	next   atomic.Int64
}

// do sends one request and records its latency measured from due.
func (t *target) do(rec *recorder, due time.Time) {
	path := t.paths[int(t.next.Add(1)-1)%len(t.paths)]
	resp, err := t.client.Get(path)
	if err != nil {
		rec.add(msSince(due), "transport", err.Error())
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	status := strconv.Itoa(resp.StatusCode)
	switch {
	case err != nil:
		rec.add(msSince(due), "transport", err.Error())
	case resp.StatusCode != 200:
		rec.add(msSince(due), status, status+": "+truncate(string(body), 200))
	case bytes.Count(body, []byte(`"item_id"`)) != t.k:
		rec.add(msSince(due), "short", fmt.Sprintf("200 with %d items, want %d",
			bytes.Count(body, []byte(`"item_id"`)), t.k))
	default:
		rec.add(msSince(due), status, "")
	}
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func closed(t *target, concurrency int, duration time.Duration) level {
	rec := &recorder{byStatus: map[string]int{}}
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	started := time.Now()
	for c := 0; c < concurrency; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t.do(rec, time.Now())
			}
		}()
	}
	wg.Wait()
	out := rec.summary("closed loop", time.Since(started))
	out.Concurrency = concurrency
	out.MaxInFlight = int64(concurrency)
	return out
}

func open(t *target, rate float64, duration time.Duration) level {
	rec := &recorder{byStatus: map[string]int{}}
	var wg sync.WaitGroup
	var inFlight, maxInFlight atomic.Int64
	total := int(rate * duration.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	started := time.Now()
	for n := 0; n < total; n++ {
		due := started.Add(time.Duration(n) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func(due time.Time) {
			defer wg.Done()
			now := inFlight.Add(1)
			for {
				seen := maxInFlight.Load()
				if now <= seen || maxInFlight.CompareAndSwap(seen, now) {
					break
				}
			}
			t.do(rec, due)
			inFlight.Add(-1)
		}(due)
	}
	wg.Wait()
	out := rec.summary(fmt.Sprintf("open loop, %g/s offered", rate), time.Since(started))
	out.OfferedRPS = rate
	out.MaxInFlight = maxInFlight.Load()
	return out
}

func main() {
	base := flag.String("base", "", "http://127.0.0.1:<port> (loopback only)")
	usersFile := flag.String("users", "", "JSON list of user ids")
	k := flag.Int("k", 20, "items per request (each 200 must list exactly k)")
	concurrency := flag.Int("concurrency", 0, "closed loop with N clients")
	rates := flag.String("rates", "", "open loop: comma-separated requests/s, stepped in order")
	duration := flag.Duration("duration", 10*time.Second, "time per level")
	maxP99 := flag.Float64("max-p99", 50, "open loop: stop after the first rate whose p99 (ms) exceeds this")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request timeout")
	connections := flag.Int("connections", 512, "most connections kept open")
	flag.Parse()
	if !strings.HasPrefix(*base, "http://127.0.0.1:") && !strings.HasPrefix(*base, "http://localhost:") {
		fmt.Fprintln(os.Stderr, "-base must be a loopback http address")
		os.Exit(2)
	}
	if (*concurrency > 0) == (*rates != "") {
		fmt.Fprintln(os.Stderr, "give exactly one of -concurrency and -rates")
		os.Exit(2)
	}
	raw, err := os.ReadFile(*usersFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var users []string
	if err := json.Unmarshal(raw, &users); err != nil || len(users) == 0 {
		fmt.Fprintln(os.Stderr, "-users must be a non-empty JSON list of strings")
		os.Exit(2)
	}
	t := &target{k: *k}
	for _, u := range users {
		t.paths = append(t.paths, fmt.Sprintf("%s/users/%s/recommendations?k=%d", *base, url.PathEscape(u), *k))
	}
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        *connections,
		MaxIdleConnsPerHost: *connections,
		MaxConnsPerHost:     *connections,
		DisableCompression:  true,
	}
	t.client = &http.Client{Transport: transport, Timeout: *timeout}
	result := map[string]any{"load_generator": "bench/serve/loadgen-go (Go net/http)"}
	if *concurrency > 0 {
		result["levels"] = []level{closed(t, *concurrency, *duration)}
	} else {
		var levels []level
		sustained := 0.0
		for _, field := range strings.Split(*rates, ",") {
			rate, err := strconv.ParseFloat(strings.TrimSpace(field), 64)
			if err != nil || rate <= 0 {
				fmt.Fprintf(os.Stderr, "bad rate %q\n", field)
				os.Exit(2)
			}
			l := open(t, rate, *duration)
			levels = append(levels, l)
			fmt.Fprintf(os.Stderr, "  %g/s offered: %.1f/s p50 %.2f p99 %.2f max %.2f ms errors %d\n",
				rate, l.ThroughputRPS, l.P50, l.P99, l.Max, l.Errors)
			if l.P99 > *maxP99 || l.Errors > 0 {
				break
			}
			sustained = rate

		}
		result["levels"] = levels
		result["sustained_rps"] = sustained
		result["max_p99_ms"] = *maxP99
	}
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}

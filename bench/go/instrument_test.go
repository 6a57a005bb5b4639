// The Go reference of bench/instrument.ts (make bench's "instrument" step): the same
// operations on client_golang's metrics with state, run by
//
//	go test -run '^$' -bench . -benchtime 200ms
//
// in GOPATH mode against Debian's client_golang, as main.go is built. Each benchmark
// does exactly what bench/instrument.ts times on our side and prom-client's.
package main

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// The 100 label pairs of the vector benchmark: 10 values of each label.
var labelA, labelB = tenValues("a"), tenValues("b")

func tenValues(prefix string) []string {
	out := make([]string, 10)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func BenchmarkCounterInc(b *testing.B) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "bench_total", Help: "h"})
	for i := 0; i < b.N; i++ {
		c.Inc()
	}
}

func BenchmarkCounterVecWithLabelValuesInc(b *testing.B) {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bench_total", Help: "h"}, []string{"a", "b"})
	for i := 0; i < b.N; i++ {
		v.WithLabelValues(labelA[i%10], labelB[(i/10)%10]).Inc()
	}
}

func BenchmarkHistogramObserve(b *testing.B) {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "bench_seconds", Help: "h", Buckets: prometheus.DefBuckets})
	for i := 0; i < b.N; i++ {
		h.Observe(float64(i%1000) / 100)
	}
}

func BenchmarkSummaryObserve(b *testing.B) {
	s := prometheus.NewSummary(prometheus.SummaryOpts{
		Name: "bench_seconds", Help: "h",
		Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001},
	})
	for i := 0; i < b.N; i++ {
		s.Observe(float64(i*7919%1000) / 100)
	}
}

func BenchmarkGaugeSet(b *testing.B) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "bench", Help: "h"})
	for i := 0; i < b.N; i++ {
		g.Set(float64(i))
	}
}

// BenchmarkScrape10k gathers and encodes (text format) 10,000 instrumented series: a
// CounterVec and a HistogramVec (default buckets) of 5,000 children each, every child
// touched before each scrape.
func BenchmarkScrape10k(b *testing.B) {
	reg := prometheus.NewRegistry()
	counters := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bench_requests_total", Help: "Requests."}, []string{"code", "path"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bench_latency_seconds", Help: "Latency."}, []string{"path"})
	reg.MustRegister(counters, latency)
	codes := []string{"200", "404", "500", "503"}
	cs := make([]prometheus.Counter, 5000)
	hs := make([]prometheus.Observer, 5000)
	for i := range cs {
		path := fmt.Sprintf("/p/%d", i)
		cs[i] = counters.WithLabelValues(codes[i%4], path)
		hs[i] = latency.WithLabelValues(path)
	}
	var buf bytes.Buffer
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		for i := range cs {
			cs[i].Inc()
			hs[i].Observe(float64((i+n)%1000) / 1000)
		}
		buf.Reset()
		b.StartTimer()
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		enc := expfmt.NewEncoder(&buf, expfmt.FmtText)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// The reference side of `make bench`: the Go tutorial exporter (a fooCollector
// registered with MustRegister, served by promhttp.Handler()), built with Debian's
// client_golang by the Makefile. Its flags mirror what bench/run.ts passes to ours:
//
//	go-reference -listen 127.0.0.1:PORT [-series N] [-histograms N [-native]]
//
// -series adds the scale family the kit's bench/series_server.ts serves:
// bench_series{id="item-<i>",zone="zone-<i mod 16>"} = i/2 for i < N, one
// MustNewConstMetric per series on every scrape, label strings made once at start.
// -histograms adds bench_histogram{id="item-<i>",zone="zone-<i mod 16>"}, a
// HistogramVec of N children each observed three times at start (see observeAll);
// with the default buckets, or with -native native buckets only (factor 1.1), which
// only the protobuf exposition carries.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// fooCollector is the tutorial's: two constant counters.
type fooCollector struct {
	fooMetric *prometheus.Desc
	barMetric *prometheus.Desc
}

func newFooCollector() *fooCollector {
	return &fooCollector{
		fooMetric: prometheus.NewDesc("foo_metric", "Shows whether a foo has occurred in our cluster", nil, nil),
		barMetric: prometheus.NewDesc("bar_metric", "Shows whether a bar has occurred in our cluster", nil, nil),
	}
}

func (c *fooCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.fooMetric
	ch <- c.barMetric
}

func (c *fooCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.fooMetric, prometheus.CounterValue, 1)
	ch <- prometheus.MustNewConstMetric(c.barMetric, prometheus.CounterValue, 1)
}

// scaleCollector is the high-cardinality case: one gauge family with n series.
type scaleCollector struct {
	desc       *prometheus.Desc
	ids, zones []string
}

func newScaleCollector(n int) *scaleCollector {
	c := &scaleCollector{
		desc:  prometheus.NewDesc("bench_series", "Synthetic series for scale benchmarks.", []string{"id", "zone"}, nil),
		ids:   make([]string, n),
		zones: make([]string, n),
	}
	for i := range c.ids {
		c.ids[i] = fmt.Sprintf("item-%d", i)
		c.zones[i] = fmt.Sprintf("zone-%d", i%16)
	}
	return c
}

func (c *scaleCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *scaleCollector) Collect(ch chan<- prometheus.Metric) {
	for i := range c.ids {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(i)/2, c.ids[i], c.zones[i])
	}
}

// newHistograms registers bench_histogram with n children, observed as the kit's
// bench/series_server.ts observes its own: (i+k) mod 20 tenths for k = 0, 1, 2.
func newHistograms(n int, native bool) {
	opts := prometheus.HistogramOpts{Name: "bench_histogram", Help: "Synthetic histograms for scale benchmarks."}
	if native {
		opts.NativeHistogramBucketFactor = 1.1
	}
	vec := prometheus.NewHistogramVec(opts, []string{"id", "zone"})
	prometheus.MustRegister(vec)
	for i := 0; i < n; i++ {
		h := vec.WithLabelValues(fmt.Sprintf("item-%d", i), fmt.Sprintf("zone-%d", i%16))
		for k := 0; k < 3; k++ {
			h.Observe(float64((i+k)%20) / 10)
		}
	}
}

func main() {
	addr := flag.String("listen", ":8080", "address to serve /metrics on")
	n := flag.Int("series", 0, "how many bench_series to add (0: the tutorial exporter alone)")
	h := flag.Int("histograms", 0, "how many bench_histogram children to add")
	native := flag.Bool("native", false, "with -histograms: native buckets only (factor 1.1) instead of the default buckets")
	flag.Parse()

	prometheus.MustRegister(newFooCollector())
	if *n > 0 {
		prometheus.MustRegister(newScaleCollector(*n))
	}
	if *h > 0 {
		newHistograms(*h, *native)
	}
	http.Handle("/metrics", promhttp.Handler())
	log.Fatal(http.ListenAndServe(*addr, nil))
}

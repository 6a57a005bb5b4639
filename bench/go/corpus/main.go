// The Go side of prometheus/go_corpus_test.ts: a corpus of float64 values written
// through Debian's client_golang and prometheus/common (the real registry and the
// real text and OpenMetrics encoders), for the kit to reproduce byte for byte.
//
//	go-corpus -out DIR [-n 12000]
//
// writes DIR/values.txt (each value's IEEE-754 bits in hex, one a line, in the order
// the collector sends them), DIR/text.txt, DIR/openmetrics.txt and DIR/protobuf.bin
// (delimited MetricFamily messages, as promhttp serves them). The families:
//
//	corpus_value{bits="<hex>"} v                 a gauge per value
//	corpus_histogram{bits="<hex of chunk[0]>"}   a histogram per chunk of 10 values:
//	    buckets at the chunk's finite values (sorted, distinct), cumulative counts
//	    1000003*(k+1), sum chunk[0], count 1000003*(buckets+1)
//
// The values: edge cases (±0, subnormals, the boundaries of Go's exponent layout
// and their neighbours, 2^53, 1e21, NaN, ±Inf) and random doubles from a fixed seed:
// raw bit patterns (every exponent), decimals of a few digits, and integers.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

func corpus(n int) []float64 {
	vs := []float64{
		0, math.Copysign(0, -1), 1, -1, 0.5, 42, 1e-5, 9.999999e5, 1e6, 999999, 999999.5, 1e-4,
		math.Exp2(53), math.Exp2(53) - 1, -math.Exp2(53), 1e21, 1e20, 123456789012345680000, 1e15, 1e16,
		math.NaN(), math.Inf(1), math.Inf(-1), math.SmallestNonzeroFloat64, math.MaxFloat64,
		2.2250738585072014e-308, 2.225073858507201e-308, 1e-310, -4.9406564584124654e-324,
		0.1, 0.2, 0.1 + 0.2, 1.0 / 3, 2.0 / 3, 100, 1234567, 1756047.3, 1e100, 1e-100, 1e-7, 5e-324,
	}
	// The layout boundaries and their neighbours on both sides.
	for _, b := range []float64{1e-4, 1e-5, 1e6, 1e21, 1e-6, 1e-7, math.Exp2(53), 1e15, 1e16, 1e17} {
		for _, x := range []float64{b, math.Nextafter(b, 0), math.Nextafter(b, math.Inf(1))} {
			vs = append(vs, x, -x)
		}
	}
	r := rand.New(rand.NewSource(20261203))
	for i := 0; len(vs) < n; i++ {
		switch i % 4 {
		case 0: // any bit pattern: every exponent, subnormals, NaNs
			vs = append(vs, math.Float64frombits(r.Uint64()))
		case 1: // a few decimal digits at any scale
			vs = append(vs, float64(r.Intn(1000000))*math.Pow(10, float64(r.Intn(40)-20)))
		case 2: // integers, up to 2^53 and beyond
			vs = append(vs, float64(r.Int63n(1<<62))/math.Pow(2, float64(r.Intn(63))))
		default: // uniform in [0, 1e7) with a random sign
			vs = append(vs, (r.Float64()*2-1)*1e7)
		}
	}
	return vs
}

type corpusCollector struct {
	values    []float64
	gauge     *prometheus.Desc
	histogram *prometheus.Desc
}

func bits(v float64) string { return fmt.Sprintf("%016x", math.Float64bits(v)) }

func (c *corpusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.gauge
	ch <- c.histogram
}

func (c *corpusCollector) Collect(ch chan<- prometheus.Metric) {
	for _, v := range c.values {
		ch <- prometheus.MustNewConstMetric(c.gauge, prometheus.GaugeValue, v, bits(v))
	}
	for i := 0; i+10 <= len(c.values); i += 10 {
		chunk := c.values[i : i+10]
		buckets := map[float64]uint64{}
		for _, v := range chunk {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				buckets[v] = 0
			}
		}
		// Cumulative counts in bound order; the map iteration order does not matter.
		k := uint64(0)
		for b := range buckets {
			rank := uint64(0)
			for o := range buckets {
				if o < b {
					rank++
				}
			}
			buckets[b] = 1000003 * (rank + 1)
			k++
		}
		ch <- prometheus.MustNewConstHistogram(c.histogram, 1000003*(k+1), chunk[0], buckets, bits(chunk[0]))
	}
}

func write(path string, fn func(w *bufio.Writer) error) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := fn(w); err != nil {
		log.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func main() {
	out := flag.String("out", "", "directory to write values.txt, text.txt and openmetrics.txt into")
	n := flag.Int("n", 12000, "number of values")
	flag.Parse()
	if *out == "" {
		log.Fatal("-out is required")
	}
	// Distinct bit patterns only: two series with one label value would be refused.
	seen := map[uint64]bool{}
	var values []float64
	for _, v := range corpus(*n) {
		// One NaN, Go's math.NaN(): JavaScript engines do not keep NaN payloads,
		// so a payload is not something the kit could reproduce or be given.
		if math.IsNaN(v) {
			v = math.NaN()
		}
		if b := math.Float64bits(v); !seen[b] {
			seen[b] = true
			values = append(values, v)
		}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(&corpusCollector{
		values:    values,
		gauge:     prometheus.NewDesc("corpus_value", "Each value of the corpus.", []string{"bits"}, nil),
		histogram: prometheus.NewDesc("corpus_histogram", "Buckets at corpus values.", []string{"bits"}, nil),
	})
	mfs, err := reg.Gather()
	if err != nil {
		log.Fatal(err)
	}
	write(filepath.Join(*out, "values.txt"), func(w *bufio.Writer) error {
		for _, v := range values {
			fmt.Fprintln(w, bits(v))
		}
		return nil
	})
	write(filepath.Join(*out, "text.txt"), func(w *bufio.Writer) error {
		for _, mf := range mfs {
			if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
				return err
			}
		}
		return nil
	})
	write(filepath.Join(*out, "protobuf.bin"), func(w *bufio.Writer) error {
		enc := expfmt.NewEncoder(w, expfmt.FmtProtoDelim)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				return err
			}
		}
		return nil
	})
	write(filepath.Join(*out, "openmetrics.txt"), func(w *bufio.Writer) error {
		for _, mf := range mfs {
			if _, err := expfmt.MetricFamilyToOpenMetrics(w, mf); err != nil {
				return err
			}
		}
		_, err := expfmt.FinalizeOpenMetrics(w)
		return err
	})
}

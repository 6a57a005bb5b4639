// The Go side of prometheus/native_histogram_test.ts: Debian's client_golang native
// histograms fed the observations the test sends, their native buckets written back.
//
//	go-nativehist < scenarios.json > results.json
//
// Each scenario: options as client_golang's HistogramOpts (bucket factor, zero
// threshold, maximum bucket number, maximum zero threshold) and observations as Go
// float strings ("1e-05", "+Inf", "NaN"). Each result: the dto.Histogram's schema,
// zero threshold, zero count, sample count and sum, spans and deltas.
package main

import (
	"encoding/json"
	"log"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

type scenario struct {
	Factor           float64  `json:"factor"`
	ZeroThreshold    float64  `json:"zeroThreshold"`
	MaxBuckets       uint32   `json:"maxBuckets"`
	MaxZeroThreshold float64  `json:"maxZeroThreshold"`
	Values           []string `json:"values"`
}

type result struct {
	Schema         int32      `json:"schema"`
	ZeroThreshold  float64    `json:"zeroThreshold"`
	ZeroCount      uint64     `json:"zeroCount"`
	Count          uint64     `json:"count"`
	Sum            string     `json:"sum"`
	PositiveSpans  [][2]int64 `json:"positiveSpans"`
	PositiveDeltas []int64    `json:"positiveDeltas"`
	NegativeSpans  [][2]int64 `json:"negativeSpans"`
	NegativeDeltas []int64    `json:"negativeDeltas"`
}

func spans(ss []*dto.BucketSpan) [][2]int64 {
	out := [][2]int64{}
	for _, s := range ss {
		out = append(out, [2]int64{int64(s.GetOffset()), int64(s.GetLength())})
	}
	return out
}

func main() {
	var scenarios []scenario
	if err := json.NewDecoder(os.Stdin).Decode(&scenarios); err != nil {
		log.Fatal(err)
	}
	var results []result
	for _, s := range scenarios {
		h := prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:                            "h",
			Help:                            "h",
			NativeHistogramBucketFactor:     s.Factor,
			NativeHistogramZeroThreshold:    s.ZeroThreshold,
			NativeHistogramMaxBucketNumber:  s.MaxBuckets,
			NativeHistogramMaxZeroThreshold: s.MaxZeroThreshold,
		})
		for _, v := range s.Values {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				log.Fatal(err)
			}
			h.Observe(f)
		}
		var m dto.Metric
		if err := h.Write(&m); err != nil {
			log.Fatal(err)
		}
		hh := m.GetHistogram()
		r := result{
			Schema:         hh.GetSchema(),
			ZeroThreshold:  hh.GetZeroThreshold(),
			ZeroCount:      hh.GetZeroCount(),
			Count:          hh.GetSampleCount(),
			Sum:            strconv.FormatFloat(hh.GetSampleSum(), 'g', -1, 64),
			PositiveSpans:  spans(hh.GetPositiveSpan()),
			PositiveDeltas: append([]int64{}, hh.GetPositiveDelta()...),
			NegativeSpans:  spans(hh.GetNegativeSpan()),
			NegativeDeltas: append([]int64{}, hh.GetNegativeDelta()...),
		}
		results = append(results, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		log.Fatal(err)
	}
}

package main

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prestaged/prestaged/internal/safe"
)

// cpuMeter samples the machine's CPU counters (/proc/stat) while the
// testbed runs, so that a row can say how busy the machine was while its
// hosts worked. Every host shares the same cores here: a row run with the
// CPU saturated measured the machine, not the strategy.
type cpuMeter struct {
	mu      sync.Mutex
	samples []cpuSample
}

type cpuSample struct {
	at          time.Time
	busy, total uint64 // jiffies since boot, all cores
}

// cpuEvery is how often the meter samples.
const cpuEvery = 250 * time.Millisecond

// startCPUMeter samples until ctx ends.
func startCPUMeter(ctx context.Context) *cpuMeter {
	m := &cpuMeter{}
	m.sample()
	safe.Tick(ctx, cpuEvery, func(time.Time) { m.sample() })
	return m
}

func (m *cpuMeter) sample() {
	busy, total, ok := readProcStat()
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.samples = append(m.samples, cpuSample{at: time.Now(), busy: busy, total: total})
}

// busy is the fraction of all cores' time spent busy between from and to,
// from the samples nearest inside them; 0 when they are too few.
func (m *cpuMeter) busy(from, to time.Time) float64 {
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	var a, b *cpuSample
	for i := range m.samples {
		s := &m.samples[i]
		if a == nil && !s.at.Before(from) {
			a = s
		}
		if !s.at.After(to) {
			b = s
		}
	}
	if a == nil || b == nil || b.total <= a.total {
		return 0
	}
	return float64(b.busy-a.busy) / float64(b.total-a.total)
}

// readProcStat sums the first line of /proc/stat: busy is everything but
// idle and iowait.
func readProcStat() (busy, total uint64, ok bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, 0, false
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 6 || fields[0] != "cpu" {
		return 0, 0, false
	}
	for i, s := range fields[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total, true
}

// Command bench compares Netron with gRPC-go, connect-go, NATS
// request/reply and a hand-written length-prefixed echo (the ceiling), in
// one run on one machine: client and server in one process over loopback,
// one shared client connection, closed-loop callers, an echo of N bytes.
//
//	go -C bench run . -sys raw,netron-tcp,grpc,nats -mode unary,stream -payload 32,4096 -conc 1,64,256
//
// Each case runs in a fresh process (the command re-executes itself), with
// a warm-up, for a fixed duration; -repeat N runs it N times and reports
// the median, alternating the systems of a setting from round to round.
// See README.md for what each column means.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// caseSpec is one measured combination.
type caseSpec struct {
	Sys     string `json:"sys"`
	Mode    string `json:"mode"`
	Family  string `json:"family"`
	Payload int    `json:"payload"`
	Conc    int    `json:"conc"`
}

func (c caseSpec) String() string {
	if structured(c.Family) {
		return fmt.Sprintf("%s/%s/%s/c%d", c.Sys, c.Mode, c.Family, c.Conc)
	}
	return fmt.Sprintf("%s/%s/%s/%dB/c%d", c.Sys, c.Mode, c.Family, c.Payload, c.Conc)
}

// result is what one case measured.
type result struct {
	caseSpec
	Ops       int64   `json:"ops"`     // calls (unary) or messages (stream)
	PerSec    float64 `json:"per_sec"` // ops per second
	P50       float64 `json:"p50_us"`  // latency percentiles, µs (unary: a call; stream: a 100-message stream)
	P99       float64 `json:"p99_us"`
	P999      float64 `json:"p999_us"`
	Allocs    float64 `json:"allocs_per_op"`
	Bytes     float64 `json:"bytes_per_op"`
	CPU       float64 `json:"cpu_us_per_op"`
	Conns     int     `json:"conns"`
	Note      string  `json:"note,omitempty"`
	Error     string  `json:"error,omitempty"`
	Unsupport bool    `json:"unsupported,omitempty"`
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func ints(s string) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad number %q", p)
		}
		out = append(out, n)
	}
	return out, nil
}

func main() {
	var (
		sysList  = flag.String("sys", "raw,netron-tcp,netron-tcp-noval,grpc,connect,nats", "systems: "+strings.Join(systemNames(), ","))
		modes    = flag.String("mode", "unary,stream", "unary, stream")
		payloads = flag.String("payload", "32,4096", "echo payload sizes in bytes (string and bytes families)")
		famList  = flag.String("family", "string", "payload families: "+strings.Join(families, ","))
		concs    = flag.String("conc", "1,64,256", "closed-loop callers (streams for -mode stream)")
		duration = flag.Duration("duration", 3*time.Second, "measured time per case")
		warmup   = flag.Duration("warmup", 500*time.Millisecond, "warm-up time per case")
		repeat   = flag.Int("repeat", 1, "runs per case; the median (by throughput) is reported")
		child    = flag.String("case", "", "internal: run one case (JSON) in this process")
		jsonOut  = flag.Bool("json", false, "print results as JSON lines instead of a table")
		cpuProf  = flag.String("cpuprofile", "", "write a CPU profile of each case's measured period to `prefix`-<case>.pprof")
		memProf  = flag.String("memprofile", "", "write an allocation profile of each case's measured period to `prefix`-<case>.pprof")
		traceOut = flag.String("trace", "", "write an execution trace of each case's measured period to `prefix`-<case>.trace (go tool trace)")
	)
	flag.Parse()
	if *child != "" {
		var c caseSpec
		if err := json.Unmarshal([]byte(*child), &c); err != nil {
			fmt.Fprintln(os.Stderr, "bench: bad -case:", err)
			os.Exit(2)
		}
		r := runCase(c, *warmup, *duration, profiles{cpu: *cpuProf, mem: *memProf, trace: *traceOut})
		_ = json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	ps, err := ints(*payloads)
	if err == nil && len(ps) == 0 {
		err = fmt.Errorf("no payload size")
	}
	cs, err2 := ints(*concs)
	if err == nil {
		err = err2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	var cases []caseSpec
	for _, fam := range splitList(*famList) {
		if err := checkFamily(fam); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(2)
		}
		sizes := ps
		if structured(fam) {
			sizes = []int{0} // the message decides its size
		}
		for _, mode := range splitList(*modes) {
			if mode != "unary" && mode != "stream" {
				fmt.Fprintf(os.Stderr, "bench: unknown mode %q\n", mode)
				os.Exit(2)
			}
			for _, p := range sizes {
				for _, c := range cs {
					for _, s := range splitList(*sysList) {
						if _, ok := systems[s]; !ok {
							fmt.Fprintf(os.Stderr, "bench: unknown system %q (have %s)\n", s, strings.Join(systemNames(), ", "))
							os.Exit(2)
						}
						cases = append(cases, caseSpec{Sys: s, Mode: mode, Family: fam, Payload: p, Conc: c})
					}
				}
			}
		}
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "bench: %d cases × %d, %v each (+%v warm-up), %s, %d CPUs\n",
		len(cases), *repeat, *duration, *warmup, runtime.Version(), runtime.NumCPU())
	prof := profiles{cpu: *cpuProf, mem: *memProf, trace: *traceOut}
	var results []result
	for len(cases) > 0 {
		// The systems of one setting (mode, family, payload, callers) are
		// compared with each other, so their runs alternate: each round
		// runs every system once, in the reverse order of the round
		// before. A machine whose speed drifts over minutes then slows
		// every system of a setting alike, instead of the ones measured
		// last.
		k := 1
		for k < len(cases) && sameSetting(cases[k], cases[0]) {
			k++
		}
		group := cases[:k]
		cases = cases[k:]
		runs := make([][]result, len(group))
		for round := range *repeat {
			for j := range group {
				i := j
				if round%2 == 1 {
					i = len(group) - 1 - j
				}
				runs[i] = append(runs[i], runChild(self, group[i], *warmup, *duration, prof))
			}
		}
		for i, c := range group {
			r := median(runs[i])
			fmt.Fprintf(os.Stderr, "  %-40s %12.0f/s\n", c, r.PerSec)
			results = append(results, r)
		}
	}
	if *jsonOut {
		enc := json.NewEncoder(os.Stdout)
		for _, r := range results {
			_ = enc.Encode(r)
		}
		return
	}
	printTable(results)
}

// median returns the run of median throughput, or the first run that
// failed: a failure is never hidden behind the other runs' figures.
func median(rs []result) result {
	for _, r := range rs {
		if r.Error != "" {
			return r
		}
	}
	sort.Slice(rs, func(a, b int) bool { return rs[a].PerSec < rs[b].PerSec })
	return rs[len(rs)/2]
}

// sameSetting reports whether a and b differ in their system only.
func sameSetting(a, b caseSpec) bool {
	a.Sys, b.Sys = "", ""
	return a == b
}

// runChild runs one case in a fresh process.
func runChild(self string, c caseSpec, warmup, duration time.Duration, prof profiles) result {
	spec, _ := json.Marshal(c)
	cmd := exec.Command(self, "-case", string(spec), "-warmup", warmup.String(), "-duration", duration.String(),
		"-cpuprofile", prof.cpu, "-memprofile", prof.mem, "-trace", prof.trace)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return result{caseSpec: c, Error: fmt.Sprintf("%v: %s", err, lastLine(errb.String()))}
	}
	var r result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return result{caseSpec: c, Error: "bad child output: " + lastLine(out.String())}
	}
	return r
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func printTable(results []result) {
	grpc := map[string]float64{}
	grpcP99 := map[string]float64{}
	key := func(r result) string { return fmt.Sprintf("%s/%s/%d/%d", r.Mode, r.Family, r.Payload, r.Conc) }
	for _, r := range results {
		if r.Sys == "grpc" && r.Error == "" {
			grpc[key(r)] = r.PerSec
			grpcP99[key(r)] = r.P99
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\tmode\tfamily\tpayload\tconc\tconns\tops/s\tp50 µs\tp99 µs\tp999 µs\tallocs/op\tB/op\tCPU µs/op\tvs gRPC\tp99 vs gRPC\t")
	rows := slices.Clone(results)
	for _, r := range rows {
		if r.Error != "" || r.Unsupport {
			msg := r.Error
			if r.Unsupport {
				msg = "not supported: " + r.Note
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t\t%s\t\t\t\t\t\t\t\t\t\n", r.Sys, r.Mode, r.Family, payloadWord(r.caseSpec), r.Conc, msg)
			continue
		}
		ratio, p99ratio := "", ""
		if g := grpc[key(r)]; g > 0 && strings.HasPrefix(r.Sys, "netron") {
			ratio = fmt.Sprintf("%.2f×", r.PerSec/g)
			if gp := grpcP99[key(r)]; gp > 0 {
				p99ratio = fmt.Sprintf("%.2f×", r.P99/gp)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%.1f\t%.0f\t%.2f\t%s\t%s\t\n",
			r.Sys, r.Mode, r.Family, payloadWord(r.caseSpec), r.Conc, r.Conns, r.PerSec, micros(r.P50), micros(r.P99), micros(r.P999), r.Allocs, r.Bytes, r.CPU, ratio, p99ratio)
	}
	tw.Flush()
}

// payloadWord is the payload column: a size, or the message's.
func payloadWord(c caseSpec) string {
	switch c.Family {
	case familyMessage:
		return "1 user"
	case familyList:
		return fmt.Sprintf("%d users", pageSize)
	}
	return strconv.Itoa(c.Payload)
}

// micros formats a latency in microseconds: one decimal below 100 µs.
func micros(us float64) string {
	if us < 100 {
		return fmt.Sprintf("%.1f", us)
	}
	return fmt.Sprintf("%.0f", us)
}

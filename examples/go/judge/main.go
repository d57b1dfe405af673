// Command judge runs a host program against test cases in pooled sandbox
// containers, the seed scenario: for each case it opens the input and output files
// inside a container, writes the input, runs a memfd copy of the program with those
// files as its stdin and stdout, reads the output back and prints a verdict.
//
//	judge [-time 1s] [-memory 256] [PROGRAM ARGS...]   (default: /usr/bin/sort -n)
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	scpool "github.com/scpool/scpool/bindings/go"
)

type testCase struct {
	input, want string
}

// Cases for the default solution, sort -n.
var cases = []testCase{
	{"3\n1\n2\n", "1\n2\n3\n"},
	{"10\n-5\n7\n0\n", "-5\n0\n7\n10\n"},
	{"", ""},
	{"42\n", "42\n"},
}

type verdict struct {
	name   string
	result *scpool.Result
	err    error
}

func main() {
	timeLimit := flag.Duration("time", time.Second, "CPU time limit per test")
	memoryMiB := flag.Uint64("memory", 256, "memory limit per test, MiB")
	flag.Parse()
	argv := flag.Args()
	if len(argv) == 0 {
		argv = []string{"/usr/bin/sort", "-n"}
	}

	// The program is copied once from the host; every container runs the copy.
	program, err := scpool.MemfdCopy(argv[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "judge:", err)
		os.Exit(2)
	}
	defer program.Close()

	pool, err := scpool.NewPool(scpool.Size(2))
	if err != nil {
		fmt.Fprintln(os.Stderr, "judge:", err)
		os.Exit(2)
	}
	defer pool.Close()

	limits := scpool.Limits{
		CPUTime: *timeLimit, WallTime: 3 * *timeLimit,
		Memory: *memoryMiB << 20, Output: 16 << 20, Processes: 16,
	}
	verdicts := make([]verdict, len(cases))
	var wg sync.WaitGroup
	for i, tc := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			verdicts[i] = judge(pool, program, argv, tc, limits)
		}()
	}
	wg.Wait()

	failed := 0
	for i, v := range verdicts {
		line := fmt.Sprintf("test %d: %s", i+1, v.name)
		if v.result != nil {
			line += fmt.Sprintf("  (status %s, cpu %v, wall %v, memory %d KiB)", v.result.Status,
				v.result.CPUTime.Round(time.Microsecond), v.result.WallTime.Round(time.Microsecond),
				v.result.Memory>>10)
		}
		if v.err != nil {
			line += "  " + v.err.Error()
		}
		fmt.Println(line)
		if v.name != "AC" {
			failed++
		}
	}
	stats, _ := pool.Stats()
	fmt.Printf("%d/%d accepted; pool: %d created, %d acquires, %d reused\n",
		len(cases)-failed, len(cases), stats.Created, stats.Acquires, stats.Reused)
	if failed > 0 {
		pool.Close()
		program.Close()
		os.Exit(1)
	}
}

func judge(pool *scpool.Pool, program *os.File, argv []string, tc testCase, limits scpool.Limits) verdict {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pool.Acquire(ctx)
	if err != nil {
		return verdict{name: "SE", err: err}
	}
	defer c.Release() // reset off our path, then idle again

	files, err := c.Open([]scpool.OpenCmd{
		{Path: "/w/input.txt", Flags: os.O_RDWR | os.O_CREATE | os.O_TRUNC, Mode: 0o644},
		{Path: "/w/output.txt", Flags: os.O_RDWR | os.O_CREATE | os.O_TRUNC, Mode: 0o644},
	})
	if err != nil {
		return verdict{name: "SE", err: err}
	}
	in, out := files[0], files[1]
	defer in.Close()
	defer out.Close()
	if _, err := in.WriteString(tc.input); err != nil {
		return verdict{name: "SE", err: err}
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return verdict{name: "SE", err: err}
	}

	r, err := c.Execve(scpool.ExecveParam{
		Args:     argv,
		Env:      []string{"PATH=/usr/bin:/bin", "LC_ALL=C"},
		Files:    []*os.File{in, out},
		ExecFile: program,
		Limits:   limits,
	})
	if err != nil {
		return verdict{name: "SE", err: err}
	}
	switch r.Status {
	case scpool.StatusOK:
	case scpool.StatusTimeLimitExceeded, scpool.StatusWallTimeLimitExceeded:
		return verdict{name: "TLE", result: r}
	case scpool.StatusMemoryLimitExceeded:
		return verdict{name: "MLE", result: r}
	case scpool.StatusOutputLimitExceeded:
		return verdict{name: "OLE", result: r}
	default:
		return verdict{name: "RE", result: r}
	}
	got, err := io.ReadAll(io.NewSectionReader(out, 0, 64<<20))
	if err != nil {
		return verdict{name: "SE", result: r, err: err}
	}
	if !bytes.Equal(got, []byte(tc.want)) {
		return verdict{name: "WA", result: r, err: fmt.Errorf("got %q, want %q", got, tc.want)}
	}
	return verdict{name: "AC", result: r}
}

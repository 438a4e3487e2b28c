package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/attest"
	"github.com/hallmark-dev/hallmark/attest/attesttest"
	"github.com/hallmark-dev/hallmark/keys"
	"github.com/hallmark-dev/hallmark/store/sqlite"
)

const writerEnv = "HALLMARK_TEST_CRASH_WRITER"

func TestMain(m *testing.M) {
	if path := os.Getenv(writerEnv); path != "" {
		crashWriter(path)
		return
	}
	os.Exit(m.Run())
}

// crashWriter stores evidence as fast as it can and prints the ID of each
// record only after Put returned: printed means acknowledged.
func crashWriter(path string) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	k, err := keys.Generate(keys.Ed25519)
	if err != nil {
		os.Exit(2)
	}
	ks := attest.NewKeySet(k.Public())
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		sub := attesttest.Subject(fmt.Sprint("a", i), fmt.Appendf(nil, "%d-%d-%d", os.Getpid(), i, rand.Int64()))
		st, err := attest.NewStatement([]attest.Subject{sub}, "https://example.com/crash/v1", []byte(`{"i":1}`))
		if err != nil {
			os.Exit(2)
		}
		b, err := attest.Sign(ctx, k, st)
		if err != nil {
			os.Exit(2)
		}
		v, err := attest.Verify(ctx, b, ks)
		if err != nil {
			os.Exit(2)
		}
		if _, err := s.Put(ctx, v); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(out, v.ID)
		out.Flush()
	}
}

// TestAcknowledgedWritesSurviveSIGKILL kills a writer process at random
// moments, many times, and checks that every record it acknowledged is
// still there and that the database passes SQLite's integrity check.
func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs child processes; skipped with -short")
	}
	path := filepath.Join(t.TempDir(), "evidence.db")
	const rounds = 25
	acked := map[string]bool{}
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), writerEnv+"="+path)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Let it write a random number of records (at least one), then kill
		// it at a random moment in the middle of further writes.
		want := 1 + rand.IntN(20)
		n := 0
		for id := range lines {
			acked[id] = true
			n++
			if n == want {
				break
			}
		}
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		for id := range lines { // what it printed before dying was acknowledged
			acked[id] = true
		}
		err = cmd.Wait()
		if n < want {
			t.Fatalf("round %d: writer died after %d records: %v", round, n, err)
		}
	}
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	missing := 0
	for id := range acked {
		if _, err := s.Get(t.Context(), id); err != nil {
			missing++
			t.Errorf("acknowledged record lost: %v", err)
		}
	}
	t.Logf("%d rounds, %d acknowledged records, %d missing, integrity ok", rounds, len(acked), missing)
}

package ttlcache_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hallmark-dev/hallmark/internal/ttlcache"
)

// The clock is time.Now inside a synctest bubble: time moves only when
// every goroutine of the bubble sleeps.
func TestExpires(t *testing.T) {
	synctest.Test(t, testExpires)
}

func testExpires(t *testing.T) {
	c := ttlcache.New[string, int](time.Minute, 10, nil)
	c.Add("a", 1)
	time.Sleep(59 * time.Second)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("Get before expiry = %d, %v; want 1, true", v, ok)
	}
	time.Sleep(time.Second)
	if _, ok := c.Get("a"); ok {
		t.Fatal("Get at expiry: still cached")
	}
	if c.Len() != 0 {
		t.Errorf("Len after expiry = %d, want the expired entry dropped", c.Len())
	}
	// Adding again renews the time.
	c.Add("a", 2)
	time.Sleep(30 * time.Second)
	c.Add("a", 3)
	time.Sleep(45 * time.Second)
	if v, ok := c.Get("a"); !ok || v != 3 {
		t.Errorf("Get after renewal = %d, %v; want 3, true", v, ok)
	}
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	c := ttlcache.New[string, int](time.Hour, 2, nil)
	c.Add("a", 1)
	c.Add("b", 2)
	c.Get("a") // b is now the least recently used
	c.Add("c", 3)
	if _, ok := c.Get("b"); ok {
		t.Error("b survived; want it evicted as least recently used")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s evicted; want it kept", k)
		}
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2", c.Len())
	}
}

func TestDisabled(t *testing.T) {
	for _, c := range []*ttlcache.Cache[string, int]{
		ttlcache.New[string, int](0, 10, nil),
		ttlcache.New[string, int](time.Hour, 0, nil),
	} {
		c.Add("a", 1)
		if _, ok := c.Get("a"); ok || c.Len() != 0 {
			t.Errorf("disabled cache remembered an entry")
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	c := ttlcache.New[int, int](time.Hour, 16, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 1000 {
				c.Add(i*1000+j, j)
				c.Get(i*1000 + j - 1)
			}
		})
	}
	wg.Wait()
	if c.Len() > 16 {
		t.Errorf("Len = %d, want at most 16", c.Len())
	}
}

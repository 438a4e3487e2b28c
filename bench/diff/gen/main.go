// Command gen writes the artifact pairs compared by bench/diff/run.sh: a
// large tar pair (at least -mib MiB) with a few differing members, a small
// tar.gz pair and a zip pair. Content is pseudo-random from a fixed seed, so
// every run compares the same bytes.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

type member struct {
	name  string
	body  []byte
	mode  int64
	mtime time.Time
}

var epoch = time.Unix(1700000000, 0)

func main() {
	out := flag.String("out", ".", "output directory")
	mib := flag.Int("mib", 100, "size of the large tar in MiB")
	flag.Parse()
	rng := rand.New(rand.NewChaCha8([32]byte{'h', 'a', 'l', 'l', 'm', 'a', 'r', 'k'}))
	const memberSize = 512 << 10
	n := *mib << 20 / memberSize
	var a []member
	for i := range n {
		body := make([]byte, memberSize)
		for j := range body {
			body[j] = byte(rng.Uint32())
		}
		a = append(a, member{name: fmt.Sprintf("data/blob-%04d.bin", i), body: body, mode: 0o644, mtime: epoch})
	}
	a = append(a,
		member{name: "meta/build-info.txt", body: []byte("name: bench\nbuilt: 2026-11-25T10:00:00Z\nhost: builder-1\n"), mode: 0o644, mtime: epoch},
		member{name: "meta/manifest.json", body: []byte(`{"name":"bench","files":["a","b","c"],"id":"4f1c2a9b8e7d6c5b4a39281716f5e4d3"}`), mode: 0o644, mtime: epoch},
		member{name: "bin/run.sh", body: []byte("#!/bin/sh\nexec ./tool \"$@\"\n"), mode: 0o755, mtime: epoch},
		member{name: "etc/tool.conf", body: []byte("level = 3\n"), mode: 0o644, mtime: epoch},
	)
	b := make([]member, len(a))
	copy(b, a)
	// The differences: two content changes, one binary patch, one mtime, one mode.
	last := len(b) - 1
	b[last-3].body = []byte("name: bench\nbuilt: 2026-11-25T10:07:42Z\nhost: builder-1\n")
	b[last-2].body = []byte(`{"name":"bench","files":["a","b","c"],"id":"9a0b1c2d3e4f5061728394a5b6c7d8e9"}`)
	b[last-1].mtime = epoch.Add(time.Hour)
	b[last].mode = 0o664
	patched := bytes.Clone(b[n/2].body)
	copy(patched[1000:], []byte("/build/tmp.XyZ12345/src/tool.c"))
	b[n/2].body = patched

	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(*out, name), data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	write("big-a.tar", tarOf(a))
	write("big-b.tar", tarOf(b))
	small := func(ms []member) []member { return append([]member{}, ms[len(ms)-4:]...) }
	write("small-a.tar.gz", gz(tarOf(small(a))))
	write("small-b.tar.gz", gz(tarOf(small(b))))
	write("a.zip", zipOf(small(a)))
	write("b.zip", zipOf(small(b)))
}

func tarOf(ms []member) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		h := &tar.Header{Name: m.name, Mode: m.mode, Size: int64(len(m.body)), ModTime: m.mtime, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			log.Fatal(err)
		}
		if _, err := tw.Write(m.body); err != nil {
			log.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		log.Fatal(err)
	}
	return buf.Bytes()
}

func gz(data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.ModTime = epoch
	if _, err := zw.Write(data); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	return buf.Bytes()
}

func zipOf(ms []member) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		h := &zip.FileHeader{Name: m.name, Method: zip.Deflate, Modified: m.mtime.UTC()}
		h.SetMode(os.FileMode(m.mode))
		w, err := zw.CreateHeader(h)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := w.Write(m.body); err != nil {
			log.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	return buf.Bytes()
}

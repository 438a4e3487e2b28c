package diff_test

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hallmark-dev/hallmark/repro/diff"
)

// minimalELF writes a small ELF64 little-endian relocatable file with the
// given named sections (plus the null section and .shstrtab).
func minimalELF(t testing.TB, sections map[string][]byte, order ...string) []byte {
	t.Helper()
	var shstr bytes.Buffer
	shstr.WriteByte(0)
	names := map[string]uint32{}
	for _, n := range append(order, ".shstrtab") {
		names[n] = uint32(shstr.Len())
		shstr.WriteString(n + "\x00")
	}
	var body bytes.Buffer
	body.Write(make([]byte, 64)) // the ELF header, filled in below
	type sh struct {
		name      uint32
		typ       elf.SectionType
		off, size uint64
		flags     elf.SectionFlag
	}
	hdrs := []sh{{}}
	for _, n := range order {
		off := uint64(body.Len())
		body.Write(sections[n])
		hdrs = append(hdrs, sh{name: names[n], typ: elf.SHT_PROGBITS, off: off, size: uint64(len(sections[n])), flags: elf.SHF_ALLOC})
	}
	off := uint64(body.Len())
	body.Write(shstr.Bytes())
	hdrs = append(hdrs, sh{name: names[".shstrtab"], typ: elf.SHT_STRTAB, off: off, size: uint64(shstr.Len())})
	for body.Len()%8 != 0 {
		body.WriteByte(0)
	}
	shoff := uint64(body.Len())
	le := binary.LittleEndian
	for _, h := range hdrs {
		var b [64]byte
		le.PutUint32(b[0:], h.name)
		le.PutUint32(b[4:], uint32(h.typ))
		le.PutUint64(b[8:], uint64(h.flags))
		le.PutUint64(b[24:], h.off)
		le.PutUint64(b[32:], h.size)
		le.PutUint64(b[48:], 1)
		body.Write(b[:])
	}
	out := body.Bytes()
	copy(out, []byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)})
	le.PutUint16(out[16:], uint16(elf.ET_REL))
	le.PutUint16(out[18:], uint16(elf.EM_X86_64))
	le.PutUint32(out[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(out[40:], shoff)
	le.PutUint16(out[52:], 64) // header size
	le.PutUint16(out[58:], 64) // section header size
	le.PutUint16(out[60:], uint16(len(hdrs)))
	le.PutUint16(out[62:], uint16(len(hdrs)-1))
	return out
}

func TestELFSections(t *testing.T) {
	a := minimalELF(t, map[string][]byte{".text": []byte("\x90\x90\x90\xc3"), ".rodata": []byte("built in /home/alice/src/proj\x00")}, ".text", ".rodata")
	b := minimalELF(t, map[string][]byte{".text": []byte("\x90\x90\x90\xc3"), ".rodata": []byte("built in /home/bob/work/proj\x00\x00")}, ".text", ".rodata")
	rep, err := diff.Bytes(t.Context(), "a.o", a, "b.o", b)
	if err != nil {
		t.Fatal(err)
	}
	want := []kindPath{{diff.KindPaths, "", "embedded absolute paths"}, {diff.KindSection, "", ".rodata"}}
	if d := cmp.Diff(want, summary(rep)); d != "" {
		t.Errorf("differences (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]diff.Cause{diff.CauseBuildPath}, rep.Causes()); d != "" {
		t.Errorf("causes (-want +got):\n%s", d)
	}
}

func FuzzELF(f *testing.F) {
	valid := minimalELF(f, map[string][]byte{".text": []byte("\x90\xc3"), ".note.go.buildid": []byte("\x04\x00\x00\x00\x05\x00\x00\x00\x04\x00\x00\x00Go\x00\x00abcde")}, ".text", ".note.go.buildid")
	fuzzAgainst(f, valid, minimalELF(f, map[string][]byte{".data": []byte("/usr/lib/x\x00")}, ".data"))
}

package store

import (
	"path/filepath"
	"testing"

	"github.com/sockerless/sockerless/internal/errdefs"
)

type rec struct {
	Name string
	N    int
}

func TestRecordsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(Containers, "a", rec{"alpha", 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(Containers, "b", rec{"beta", 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(Containers, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil {
		t.Fatal("a second Open of a store in use succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got rec
	if err := s.Get(Containers, "a", &got); err != nil || got != (rec{"alpha", 1}) {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
	if err := s.Get(Containers, "b", &got); !errdefs.IsNotFound(err) {
		t.Fatalf("deleted record: %v", err)
	}
	var keys []string
	if err := s.Each(Containers, func(k string, _ []byte) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "a" {
		t.Fatalf("keys %v", keys)
	}
}

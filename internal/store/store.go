package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sockerless/sockerless/internal/errdefs"
)

// Bucket names.
const (
	Containers = "containers"
	Volumes    = "volumes"
	Networks   = "networks"
	meta       = "meta"
)

const schemaVersion = "1"

// Store is the daemon's record file.
type Store struct{ db *bolt.DB }

// Open opens (or creates) the store file. Another daemon holding the file
// makes Open fail after a second, with a message that says so.
func Open(path string) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("store %s is in use by another daemon: %w", path, err)
		}
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{meta, Containers, Volumes, Networks} {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		m := tx.Bucket([]byte(meta))
		switch v := string(m.Get([]byte("schema"))); v {
		case "":
			return m.Put([]byte("schema"), []byte(schemaVersion))
		case schemaVersion:
			return nil
		default:
			return fmt.Errorf("store schema version %s is newer than this daemon's (%s)", v, schemaVersion)
		}
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("store %s: %w", path, err), db.Close())
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Put writes a record.
func (s *Store) Put(bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode %s/%s: %w", bucket, key, err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucket)).Put([]byte(key), b)
	})
}

// Get reads a record into v; a missing key is errdefs.ErrNotFound.
func (s *Store) Get(bucket, key string, v any) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket)).Get([]byte(key))
		if b == nil {
			return errdefs.NotFound("%s/%s: not in the store", bucket, key)
		}
		return json.Unmarshal(b, v)
	})
}

// Delete removes a record; a missing key is not an error.
func (s *Store) Delete(bucket, key string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucket)).Delete([]byte(key))
	})
}

// Each calls fn with every record of a bucket, in key order.
func (s *Store) Each(bucket string, fn func(key string, value []byte) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucket)).ForEach(func(k, v []byte) error { return fn(string(k), v) })
	})
}

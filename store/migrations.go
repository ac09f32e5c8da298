package store

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
)

// A Migration is one numbered schema change of a store's database.
type Migration struct {
	Version int
	Name    string // the file name, for error messages
	SQL     string
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// LoadMigrations reads migrations/*.sql from fsys. The files must be named
// NNNN_description.sql and numbered 1, 2, 3, … without gaps or repeats, so
// that every database applies the same changes in the same order.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range entries { // ReadDir sorts by name, and names start with the number
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			return nil, fmt.Errorf("migrations/%s: want a file named NNNN_description.sql (four digits, then lower-case letters, digits or _)", e.Name())
		}
		v, _ := strconv.Atoi(m[1]) // four digits always parse
		if want := len(ms) + 1; v != want {
			return nil, fmt.Errorf("migrations/%s: numbered %d, want %d: migrations are numbered from 1 without gaps or repeats", e.Name(), v, want)
		}
		b, err := fs.ReadFile(fsys, path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("migrations: no NNNN_description.sql files")
	}
	return ms, nil
}

package shell

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/itchyny/gojq"
)

// runJQ is jq on gojq, in process. Input files are read through the
// container's FS; the program gets no access to the environment beyond $ENV
// of the command, and no file or network functions exist in gojq.
//
// Supported: -r -j -c -n -s -e -S -R -a(ignored) -M -C(ignored) --tab
// --indent N --arg --argjson --slurpfile --rawfile; files or stdin.
func runJQ(ctx context.Context, s *Shell, req *request) int {
	o, err := parseJQArgs(req.args[1:])
	if err != nil {
		fmt.Fprintf(req.stderr, "jq: error: %v\n", err)
		return 2
	}
	for _, f := range o.slurpFiles {
		b, err := s.cfg.FS.ReadFile(absIn(req.dir, f.file))
		if err != nil {
			fmt.Fprintf(req.stderr, "jq: error: Could not open %s: %v\n", f.file, errors.Unwrap(err))
			return 2
		}
		if f.raw {
			o.values = append(o.values, string(b))
		} else {
			vs, err := decodeAll(bytes.NewReader(b))
			if err != nil {
				fmt.Fprintf(req.stderr, "jq: error: %s: %v\n", f.file, err)
				return 2
			}
			o.values = append(o.values, vs)
		}
		o.names = append(o.names, "$"+f.name)
	}
	q, err := gojq.Parse(o.filter)
	if err != nil {
		fmt.Fprintf(req.stderr, "jq: error: %v\njq: 1 compile error\n", err)
		return 3
	}
	env := map[string]any{}
	for _, kv := range req.env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	code, err := gojq.Compile(q, gojq.WithVariables(append(o.names, "$ENV")),
		gojq.WithEnvironLoader(func() []string { return req.env }))
	if err != nil {
		fmt.Fprintf(req.stderr, "jq: error: %v\njq: 1 compile error\n", err)
		return 3
	}
	vars := append(o.values, any(env))

	var inputs []any
	if o.nullInput {
		inputs = []any{nil}
	} else {
		var src io.Reader = orEmpty(fileReader(req))
		if len(o.files) > 0 {
			var bufs []io.Reader
			for _, f := range o.files {
				b, err := s.cfg.FS.ReadFile(absIn(req.dir, f))
				if err != nil {
					fmt.Fprintf(req.stderr, "jq: error: Could not open %s: %v\n", f, errors.Unwrap(err))
					return 2
				}
				bufs = append(bufs, bytes.NewReader(b))
			}
			src = io.MultiReader(bufs...)
		}
		if o.rawInput {
			inputs, err = rawLines(src, o.slurp)
		} else {
			inputs, err = decodeAll(src)
			if err == nil && o.slurp {
				inputs = []any{inputs}
			}
		}
		if err != nil {
			fmt.Fprintf(req.stderr, "jq: error (at <stdin>:0): %v\n", err)
			return 5 // gojq's status for input it cannot parse
		}
	}

	out := bufio.NewWriter(req.stdout)
	status, last := 0, any(nil)
	seen := false
	for _, in := range inputs {
		iter := code.RunWithContext(ctx, in, vars...)
		for {
			v, ok := iter.Next()
			if !ok {
				break
			}
			if err, ok := v.(error); ok {
				var halt *gojq.HaltError
				if errors.As(err, &halt) && halt.Value() == nil {
					return flushStatus(out, req, halt.ExitCode())
				}
				fmt.Fprintf(req.stderr, "jq: error (at <stdin>:0): %v\n", err)
				status = 5
				break
			}
			seen, last = true, v
			if err := writeJQ(out, v, o); err != nil {
				fmt.Fprintf(req.stderr, "jq: error: %v\n", err)
				return 5
			}
		}
	}
	if st := flushStatus(out, req, status); st != 0 {
		return st
	}
	if o.exitStatus && (!seen || last == nil || last == false) {
		if !seen {
			return 4
		}
		return 1
	}
	return 0
}

func flushStatus(out *bufio.Writer, req *request, status int) int {
	if err := out.Flush(); err != nil {
		fmt.Fprintf(req.stderr, "jq: error: %v\n", err)
		return 2
	}
	return status
}

type jqOptions struct {
	filter                               string
	files                                []string
	raw, join, compact, nullInput, slurp bool
	exitStatus, sortKeys, rawInput, tab  bool
	indent                               int
	names                                []string
	values                               []any
	slurpFiles                           []struct {
		name, file string
		raw        bool
	}
}

func parseJQArgs(args []string) (*jqOptions, error) {
	o := &jqOptions{indent: 2}
	haveFilter := false
	need := func(i, n int) error {
		if i+n >= len(args) {
			return fmt.Errorf("%s takes %d parameters", args[i], n)
		}
		return nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			if !haveFilter {
				o.filter, haveFilter = a, true
			} else {
				o.files = append(o.files, a)
			}
			continue
		}
		switch a {
		case "--arg", "--argjson", "--slurpfile", "--rawfile":
			if err := need(i, 2); err != nil {
				return nil, err
			}
			name, val := args[i+1], args[i+2]
			i += 2
			switch a {
			case "--arg":
				o.names, o.values = append(o.names, "$"+name), append(o.values, val)
			case "--argjson":
				var v any
				if err := json.Unmarshal([]byte(val), &v); err != nil {
					return nil, fmt.Errorf("invalid JSON text passed to --argjson")
				}
				o.names, o.values = append(o.names, "$"+name), append(o.values, normalize(v))
			default:
				o.slurpFiles = append(o.slurpFiles, struct {
					name, file string
					raw        bool
				}{name, val, a == "--rawfile"})
			}
			continue
		case "--indent":
			if err := need(i, 1); err != nil {
				return nil, err
			}
			n, err := strconv.Atoi(args[i+1])
			if err != nil || n < 0 || n > 7 {
				return nil, fmt.Errorf("cannot indent more than 7 characters")
			}
			o.indent = n
			i++
			continue
		case "--tab":
			o.tab = true
			continue
		case "--raw-output":
			o.raw = true
			continue
		case "--join-output":
			o.raw, o.join = true, true
			continue
		case "--compact-output":
			o.compact = true
			continue
		case "--null-input":
			o.nullInput = true
			continue
		case "--slurp":
			o.slurp = true
			continue
		case "--exit-status":
			o.exitStatus = true
			continue
		case "--sort-keys":
			o.sortKeys = true
			continue
		case "--raw-input":
			o.rawInput = true
			continue
		case "--monochrome-output", "--color-output", "--ascii-output":
			continue
		}
		if strings.HasPrefix(a, "--") {
			return nil, fmt.Errorf("unknown option: %s", a)
		}
		for _, c := range a[1:] {
			switch c {
			case 'r':
				o.raw = true
			case 'j':
				o.raw, o.join = true, true
			case 'c':
				o.compact = true
			case 'n':
				o.nullInput = true
			case 's':
				o.slurp = true
			case 'e':
				o.exitStatus = true
			case 'S':
				o.sortKeys = true
			case 'R':
				o.rawInput = true
			case 'M', 'C', 'a':
			default:
				return nil, fmt.Errorf("unknown option: -%c", c)
			}
		}
	}
	if !haveFilter {
		return nil, errors.New("no filter given")
	}
	return o, nil
}

// decodeAll reads a stream of JSON values with numbers as gojq wants them.
func decodeAll(r io.Reader) ([]any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var out []any
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, normalize(v))
	}
}

// normalize turns json.Number into the int/float64 values gojq computes on.
func normalize(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.Atoi(string(v)); err == nil {
			return i
		}
		f, _ := v.Float64() // a JSON number always parses as a float
		return f
	case []any:
		for i := range v {
			v[i] = normalize(v[i])
		}
		return v
	case map[string]any:
		for k := range v {
			v[k] = normalize(v[k])
		}
		return v
	}
	return v
}

func rawLines(r io.Reader, slurp bool) ([]any, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if slurp {
		return []any{string(b)}, nil
	}
	var out []any
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if l != "" {
			out = append(out, strings.TrimSuffix(l, "\n"))
		}
	}
	return out, nil
}

// writeJQ prints one result as jq does: pretty with two spaces unless -c,
// strings raw with -r, no newline with -j. Object keys come out sorted
// (gojq keeps no key order).
func writeJQ(w *bufio.Writer, v any, o *jqOptions) error {
	if s, ok := v.(string); ok && o.raw {
		if _, err := w.WriteString(s); err != nil {
			return err
		}
	} else {
		b, err := gojq.Marshal(v)
		if err != nil {
			return err
		}
		if !o.compact {
			var buf bytes.Buffer
			indent := strings.Repeat(" ", o.indent)
			if o.tab {
				indent = "\t"
			}
			if err := json.Indent(&buf, b, "", indent); err != nil {
				return err
			}
			b = buf.Bytes()
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	if o.join {
		return nil
	}
	return w.WriteByte('\n')
}

func absIn(dir, p string) string {
	if path.IsAbs(p) {
		return p
	}
	return path.Join(dir, p)
}

package differential

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// acceptedFile lists the accepted differences, each with its reason.
const acceptedFile = "../../docs/fidelity-differences.md"

// minFidelity is the share of interactions that must match, per backend:
// a ratchet at the figure reached (233/242 on both), so that it can only go
// up. What stands between is listed in acceptedFile: for the memory
// backend the sandbox's PID 1 signals, the BuildKit header and host facts
// in /info and /version; for the docker backend, which passes everything
// to the engine, Sockerless's own /info and /version and the header.
var minFidelity = map[string]float64{"memory": 0.96, "docker": 0.96}

// accepted is one row of the accepted-differences file: the aspects of one
// interaction that may differ, and why.
type accepted struct {
	aspects []string
	reason  string
	used    bool
	// sometimes: the reference engine itself answers either way from run
	// to run (a race inside it), so the interaction may also match.
	sometimes bool
}

// fieldRule is a JSON field left out of every body comparison, with why:
// something the memory backend has no counterpart for (a containerd
// descriptor, a masked /proc path), listed once instead of per interaction.
type fieldRule struct {
	path   string // ".HostConfig.MaskedPaths"; also matches under [] and [N]
	reason string
	used   bool
}

// drops reports whether a rendered "path: shape" line falls under the rule:
// the rule's path is a prefix of the line's (whole segments; "*" stands for
// any one segment, such as a network's name), after a leading [] or [N].
func (r *fieldRule) drops(line string) bool {
	p, _, _ := strings.Cut(line, ": ")
	if i := strings.Index(p, "]"); strings.HasPrefix(p, "[") && i > 0 {
		p = p[i+1:]
	}
	segs := strings.Split(strings.ReplaceAll(p, "[]", ""), ".")
	want := strings.Split(r.path, ".")
	if len(segs) < len(want) {
		return false
	}
	for i, w := range want {
		if w != "*" && w != segs[i] {
			return false
		}
	}
	return true
}

// readAccepted parses the table rows "| `case/step` | aspects | reason |"
// and the field rows "| `.Path` | reason |".
//
// The file has a section per backend ("## memory backend", "## docker
// backend"); only the rows of backend's section are read.
func readAccepted(path, backend string) (map[string]*accepted, []*fieldRule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = f.Close() }() // read-only
	out := map[string]*accepted{}
	var fields []*fieldRule
	sc := bufio.NewScanner(f)
	section, found := "## "+backend+" backend", false
	in := false
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = strings.TrimSpace(line) == section
			found = found || in
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cols := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cols) == 2 && strings.HasPrefix(cols[0], "`.") {
			r := &fieldRule{path: strings.Trim(cols[0], "`"), reason: strings.TrimSpace(cols[1])}
			if r.reason == "" {
				return nil, nil, fmt.Errorf("%s:%d: %s has no reason", path, n, r.path)
			}
			fields = append(fields, r)
			continue
		}
		if len(cols) != 3 {
			return nil, nil, fmt.Errorf("%s:%d: want 3 columns (interaction, aspects, reason) or 2 (field, reason), got %d", path, n, len(cols))
		}
		id := strings.Trim(cols[0], "`")
		if _, dup := out[id]; dup {
			return nil, nil, fmt.Errorf("%s:%d: %s listed twice", path, n, id)
		}
		a := &accepted{reason: strings.TrimSpace(cols[2])}
		for _, asp := range strings.Split(cols[1], ",") {
			if asp = strings.TrimSpace(asp); asp == "sometimes" {
				a.sometimes = true
				continue
			}
			a.aspects = append(a.aspects, asp)
		}
		if a.reason == "" {
			return nil, nil, fmt.Errorf("%s:%d: %s has no reason", path, n, id)
		}
		out[id] = a
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, fmt.Errorf("%s: no %q section", path, section)
	}
	return out, fields, nil
}

// applyFields removes the lines under the field rules from both rendered
// bodies, marking the rules that removed a line that differed.
func applyFields(a, b string, rules []*fieldRule) (string, string) {
	as, bs := strings.Split(a, "\n"), strings.Split(b, "\n")
	keep := func(lines, other []string) []string {
		var out []string
		for _, l := range lines {
			dropped := false
			for _, r := range rules {
				if r.drops(l) {
					dropped = true
					if !slices.Contains(other, l) {
						r.used = true
					}
				}
			}
			if !dropped {
				out = append(out, l)
			}
		}
		return out
	}
	return strings.Join(keep(as, bs), "\n"), strings.Join(keep(bs, as), "\n")
}

// verdict is the outcome of comparing one interaction.
type verdict struct {
	id      string
	strict  bool     // identical even before the field rules
	aspects []string // the aspects that differ
	diff    string
	reason  string // set when every differing aspect is accepted
}

func (v verdict) match() bool { return len(v.aspects) == 0 }

// compare pairs the interactions of one case by label and compares each
// pair aspect by aspect.
func compare(caseName string, ref, sut *target, refOut, sutOut []*interaction, rules []*fieldRule) ([]verdict, error) {
	byLabel := func(list []*interaction) (map[string]*interaction, []string, error) {
		m := map[string]*interaction{}
		var order []string
		for _, in := range list {
			if _, dup := m[in.label]; dup {
				return nil, nil, fmt.Errorf("case %s: label %q recorded twice", caseName, in.label)
			}
			m[in.label] = in
			order = append(order, in.label)
		}
		return m, order, nil
	}
	refBy, order, err := byLabel(refOut)
	if err != nil {
		return nil, err
	}
	sutBy, sutOrder, err := byLabel(sutOut)
	if err != nil {
		return nil, err
	}
	for _, l := range sutOrder {
		if _, ok := refBy[l]; !ok {
			order = append(order, l)
		}
	}
	var out []verdict
	for _, l := range order {
		v := verdict{id: caseName + "/" + l}
		a, b := map[string]string{"recorded": "no"}, map[string]string{"recorded": "no"}
		if in, ok := refBy[l]; ok {
			a = ref.render(in)
		}
		if in, ok := sutBy[l]; ok {
			b = sut.render(in)
		}
		v.strict = maps.Equal(a, b)
		if a["body"] != b["body"] {
			a["body"], b["body"] = applyFields(a["body"], b["body"], rules)
		}
		keys := map[string]bool{}
		for k := range a {
			keys[k] = true
		}
		for k := range b {
			keys[k] = true
		}
		var diffs []string
		for k := range keys {
			if a[k] == b[k] {
				continue
			}
			v.aspects = append(v.aspects, k)
			diffs = append(diffs, fmt.Sprintf("  %s (-%s +%s):\n%s", k, ref.name, sut.name, lineDiff(a[k], b[k])))
		}
		slices.Sort(v.aspects)
		slices.Sort(diffs)
		v.diff = strings.Join(diffs, "")
		out = append(out, v)
	}
	return out, nil
}

// judge applies the accepted differences and returns the report and the
// problems that fail the test.
func judge(verdicts []verdict, acc map[string]*accepted, rules []*fieldRule) (report string, matched, strict int, problems []string) {
	var b strings.Builder
	for i := range verdicts {
		v := &verdicts[i]
		a := acc[v.id]
		if a != nil {
			a.used = true
		}
		switch {
		case v.match():
			matched++
			if v.strict {
				strict++
			}
			fmt.Fprintf(&b, "ok        %s\n", v.id)
			if a != nil && !a.sometimes {
				problems = append(problems, fmt.Sprintf("%s: listed as an accepted difference but matches: remove it from %s", v.id, acceptedFile))
			}
		case a != nil && subset(v.aspects, a.aspects):
			v.reason = a.reason
			fmt.Fprintf(&b, "accepted  %s [%s]: %s\n", v.id, strings.Join(v.aspects, ", "), a.reason)
		default:
			fmt.Fprintf(&b, "DIFF      %s [%s]\n%s", v.id, strings.Join(v.aspects, ", "), v.diff)
			problems = append(problems, fmt.Sprintf("%s differs in %s", v.id, strings.Join(v.aspects, ", ")))
		}
	}
	for id, a := range acc {
		if !a.used {
			problems = append(problems, fmt.Sprintf("%s: listed in %s but no such interaction ran", id, acceptedFile))
		}
	}
	for _, r := range rules {
		if !r.used {
			problems = append(problems, fmt.Sprintf("field %s: listed in %s but never differs: remove it", r.path, acceptedFile))
		}
	}
	slices.Sort(problems)
	return b.String(), matched, strict, problems
}

// lineDiff lists the lines only in a (-) and only in b (+): rendered
// bodies are sorted sets of lines, so set difference reads best.
func lineDiff(a, b string) string {
	as, bs := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	for _, l := range as {
		if !slices.Contains(bs, l) {
			fmt.Fprintf(&out, "    - %s\n", l)
		}
	}
	for _, l := range bs {
		if !slices.Contains(as, l) {
			fmt.Fprintf(&out, "    + %s\n", l)
		}
	}
	return out.String()
}

func subset(have, allowed []string) bool {
	for _, h := range have {
		if !slices.Contains(allowed, h) {
			return false
		}
	}
	return true
}

package clients

import (
	"testing"
	"time"
)

// BenchmarkClientCorpora times each client's whole corpus on sockerless
// (memory backend) and on the reference dockerd in the same run, one case
// after another on each engine, and reports both wall times, the ratio and
// how many cases passed on each. It asserts nothing about time.
//
//	go test -run '^$' -bench ClientCorpora -benchtime 1x ./integration/clients/
func BenchmarkClientCorpora(b *testing.B) {
	corpora := []struct {
		client, kind string
		atLeast      int
		env          string
		run          func(testing.TB, engine, clientCase) run
	}{
		{"act", "act", 25, actEnv, runAct},
		{"gitlab-ci-local", "gitlab-ci", 15, gclEnv, runGCL},
	}
	for _, c := range corpora {
		b.Run(c.client, func(b *testing.B) {
			clientBinary(b, c.env)
			cases := loadCases(b, c.kind, c.atLeast)
			engs := engines(b)
			for b.Loop() {
				took := map[string]time.Duration{}
				passed := map[string]int{}
				for _, e := range engs {
					start := time.Now()
					for _, cc := range cases {
						if check(cc, e, c.run(b, e, cc)) == "" {
							passed[e.name]++
						}
					}
					took[e.name] = time.Since(start)
				}
				s, d := took[engineSockerless], took[engineDockerd]
				b.ReportMetric(s.Seconds(), "s-sockerless")
				b.ReportMetric(d.Seconds(), "s-dockerd")
				b.ReportMetric(d.Seconds()/s.Seconds(), "x-faster")
				b.ReportMetric(float64(passed[engineSockerless]), "passed-sockerless")
				b.ReportMetric(float64(passed[engineDockerd]), "passed-dockerd")
				b.Logf("%s, %d cases: sockerless %v (%d passed), dockerd %v (%d passed), sockerless %.1fx faster",
					c.client, len(cases), s.Round(time.Millisecond), passed[engineSockerless],
					d.Round(time.Millisecond), passed[engineDockerd], d.Seconds()/s.Seconds())
			}
		})
	}
}

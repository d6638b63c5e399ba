package image

import (
	"net/http"
	"strings"
	"testing"
)

// failingBase fails the test if a request gets past secureOnly.
type failingBase struct{ t *testing.T }

func (f failingBase) RoundTrip(req *http.Request) (*http.Response, error) {
	f.t.Errorf("request to %s reached the network", req.URL)
	return nil, http.ErrUseLastResponse
}

// passBase answers every request it gets with 204.
type passBase struct{ got *[]string }

func (p passBase) RoundTrip(req *http.Request) (*http.Response, error) {
	*p.got = append(*p.got, req.URL.String())
	return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: req}, nil
}

func TestSecureOnly_RefusesPlainHTTPOffLoopback(t *testing.T) {
	for _, u := range []string{
		"http://10.1.2.3:5000/v2/",       // go-containerregistry would fall back to HTTP here (RFC 1918)
		"http://192.168.1.10/v2/",        // likewise
		"http://registry.local:5000/v2/", // and for *.local names
		"http://example.com/v2/",
	} {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = secureOnly{base: failingBase{t}}.RoundTrip(req)
		if err == nil || !strings.Contains(err.Error(), "refusing plain HTTP") {
			t.Errorf("%s: err = %v, want a refusal", u, err)
		}
	}
}

func TestSecureOnly_AllowsTLSAndLoopback(t *testing.T) {
	var got []string
	urls := []string{"https://10.1.2.3:5000/v2/", "http://127.0.0.1:5000/v2/", "http://localhost:5000/v2/", "http://[::1]:5000/v2/"}
	for _, u := range urls {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := secureOnly{base: passBase{&got}}.RoundTrip(req)
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		_ = res.Body.Close() // http.NoBody
	}
	if len(got) != len(urls) {
		t.Errorf("passed %v, want all of %v", got, urls)
	}
}

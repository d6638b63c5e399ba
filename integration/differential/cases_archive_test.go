package differential

import (
	"archive/tar"
	"bytes"
	"io"
	"net/http"
)

// tarOf builds a tar archive with one regular file.
func tarOf(name, content string) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o640, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		return nil, err
	}
	err := tw.Close()
	return b.Bytes(), err
}

func archiveCases() []testCase {
	return []testCase{
		{"archive", func(s *session) {
			s.create("dt-cp", spec{cmd: []string{"true"}})
			body, err := tarOf("hello.txt", "hello archive\n")
			s.must(err, "building a tar")
			s.do("put", check{}, http.MethodPut, "/containers/dt-cp/archive?path=/tmp", body)
			s.do("head-file", check{}, http.MethodHead, "/containers/dt-cp/archive?path=/tmp/hello.txt", nil)
			s.do("get-file", check{}, http.MethodGet, "/containers/dt-cp/archive?path=/tmp/hello.txt", nil)
			s.do("head-dir", check{}, http.MethodHead, "/containers/dt-cp/archive?path=/tmp", nil)
			s.do("head-missing", check{}, http.MethodHead, "/containers/dt-cp/archive?path=/no/such", nil)
			s.do("get-missing", check{}, http.MethodGet, "/containers/dt-cp/archive?path=/no/such", nil)
			s.do("get-no-path", check{}, http.MethodGet, "/containers/dt-cp/archive", nil)
			s.do("put-missing-dir", check{}, http.MethodPut, "/containers/dt-cp/archive?path=/no/such/dir", body)
			s.do("put-onto-file", check{}, http.MethodPut, "/containers/dt-cp/archive?path=/tmp/hello.txt", body)
			s.do("put-not-tar", check{}, http.MethodPut, "/containers/dt-cp/archive?path=/tmp", []byte("this is not a tar archive, not at all, no"))
			s.do("get-unknown-container", check{}, http.MethodGet, "/containers/dt-nosuch/archive?path=/tmp", nil)
		}},
	}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

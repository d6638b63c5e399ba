package differential

import (
	"io"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// readAll drains a streamed result so that the recorder sees the whole body.
func readAll(rc io.ReadCloser, err error) error {
	if err != nil {
		return err
	}
	defer func() { _ = rc.Close() }() // read to the end below
	_, err = io.Copy(io.Discard, rc)
	return err
}

// clientCases drive each area through the official Go client, as SDK users
// do; the raw cases cover the same routes byte for byte.
func clientCases() []testCase {
	labels := map[string]string{labelKey: "1"}
	one := 1
	return []testCase{
		{"client-containers", func(s *session) {
			s.call("create", vals(".Warnings"), func() error {
				_, err := s.cli.ContainerCreate(s.ctx, client.ContainerCreateOptions{Name: "dt-sdk",
					Config:     &container.Config{Image: image, Cmd: []string{"sh", "-c", "echo sdk; sleep 60"}, Labels: labels},
					HostConfig: &container.HostConfig{NetworkMode: "none"}})
				return err
			})
			s.call("start", check{}, func() error {
				_, err := s.cli.ContainerStart(s.ctx, "dt-sdk", client.ContainerStartOptions{})
				return err
			})
			s.call("inspect", stateValues, func() error {
				_, err := s.cli.ContainerInspect(s.ctx, "dt-sdk", client.ContainerInspectOptions{})
				return err
			})
			s.call("list", listValues, func() error {
				_, err := s.cli.ContainerList(s.ctx, client.ContainerListOptions{Filters: client.Filters{}.Add("name", "dt-sdk")})
				return err
			})
			s.call("rename", check{}, func() error {
				_, err := s.cli.ContainerRename(s.ctx, "dt-sdk", client.ContainerRenameOptions{NewName: "dt-sdk2"})
				return err
			})
			s.call("update", vals("*"), func() error {
				_, err := s.cli.ContainerUpdate(s.ctx, "dt-sdk2", client.ContainerUpdateOptions{RestartPolicy: &container.RestartPolicy{Name: "unless-stopped"}})
				return err
			})
			s.call("stat-path", check{}, func() error {
				_, err := s.cli.ContainerStatPath(s.ctx, "dt-sdk2", client.ContainerStatPathOptions{Path: "/bin"})
				return err
			})
			body, err := tarOf("sdk.txt", "from the sdk\n")
			s.must(err, "building a tar")
			s.call("copy-to", check{}, func() error {
				_, err := s.cli.CopyToContainer(s.ctx, "dt-sdk2", client.CopyToContainerOptions{DestinationPath: "/tmp", Content: bytesReader(body)})
				return err
			})
			s.call("copy-from", check{}, func() error {
				res, err := s.cli.CopyFromContainer(s.ctx, "dt-sdk2", client.CopyFromContainerOptions{SourcePath: "/tmp/sdk.txt"})
				if err != nil {
					return err
				}
				return readAll(res.Content, nil)
			})
			s.call("stop", check{}, func() error {
				_, err := s.cli.ContainerStop(s.ctx, "dt-sdk2", client.ContainerStopOptions{Signal: "SIGKILL", Timeout: &one})
				return err
			})
			s.waitExit("dt-sdk2")
			s.call("logs", check{stream: true}, func() error {
				return readAll(s.cli.ContainerLogs(s.ctx, "dt-sdk2", client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true}))
			})
			s.call("kill-stopped", check{}, func() error {
				_, err := s.cli.ContainerKill(s.ctx, "dt-sdk2", client.ContainerKillOptions{Signal: "SIGTERM"})
				return err
			})
			s.call("remove", check{}, func() error {
				_, err := s.cli.ContainerRemove(s.ctx, "dt-sdk2", client.ContainerRemoveOptions{})
				return err
			})
			s.call("inspect-removed", check{}, func() error {
				_, err := s.cli.ContainerInspect(s.ctx, "dt-sdk2", client.ContainerInspectOptions{})
				return err
			})
			s.call("prune", vals("*"), func() error {
				_, err := s.cli.ContainerPrune(s.ctx, client.ContainerPruneOptions{Filters: client.Filters{}.Add("label", "dt.nosuch")})
				return err
			})
		}},
		{"client-objects", func(s *session) {
			s.call("network-create", vals(".Warning"), func() error {
				_, err := s.cli.NetworkCreate(s.ctx, "dt-sdk-net", client.NetworkCreateOptions{Labels: labels})
				return err
			})
			s.call("network-inspect", netValues, func() error {
				_, err := s.cli.NetworkInspect(s.ctx, "dt-sdk-net", client.NetworkInspectOptions{})
				return err
			})
			s.call("network-list", vals("[].Name"), func() error {
				_, err := s.cli.NetworkList(s.ctx, client.NetworkListOptions{Filters: client.Filters{}.Add("name", "dt-sdk-net")})
				return err
			})
			s.create("dt-sdk-ctr", spec{cmd: []string{"true"}})
			s.call("network-connect", check{}, func() error {
				_, err := s.cli.NetworkConnect(s.ctx, "dt-sdk-net", client.NetworkConnectOptions{Container: "dt-sdk-ctr"})
				return err
			})
			s.call("network-disconnect", check{}, func() error {
				_, err := s.cli.NetworkDisconnect(s.ctx, "dt-sdk-net", client.NetworkDisconnectOptions{Container: "dt-sdk-ctr"})
				return err
			})
			s.call("network-remove", check{}, func() error {
				_, err := s.cli.NetworkRemove(s.ctx, "dt-sdk-net", client.NetworkRemoveOptions{})
				return err
			})
			s.call("network-prune", vals("*"), func() error {
				_, err := s.cli.NetworkPrune(s.ctx, client.NetworkPruneOptions{Filters: client.Filters{}.Add("label", "dt.nosuch")})
				return err
			})
			s.call("volume-create", volValues, func() error {
				_, err := s.cli.VolumeCreate(s.ctx, client.VolumeCreateOptions{Name: "dt-sdk-vol", Labels: labels})
				return err
			})
			s.call("volume-inspect", volValues, func() error {
				_, err := s.cli.VolumeInspect(s.ctx, "dt-sdk-vol", client.VolumeInspectOptions{})
				return err
			})
			s.call("volume-list", vals(".Volumes[].Name", ".Warnings"), func() error {
				_, err := s.cli.VolumeList(s.ctx, client.VolumeListOptions{Filters: client.Filters{}.Add("name", "dt-sdk-vol")})
				return err
			})
			s.call("volume-remove", check{}, func() error {
				_, err := s.cli.VolumeRemove(s.ctx, "dt-sdk-vol", client.VolumeRemoveOptions{})
				return err
			})
			s.call("volume-prune", vals("*"), func() error {
				_, err := s.cli.VolumePrune(s.ctx, client.VolumePruneOptions{Filters: client.Filters{}.Add("label", "dt.nosuch")})
				return err
			})
			s.call("image-tag", check{}, func() error {
				_, err := s.cli.ImageTag(s.ctx, client.ImageTagOptions{Source: image, Target: "dt-sdk-tag:v1"})
				return err
			})
			s.call("image-history", vals("[].Tags[]"), func() error {
				_, err := s.cli.ImageHistory(s.ctx, "dt-sdk-tag:v1")
				return err
			})
			s.call("image-remove", vals("*"), func() error {
				_, err := s.cli.ImageRemove(s.ctx, "dt-sdk-tag:v1", client.ImageRemoveOptions{})
				return err
			})
			s.call("image-inspect-unknown", check{}, func() error {
				_, err := s.cli.ImageInspect(s.ctx, "dt-sdk-tag:v1")
				return err
			})
			s.call("ping", check{}, func() error {
				_, err := s.cli.Ping(s.ctx, client.PingOptions{})
				return err
			})
		}},
	}
}

"""docker-py scenario for the ecosystem client tests (clients/dockerpy_test.go).

Runs against the engine at $DOCKER_HOST with the image named by
$SCENARIO_IMAGE; container names start with $SCENARIO_PREFIX. Each case
prints one JSON line: {"case": name, "ok": bool, "detail": text}. A case
checks values only real execution produces (shell arithmetic, file contents
written inside the container, exit codes).
"""

import io
import json
import os
import tarfile
import time
import traceback

import docker
from docker.errors import NotFound

IMAGE = os.environ["SCENARIO_IMAGE"]
PREFIX = os.environ["SCENARIO_PREFIX"]

client = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], timeout=60)
state = {}


def report(name, ok, detail=""):
    print(json.dumps({"case": name, "ok": ok, "detail": detail}), flush=True)


def case(fn):
    try:
        fn()
    except Exception:  # every failure is reported as the case's result
        report(fn.__name__, False, traceback.format_exc())
    else:
        report(fn.__name__, True)


def expect(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


@case
def run_foreground():
    # containers.run without detach waits and returns the container's stdout.
    out = client.containers.run(
        IMAGE, ["sh", "-c", "echo $((6*7)); echo to-stderr >&2"],
        name=PREFIX + "fg", remove=True)
    expect(out, b"42\n", "stdout of run")


@case
def run_detached():
    c = client.containers.run(
        IMAGE, ["sh", "-c", "i=1; while [ $i -le 3 ]; do echo line$i; i=$((i+1)); done; exec sleep 300"],
        name=PREFIX + "bg", detach=True)
    state["c"] = c
    c.reload()
    expect(c.status, "running", "status after run")


@case
def logs():
    c = state["c"]
    # Follow until the third line: the loop has run by then, however slow.
    lines = []
    for chunk in c.logs(stream=True, follow=True):
        lines.extend(chunk.decode().splitlines())
        if len(lines) >= 3:
            break
    expect(lines[:3], ["line1", "line2", "line3"], "followed log lines")
    expect(c.logs(tail=1), b"line3\n", "last log line")


@case
def exec_run():
    c = state["c"]
    r = c.exec_run(["sh", "-c", "echo $((3*4)) $GREETING $(pwd)"], environment={"GREETING": "hi"}, workdir="/tmp")
    expect(r.exit_code, 0, "exit code")
    expect(r.output, b"12 hi /tmp\n", "output")
    r = c.exec_run(["sh", "-c", "exit 3"])
    expect(r.exit_code, 3, "exit code of a failing command")


@case
def put_archive():
    c = state["c"]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"hello from docker-py\n"
        info = tarfile.TarInfo("in/data.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    expect(c.put_archive("/tmp", buf.getvalue()), True, "put_archive result")
    r = c.exec_run(["sh", "-c", "tr a-z A-Z < /tmp/in/data.txt; wc -c < /tmp/in/data.txt"])
    expect(r.output, b"HELLO FROM DOCKER-PY\n21\n", "file content seen inside")


@case
def get_archive():
    c = state["c"]
    r = c.exec_run(["sh", "-c", "seq 1 5 | tr '\\n' + | sed 's/+$//' > /tmp/out.txt; echo = $((1+2+3+4+5)) >> /tmp/out.txt"])
    expect(r.exit_code, 0, "writing the file")
    stream, stat = c.get_archive("/tmp/out.txt")
    tar = tarfile.open(fileobj=io.BytesIO(b"".join(stream)))
    member = tar.getmember("out.txt")
    content = tar.extractfile(member).read()
    expect(content, b"1+2+3+4+5= 15\n", "archived file")
    expect((stat["name"], stat["size"]), ("out.txt", len(content)), "path stat")


@case
def wait_exit_code():
    c = client.containers.run(IMAGE, ["sh", "-c", "exit $((3+4))"], name=PREFIX + "exit", detach=True)
    try:
        expect(c.wait(timeout=60)["StatusCode"], 7, "wait status")
    finally:
        c.remove()


@case
def attach():
    # attach(stream=True, logs=True) reads the raw socket after the head.
    c = client.containers.create(IMAGE, ["sh", "-c", "echo a$((1+1)); echo b$((2+2))"], name=PREFIX + "attach")
    try:
        stream = c.attach(stream=True, logs=True, stdout=True, stderr=True)
        c.start()
        out = b"".join(stream)
        expect(out, b"a2\nb4\n", "attached output")
        expect(c.wait(timeout=60)["StatusCode"], 0, "exit code")
    finally:
        c.remove(force=True)


@case
def top_and_list_filters():
    c = state["c"]
    procs = c.top()
    cmds = [p[-1] for p in procs["Processes"]]
    if not any("sleep 300" in cmd for cmd in cmds):
        raise AssertionError(f"top lacks the sleep: {procs}")
    found = client.containers.list(filters={"name": PREFIX + "bg", "status": "running"})
    expect([x.id for x in found], [c.id], "list filtered by name and status")
    expect(client.containers.list(filters={"name": PREFIX + "bg", "status": "exited"}), [], "list of exited")


@case
def volumes():
    v = client.volumes.create(PREFIX + "vol", labels={"scenario": PREFIX})
    try:
        client.containers.run(IMAGE, ["sh", "-c", "echo $((5*5)) > /v/n"], volumes={v.name: {"bind": "/v"}}, remove=True)
        out = client.containers.run(IMAGE, ["cat", "/v/n"], volumes={v.name: {"bind": "/v", "mode": "ro"}}, remove=True)
        expect(out, b"25\n", "volume content seen by a second container")
        expect([x.name for x in client.volumes.list(filters={"label": "scenario=" + PREFIX})], [v.name], "volumes by label")
    finally:
        v.remove()
    expect(client.volumes.list(filters={"label": "scenario=" + PREFIX}), [], "volumes after remove")


@case
def networks():
    n = client.networks.create(PREFIX + "net", driver="bridge")
    c = client.containers.create(IMAGE, ["sleep", "300"], name=PREFIX + "netc")
    try:
        n.connect(c, aliases=["svc"])
        c.start()
        n.reload()
        expect([x.id for x in n.containers], [c.id], "containers on the network")
        c.reload()
        ep = c.attrs["NetworkSettings"]["Networks"][n.name]
        if "svc" not in (ep.get("Aliases") or []):
            raise AssertionError(f"aliases {ep.get('Aliases')}")
        r = c.exec_run(["sh", "-c", "grep -c -w " + ep["IPAddress"] + " /etc/hosts"])
        expect(r.output, b"1\n", "own address in /etc/hosts")
        n.disconnect(c, force=True)
        n.reload()
        expect(n.containers, [], "containers after disconnect")
    finally:
        c.remove(force=True)
        n.remove()


@case
def events():
    # The engine runs on this machine: its clock is ours.
    since = int(time.time()) - 1
    c = client.containers.run(IMAGE, ["sh", "-c", "exit 6"], name=PREFIX + "ev", detach=True)
    c.wait(timeout=60)
    c.remove()
    got = []
    for ev in client.events(since=since, until=int(time.time()) + 1, decode=True,
                            filters={"container": c.id, "type": "container"}):
        got.append((ev["Action"], ev["Actor"]["Attributes"].get("exitCode")))
    actions = [a for a, _ in got]
    for want in ["create", "start", "die", "destroy"]:
        if want not in actions:
            raise AssertionError(f"events {got} lack {want}")
    expect([code for a, code in got if a == "die"], ["6"], "exit code of the die event")


@case
def images():
    # images.list(name=...) sends the reference filter; a tag made here
    # must be listed under that name only, and go away with remove.
    tag = PREFIX.rstrip("-") + "/tagged:v1"
    img = client.images.get(IMAGE)
    expect(img.tag(tag), True, "tag")
    try:
        # The model re-inspects each image (all its tags); the API's list
        # carries the matching tags only.
        found = client.images.list(name=PREFIX.rstrip("-") + "/tagged")
        expect([i.id for i in found], [img.id], "images listed by name")
        raw = client.api.images(name=PREFIX.rstrip("-") + "/tagged")
        expect([(i["Id"], i["RepoTags"]) for i in raw], [(img.id, [tag])], "the API's list by name")
    finally:
        client.images.remove(tag)
    expect(client.images.list(name=PREFIX.rstrip("-") + "/tagged"), [], "images after untag")


@case
def remove():
    c = state["c"]
    c.remove(force=True)
    try:
        client.containers.get(c.id)
    except NotFound:
        return
    raise AssertionError("container still exists after remove(force=True)")

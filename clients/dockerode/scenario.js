// dockerode scenario for the ecosystem client tests (clients/dockerode_test.go).
//
// Runs against the engine at $DOCKER_HOST (unix://PATH) with the image named
// by $SCENARIO_IMAGE; container names start with $SCENARIO_PREFIX; dockerode
// is loaded from $NODE_PATH. Each case prints one JSON line:
// {"case": name, "ok": bool, "detail": text}. A case checks values only
// real execution produces (shell arithmetic, file contents written inside
// the container, exit codes).
'use strict';

const Docker = require('dockerode');
const { PassThrough } = require('stream');

const IMAGE = process.env.SCENARIO_IMAGE;
const PREFIX = process.env.SCENARIO_PREFIX;
const docker = new Docker({ socketPath: process.env.DOCKER_HOST.replace(/^unix:\/\//, '') });
const state = {};

function report(name, ok, detail) {
  process.stdout.write(JSON.stringify({ case: name, ok, detail: detail || '' }) + '\n');
}

function expect(got, want, what) {
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
}

// collect demultiplexes a stdout/stderr stream into two strings.
function collect(stream) {
  return new Promise((resolve, reject) => {
    const out = new PassThrough();
    const err = new PassThrough();
    const o = [];
    const e = [];
    out.on('data', (d) => o.push(d));
    err.on('data', (d) => e.push(d));
    docker.modem.demuxStream(stream, out, err);
    stream.on('end', () => resolve({ stdout: Buffer.concat(o).toString(), stderr: Buffer.concat(e).toString() }));
    stream.on('error', reject);
  });
}

async function exec(container, cmd) {
  const ex = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await ex.start({ hijack: true, stdin: false });
  const out = await collect(stream);
  const info = await ex.inspect();
  return { ...out, exitCode: info.ExitCode };
}

// tarOf builds a one-file ustar archive (the format put_archive takes).
function tarOf(name, content) {
  const header = Buffer.alloc(512);
  const field = (off, len, s) => header.write(s, off, len, 'ascii');
  const octal = (n, len) => n.toString(8).padStart(len - 1, '0') + '\0';
  field(0, 100, name);
  field(100, 8, octal(0o644, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(content.length, 12));
  field(136, 12, octal(Math.floor(Date.now() / 1000), 12));
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const b of header) sum += b;
  field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, pad, Buffer.alloc(1024)]);
}

// untar returns the files of an uncompressed tar archive by name.
function untar(buf) {
  const files = {};
  for (let off = 0; off + 512 <= buf.length;) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('ascii').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
    files[name] = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

function streamToBuffer(stream) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    stream.on('data', (d) => chunks.push(d));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

const cases = {
  async run() {
    // docker.run creates, attaches, starts and waits, like `docker run`;
    // given two streams it demultiplexes stdout and stderr into them.
    const out = new PassThrough();
    const err = new PassThrough();
    const o = [];
    const e = [];
    out.on('data', (d) => o.push(d));
    err.on('data', (d) => e.push(d));
    const [result, container] = await docker.run(IMAGE, ['sh', '-c', 'echo $((6*7)); echo bye >&2; exit 5'],
      [out, err], { name: PREFIX + 'run', Tty: false });
    await container.remove();
    expect([Buffer.concat(o).toString(), Buffer.concat(e).toString()], ['42\n', 'bye\n'], 'stdout and stderr of run');
    expect(result.StatusCode, 5, 'exit code of run');
  },

  async create_start() {
    const c = await docker.createContainer({
      Image: IMAGE, name: PREFIX + 'bg',
      Cmd: ['sh', '-c', 'i=1; while [ $i -le 3 ]; do echo line$i; echo err$i >&2; i=$((i+1)); done; exec sleep 300'],
    });
    state.c = c;
    await c.start();
    const info = await c.inspect();
    expect(info.State.Running, true, 'running after start');
  },

  async logs() {
    const stream = await state.c.logs({ follow: true, stdout: true, stderr: true });
    // Read until all six lines are in, then stop following.
    const out = new PassThrough();
    const err = new PassThrough();
    let o = '';
    let e = '';
    await new Promise((resolve, reject) => {
      const check = () => {
        if (o.split('\n').length > 3 && e.split('\n').length > 3) resolve();
      };
      out.on('data', (d) => { o += d; check(); });
      err.on('data', (d) => { e += d; check(); });
      docker.modem.demuxStream(stream, out, err);
      stream.on('error', reject);
      stream.on('end', () => reject(new Error(`log stream ended early: ${o} ${e}`)));
    });
    stream.destroy();
    expect(o, 'line1\nline2\nline3\n', 'stdout lines');
    expect(e, 'err1\nerr2\nerr3\n', 'stderr lines');
  },

  async exec() {
    const r = await exec(state.c, ['sh', '-c', 'echo $((3*4)); echo oops >&2; exit 2']);
    expect([r.stdout, r.stderr, r.exitCode], ['12\n', 'oops\n', 2], 'stdout, stderr, exit code');
  },

  async put_archive() {
    const data = Buffer.from('hello from dockerode\n');
    await state.c.putArchive(tarOf('in.txt', data), { path: '/tmp' });
    const r = await exec(state.c, ['sh', '-c', 'tr a-z A-Z < /tmp/in.txt; wc -c < /tmp/in.txt']);
    expect(r.stdout, 'HELLO FROM DOCKERODE\n21\n', 'file content seen inside');
  },

  async get_archive() {
    const w = await exec(state.c, ['sh', '-c', 'echo $((2**10)) > /tmp/out.txt']);
    expect(w.exitCode, 0, 'writing the file');
    const stream = await state.c.getArchive({ path: '/tmp/out.txt' });
    const files = untar(await streamToBuffer(stream));
    expect(files['out.txt'] && files['out.txt'].toString(), '1024\n', 'archived file');
  },

  async list_filters() {
    const running = await docker.listContainers({ filters: { name: [PREFIX + 'bg'], status: ['running'] } });
    expect(running.map((c) => c.Id), [state.c.id], 'running containers by name');
    const exited = await docker.listContainers({ all: true, filters: { name: [PREFIX + 'bg'], status: ['exited'] } });
    expect(exited, [], 'exited containers by name');
  },

  async volumes() {
    const name = PREFIX + 'vol';
    await docker.createVolume({ Name: name, Labels: { scenario: PREFIX } });
    try {
      const write = await docker.run(IMAGE, ['sh', '-c', 'echo $((9*9)) > /v/n'], null,
        { HostConfig: { Binds: [name + ':/v'], AutoRemove: false } });
      await write[1].remove();
      const out = new PassThrough();
      const chunks = [];
      out.on('data', (d) => chunks.push(d));
      const read = await docker.run(IMAGE, ['cat', '/v/n'], out, { Tty: true, HostConfig: { Binds: [name + ':/v:ro'] } });
      await read[1].remove();
      expect(Buffer.concat(chunks).toString().replace(/\r/g, ''), '81\n', 'volume content seen by a second container');
      const listed = await docker.listVolumes({ filters: { label: ['scenario=' + PREFIX] } });
      expect(listed.Volumes.map((v) => v.Name), [name], 'volumes by label');
    } finally {
      await docker.getVolume(name).remove();
    }
  },

  async networks() {
    const net = await docker.createNetwork({ Name: PREFIX + 'net', Driver: 'bridge' });
    const c = await docker.createContainer({ Image: IMAGE, name: PREFIX + 'netc', Cmd: ['sleep', '300'] });
    try {
      await net.connect({ Container: c.id, EndpointConfig: { Aliases: ['svc'] } });
      await c.start();
      const info = await net.inspect();
      expect(Object.keys(info.Containers), [c.id], 'containers on the network');
      const ep = (await c.inspect()).NetworkSettings.Networks[PREFIX + 'net'];
      if (!ep.Aliases || !ep.Aliases.includes('svc')) throw new Error(`aliases ${JSON.stringify(ep.Aliases)}`);
      const r = await exec(c, ['sh', '-c', `grep -c -w ${ep.IPAddress} /etc/hosts`]);
      expect(r.stdout, '1\n', 'own address in /etc/hosts');
      await net.disconnect({ Container: c.id, Force: true });
      expect(Object.keys((await net.inspect()).Containers || {}), [], 'containers after disconnect');
    } finally {
      await c.remove({ force: true });
      await net.remove();
    }
  },

  async events() {
    // The engine runs on this machine: its clock is ours.
    const since = Math.floor(Date.now() / 1000) - 1;
    const [result, c] = await docker.run(IMAGE, ['sh', '-c', 'exit 6'], null, { name: PREFIX + 'ev' });
    expect(result.StatusCode, 6, 'exit code');
    await c.remove();
    const stream = await docker.getEvents({
      since, until: Math.floor(Date.now() / 1000) + 1, filters: { container: [c.id], type: ['container'] },
    });
    const events = (await streamToBuffer(stream)).toString().trim().split('\n').map((l) => JSON.parse(l));
    const actions = events.map((e) => e.Action);
    for (const want of ['create', 'attach', 'start', 'die', 'destroy']) {
      if (!actions.includes(want)) throw new Error(`events ${actions} lack ${want}`);
    }
    expect(events.filter((e) => e.Action === 'die').map((e) => e.Actor.Attributes.exitCode), ['6'], 'die exit code');
  },

  async images() {
    const repo = PREFIX.replace(/-$/, '') + '/tagged';
    await docker.getImage(IMAGE).tag({ repo, tag: 'v1' });
    try {
      const listed = await docker.listImages({ filters: { reference: [repo] } });
      const id = (await docker.getImage(IMAGE).inspect()).Id;
      expect(listed.map((i) => [i.Id, i.RepoTags]), [[id, [repo + ':v1']]], 'images by reference');
    } finally {
      await docker.getImage(repo + ':v1').remove();
    }
    expect(await docker.listImages({ filters: { reference: [repo] } }), [], 'images after untag');
  },

  async remove() {
    await state.c.remove({ force: true });
    try {
      await state.c.inspect();
    } catch (e) {
      expect(e.statusCode, 404, 'inspect after remove');
      return;
    }
    throw new Error('container still exists after remove({force: true})');
  },
};

(async () => {
  for (const [name, fn] of Object.entries(cases)) {
    try {
      await fn();
      report(name, true);
    } catch (e) {
      report(name, false, e && e.stack ? e.stack : String(e));
    }
  }
})();

'use strict';

// The soak's blackhole machinery (soak/netns.js) on its own: a process in the app's namespace talks
// to a server on the root side of the veth; a blackhole of one connection silences that one and no
// other, a blackhole of all stops new connects too, lifting it lets TCP deliver what was held, and
// teardown leaves no namespace or veth behind. Needs root (ip, nft, ss); CI runs as root and must
// not skip this (the rule of blackhole.test.js).

const net = require('net');
const { execFileSync, spawn } = require('child_process');
const { AppNetwork, missingPrivileges, PREFIX } = require('../soak/netns');

const missing = missingPrivileges();
if (missing && !process.env.CI) {
  console.warn(`\n*** soak-netns.test.js SKIPPED: needs root with ip, nft and ss (${missing}) ***\n`);
}
const maybe = missing && !process.env.CI ? describe.skip : describe;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
const links = () => execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' });

// A child in the namespace that opens `count` connections and, on command, writes a line on one;
// it reports its local ports and every line echoed back.
const CLIENT = `
const net = require('net');
const [host, port, count] = process.argv.slice(1);
const socks = [];
for (let i = 0; i < Number(count); i++) {
  const s = net.connect(Number(port), host, () => {
    socks[i] = s;
    if (socks.filter(Boolean).length === Number(count)) process.send({ ports: socks.map((x) => x.localPort) });
  });
  s.setEncoding('utf8');
  s.on('data', (d) => process.send({ echo: d, i }));
  s.on('error', (e) => process.send({ error: e.code, i }));
}
process.on('message', (m) => {
  if (m.write !== undefined) socks[m.write].write(m.line);
  if (m.connect) {
    const s = net.connect(Number(port), host, () => process.send({ connected: true }));
    s.on('error', () => {});
  }
});
process.on('disconnect', () => process.exit(0));
`;

maybe('soak network namespace and blackholes (soak/netns.js)', () => {
  let netw;
  let server;
  let child;

  beforeAll(() => {
    if (missing) throw new Error(`soak-netns.test.js cannot run in CI: ${missing}`);
  });

  afterAll(() => {
    if (child) child.kill('SIGKILL');
    if (server) server.close();
    if (netw) netw.teardown();
  });

  test('one connection blackholed, then all, then lifted; teardown leaves nothing', async () => {
    netw = new AppNetwork();
    netw.setup();
    expect(namespaces()).toContain(netw.ns);
    server = net.createServer((s) => s.on('data', (d) => s.write(d)));
    await new Promise((r) => server.listen(0, netw.hostAddr, r));
    const { port } = server.address();

    const msgs = [];
    child = spawn(...netw.wrap(process.execPath, ['-e', CLIENT, netw.hostAddr, String(port), '2']), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (m) => msgs.push(m));
    const waitFor = async (pred, ms, what) => {
      for (let t = 0; t < ms; t += 100) {
        const m = msgs.find(pred);
        if (m) return m;
        await sleep(100);
      }
      throw new Error(`timed out waiting for ${what}`);
    };
    const { ports } = await waitFor((m) => m.ports, 15000, 'the connections');
    expect(await netw.established(port)).toEqual(new Set(ports));

    // One connection: its line is held, the other's is echoed.
    const one = netw.blackhole(port, ports[0]);
    child.send({ write: 0, line: 'held\n' });
    child.send({ write: 1, line: 'free\n' });
    await waitFor((m) => m.echo === 'free\n' && m.i === 1, 10000, 'the other connection');
    await sleep(1500);
    expect(msgs.filter((m) => m.echo === 'held\n')).toEqual([]);
    // Held, not reset: the app's kernel still has it ESTABLISHED.
    expect(await netw.established(port)).toEqual(new Set(ports));
    netw.lift(one);
    // TCP retransmits what the blackhole dropped.
    await waitFor((m) => m.echo === 'held\n' && m.i === 0, 20000, 'the held line after the lift');

    // All: a new connect gets no answer either.
    const all = netw.blackhole(port, null);
    child.send({ connect: true });
    child.send({ write: 1, line: 'all\n' });
    await sleep(2000);
    expect(msgs.filter((m) => m.connected || m.echo === 'all\n')).toEqual([]);
    netw.lift(all);
    await waitFor((m) => m.connected, 20000, 'the connect after the lift');
    await waitFor((m) => m.echo === 'all\n', 20000, 'the line after the lift');
    expect(msgs.filter((m) => m.error)).toEqual([]);

    child.kill('SIGKILL');
    child = null;
    netw.teardown();
    expect(namespaces()).not.toContain(netw.ns);
    expect(links()).not.toContain(netw.hostIf);
  }, 120000);

  test('a namespace left by a soak that died is swept by the next one; a live one is left alone', () => {
    // No live process has pid 2^22 + 1 (above the default pid_max); this process is alive.
    const dead = new AppNetwork(4194305);
    const live = new AppNetwork(process.pid);
    try {
      dead.setup();
      live.setup();
      const next = new AppNetwork(process.pid + 1);
      try {
        next.setup();
        expect(namespaces()).not.toContain(`${PREFIX}4194305`);
        expect(links()).not.toContain(dead.hostIf);
        expect(namespaces()).toContain(live.ns);
        // Distinct subnets for the two live ones.
        expect(next.hostAddr).not.toEqual(live.hostAddr);
      } finally {
        next.teardown();
      }
    } finally {
      dead.teardown();
      live.teardown();
    }
  });
});

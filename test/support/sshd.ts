import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { SshTarget } from '../../src/gate/ssh-transport.ts';
import { freePort } from './free-port.ts';

const SSHD = '/usr/sbin/sshd';
const BUSYBOX = '/usr/bin/busybox';
/** What the gate agent runs besides its shell's builtins: linked to busybox, so the agent is tried with busybox's applets as on OpenWrt. */
const AGENT_APPLETS = ['cat', 'dd', 'mktemp', 'rm', 'wc'];

/**
 * Debian's real sshd on 127.0.0.1 (a free port), in a temporary directory holding its host key, its
 * authorized_keys and a client key pair; run in the foreground without PAM. The agent runs under
 * `busybox sh` with busybox's applets first on PATH.
 */
export class TestSshd {
  private process: ReturnType<typeof spawnSshd> | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<TestSshd> {
    for (const [path, pkg] of [[SSHD, 'openssh-server'], [BUSYBOX, 'busybox'], ['/usr/bin/ssh', 'openssh-client']] as const) {
      if (!existsSync(path)) throw new Error(`${path} is missing: apt-get install ${pkg}`);
    }
    // sshd's privilege separation directory, which Debian's service creates.
    if (userInfo().uid === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const sshd = new TestSshd(await mkdtemp(join(tmpdir(), 'tollkeeper-sshd-')), await freePort());
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tollkeeper-test-client', '-f', sshd.identityFile]);
    await writeFile(join(sshd.dir, 'authorized_keys'), await readFile(`${sshd.identityFile}.pub`));
    mkdirSync(sshd.appletDir);
    for (const applet of AGENT_APPLETS) await symlink(BUSYBOX, join(sshd.appletDir, applet));
    await sshd.newHostKey();
    await sshd.listen();
    return sshd;
  }

  get identityFile(): string {
    return join(this.dir, 'client_key');
  }

  get knownHostsFile(): string {
    return join(this.dir, 'known_hosts');
  }

  get appletDir(): string {
    return join(this.dir, 'busybox-applets');
  }

  get pid(): number {
    return this.process!.pid!;
  }

  /** What an SshTransport needs to reach this sshd, as the current user. */
  target(overrides: Partial<SshTarget> = {}): SshTarget {
    return {
      host: '127.0.0.1',
      port: this.port,
      user: userInfo().username,
      identityFile: this.identityFile,
      knownHostsFile: this.knownHostsFile,
      connectTimeoutMs: 5_000,
      maxReplyBytes: 1024 * 1024,
      ...overrides,
    };
  }

  /** The agent's shell on this "router": busybox sh, busybox's applets first on PATH, then `extraPath`. */
  agentShell(extraPath: string[] = [], env: Record<string, string> = {}): string[] {
    const path = [this.appletDir, ...extraPath, '/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'].join(':');
    return ['env', `PATH=${path}`, ...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'busybox', 'sh'];
  }

  /** The host key's fingerprint, as ssh prints it (`SHA256:…`). */
  async hostKeyFingerprint(): Promise<string> {
    const { stdout } = await execa('ssh-keygen', ['-l', '-f', join(this.dir, 'host_key.pub')]);
    return stdout.split(' ')[1]!;
  }

  /** Writes the current host key into the known_hosts file (an operator who checked the new key). */
  async acceptCurrentHostKey(): Promise<void> {
    const [type, body] = (await readFile(join(this.dir, 'host_key.pub'), 'utf8')).split(' ');
    await writeFile(this.knownHostsFile, `[127.0.0.1]:${this.port} ${type} ${body}\n`);
  }

  /** Kills every sshd process serving a session (not the listener): each connection drops at once. */
  killSessions(): number {
    const serving = descendants(this.pid).filter((pid) => commandOf(pid) === 'sshd');
    for (const pid of serving) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    return serving.length;
  }

  /** Stops the listener and starts it again on the same port, with a new host key when asked (a re-installed router). */
  async restart(options: { newHostKey?: boolean } = {}): Promise<void> {
    await this.stopListener();
    if (options.newHostKey) await this.newHostKey({ keepKnownHosts: true });
    await this.listen();
  }

  async stop(): Promise<void> {
    this.killSessions();
    await this.stopListener();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async newHostKey({ keepKnownHosts = false } = {}): Promise<void> {
    const key = join(this.dir, 'host_key');
    await rm(key, { force: true });
    await rm(`${key}.pub`, { force: true });
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tollkeeper-test-host', '-f', key]);
    if (!keepKnownHosts) await this.acceptCurrentHostKey();
  }

  private async listen(): Promise<void> {
    const config = join(this.dir, 'sshd_config');
    await writeFile(
      config,
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(this.dir, 'host_key')}`,
        `PidFile ${join(this.dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        'UsePAM no',
        'StrictModes no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        'PrintMotd no',
        'X11Forwarding no',
        'AllowTcpForwarding no',
        'MaxStartups 100',
        'LogLevel INFO',
        '',
      ].join('\n'),
    );
    const child = spawnSshd(config);
    this.process = child;
    let said = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sshd did not start within 10 s: ${said}`)), 10_000);
      child.stderr!.on('data', (chunk: Buffer) => {
        said += chunk.toString();
        if (said.includes(`Server listening on 127.0.0.1 port ${this.port}`)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`sshd exited (${code}): ${said}`));
      });
    });
  }

  private async stopListener(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await child;
  }
}

function spawnSshd(config: string) {
  return execa(SSHD, ['-D', '-e', '-f', config], { buffer: false, reject: false });
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function descendants(root: number): number[] {
  const pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
  const children = new Map<number, number[]>();
  for (const pid of pids) {
    const parent = parentOf(pid);
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

'use strict';
// Fake `ndsctl`, `iptables` and `nft` for tests: they print what OpenNDS 9.10 / NoDogSplash 5 print
// (formats taken from their src/util.c, src/ndsctl.c and src/fw_iptables.c), from a JSON state file.
//   FAKE_NDSCTL_STATE   state file (required)
//   FAKE_NDSCTL_DIALECT opennds | nodogsplash (overrides state.dialect)
//   FAKE_NDSCTL_LOG     JSON-lines log of every invocation (default: STATE.log)
// ndsctl takes an exclusive lock file (like ndsctl.lock) and exits 4 "busy" when it is held.
const fs = require('node:fs');

const statePath = process.env.FAKE_NDSCTL_STATE;
const logPath = process.env.FAKE_NDSCTL_LOG || `${statePath}.log`;
const lockPath = `${statePath}.lock`;

function readState() {
  const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
  state.clients = state.clients || {};
  state.faults = state.faults || {};
  state.dialect = process.env.FAKE_NDSCTL_DIALECT || state.dialect || 'opennds';
  return state;
}

function writeState(state) {
  const tmp = `${statePath}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2));
  fs.renameSync(tmp, statePath);
}

function log(tool, argv, exit) {
  fs.appendFileSync(logPath, JSON.stringify({ tool, argv, exit }) + '\n');
}

function finish(tool, argv, exit, stdout, stderr) {
  if (stdout) process.stdout.write(stdout);
  if (stderr) process.stderr.write(stderr);
  log(tool, argv, exit);
  process.exitCode = exit;
}

function takeFault(state, name) {
  if ((state.faults[name] || 0) > 0) {
    state.faults[name] -= 1;
    return true;
  }
  return false;
}

function findClient(state, key) {
  if (state.clients[key]) return key;
  return Object.keys(state.clients).find((mac) => state.clients[mac].ip === key || state.clients[mac].token === key);
}

function openndsClientJson(state, mac, c, indent) {
  const fields = [
    ['gatewayname', 'Fake%20Gateway'], ['gatewayaddress', '198.18.0.1:2050'], ['gatewayfqdn', 'status.client'],
    ['version', '9.10.0'], ['client_type', c.clientType || 'preemptive'], ['mac', mac], ['ip', c.ip],
    ['clientif', 'veth-gw-lan'], ['session_start', String(c.sessionStart || 0)],
    ['session_end', c.sessionMinutes > 0 ? String((c.sessionStart || 0) + c.sessionMinutes * 60) : 'null'],
    ['last_active', String(c.sessionStart || 0)], ['token', c.token || 'none'], ['state', c.state], ['custom', c.custom || 'none'],
    ['download_rate_limit_threshold', 'null'], ['download_packet_rate', 'null'], ['download_bucket_size', 'null'],
    ['upload_rate_limit_threshold', 'null'], ['upload_packet_rate', 'null'], ['upload_bucket_size', 'null'],
    ['download_quota', c.downloadQuota > 0 ? String(c.downloadQuota) : 'null'],
    ['upload_quota', c.uploadQuota > 0 ? String(c.uploadQuota) : 'null'],
    ['download_this_session', String(Math.floor(c.download / 1024))], ['download_session_avg', '0.00'],
    ['upload_this_session', String(Math.floor(c.upload / 1024))], ['upload_session_avg', '0.00'],
  ];
  return fields.map(([k, v], i) => `  ${indent}"${k}":"${v}"${i < fields.length - 1 ? ',' : ''}\n`).join('');
}

function nodogsplashClientJson(mac, c, index) {
  // Duration 0 makes NoDogSplash print C's nan/inf for the averages, as the real one does.
  return (
    `"id":${index + 1},\n"ip":"${c.ip}",\n"mac":"${mac}",\n"added":${c.sessionStart || 0},\n` +
    `"active":${c.sessionStart || 0},\n"duration":0,\n"token":"${c.token || 'none'}",\n"state":"${c.state}",\n` +
    `"downloaded":${Math.floor(c.download / 1000)},\n"avg_down_speed":${c.download ? 'inf' : '-nan'},\n` +
    `"uploaded":${Math.floor(c.upload / 1000)},\n"avg_up_speed":${c.upload ? 'inf' : '-nan'}\n`
  );
}

function jsonOne(state, key) {
  const mac = findClient(state, key);
  if (!mac) return '{}\n';
  const c = state.clients[mac];
  if (state.dialect === 'opennds') return `{\n${openndsClientJson(state, mac, c, '')}}\n`;
  return `{\n${nodogsplashClientJson(mac, c, Object.keys(state.clients).indexOf(mac))}}\n`;
}

function jsonAll(state) {
  const macs = Object.keys(state.clients);
  if (state.dialect === 'opennds') {
    const body = macs
      .map((mac, i) => `    "${mac}":{\n${openndsClientJson(state, mac, state.clients[mac], '    ')}    }${i < macs.length - 1 ? ',' : ''}\n`)
      .join('');
    return `{\n  "client_list_length":"${macs.length}",\n  "clients":{\n${body}  }\n}\n`;
  }
  const body = macs
    .map((mac, i) => `"${mac}":{\n${nodogsplashClientJson(mac, state.clients[mac], i)}}${i < macs.length - 1 ? ',' : ''}\n`)
    .join('');
  return `{\n"client_length": ${macs.length},\n"clients":{\n${body}}\n}\n`;
}

function newIp(state) {
  state.nextHost = (state.nextHost || 10) + 1;
  const n = state.nextHost;
  return `198.18.${Math.floor(n / 250)}.${(n % 250) + 2}`;
}

function auth(state, args) {
  // OpenNDS's ndsctl joins every argument with commas; NoDogSplash's sends only the first.
  const param = state.dialect === 'opennds' ? args.join(',') : args[0] || '';
  const [key, minutes, , , upQuota, downQuota, custom] = param.split(',');
  let mac = findClient(state, key);
  if (!mac && state.dialect === 'opennds' && state.preemptive !== false && /^[0-9a-f:]{17}$/.test(key)) {
    mac = key;
    state.clients[mac] = { ip: newIp(state), state: 'Preauthenticated', download: 0, upload: 0, clientType: 'preemptive' };
  }
  const c = mac && state.clients[mac];
  if (!c || c.state !== 'Preauthenticated') return [1, `Failed to authenticate client ${param}.\n`];
  Object.assign(c, { state: 'Authenticated', download: 0, upload: 0, sessionStart: 1763960000 });
  if (state.dialect === 'opennds') {
    Object.assign(c, {
      sessionMinutes: Number(minutes) || 0,
      uploadQuota: Number(upQuota) || 0,
      downloadQuota: Number(downQuota) || 0,
      custom: custom || undefined,
    });
  }
  return [0, `Client ${param} authenticated.\n`];
}

function deauth(state, args) {
  const param = args[0] || '';
  const mac = findClient(state, param);
  if (!mac || state.clients[mac].state !== 'Authenticated') return [1, `Client ${param} not found.\n`];
  // OpenNDS drops the client from its list; NoDogSplash resets it to Preauthenticated.
  if (state.dialect === 'opennds') delete state.clients[mac];
  else Object.assign(state.clients[mac], { state: 'Preauthenticated', download: 0, upload: 0 });
  return [0, `Client ${param} deauthenticated.\n`];
}

function hangForever() {
  setInterval(() => {}, 60_000);
}

function ndsctl(argv) {
  const [command, ...args] = argv;
  let lock;
  try {
    lock = fs.openSync(lockPath, 'wx');
  } catch {
    return finish('ndsctl', argv, 4, 'ndsctl thread is busy, please try later.\n');
  }
  const release = () => {
    try {
      fs.closeSync(lock);
      fs.unlinkSync(lockPath);
    } catch {}
  };
  try {
    const state = readState();
    if (takeFault(state, 'hang')) {
      writeState(state);
      log('ndsctl', argv, 'hang');
      return hangForever();
    }
    if (takeFault(state, 'busy')) {
      writeState(state);
      return finish('ndsctl', argv, 4, 'ndsctl thread is busy, please try later.\n');
    }
    if (takeFault(state, 'fail')) {
      writeState(state);
      return finish('ndsctl', argv, 3, '', 'ndsctl: opennds probably not started (Error: Connection refused)\n');
    }
    let exit = 0;
    let out = '';
    if (command === 'json') {
      const arg = args[0] || '';
      const one = state.dialect === 'opennds' ? arg.length > 6 : arg.length > 0;
      out = one ? jsonOne(state, arg) : jsonAll(state);
    } else if (command === 'auth' || command === 'deauth') {
      if (takeFault(state, command === 'auth' ? 'failAuth' : 'failDeauth')) {
        writeState(state);
        return finish('ndsctl', argv, 2, '', `ndsctl: Error: ${state.dialect} sent an abnormal reply.\n`);
      }
      if (takeFault(state, command === 'auth' ? 'hangAuth' : 'hangDeauth')) {
        writeState(state);
        log('ndsctl', argv, 'hang');
        return hangForever();
      }
      [exit, out] = command === 'auth' ? auth(state, args) : deauth(state, args);
      if (takeFault(state, command === 'auth' ? 'hangAfterAuth' : 'hangAfterDeauth')) {
        writeState(state);
        log('ndsctl', argv, 'hang');
        return hangForever();
      }
    } else {
      return finish('ndsctl', argv, 1, '', `Unknown command: ${command}\n`);
    }
    writeState(state);
    if (state.holdLockMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, state.holdLockMs);
    return finish('ndsctl', argv, exit, out);
  } finally {
    // A hanging ndsctl must not keep the lock: the caller's next attempt would only see "busy".
    release();
  }
}

function authenticated(state) {
  return Object.entries(state.clients).filter(([, c]) => c.state === 'Authenticated');
}

function iptables(argv) {
  const state = readState();
  const chain = argv[argv.indexOf('-L') + 1];
  if (state.firewall !== 'iptables' || !['ndsINC', 'ndsOUT'].includes(chain)) {
    return finish('iptables', argv, 1, '', 'iptables: No chain/target/match by that name.\n');
  }
  const pad = (v, n) => String(v).padStart(n);
  const row = (pkts, bytes, target, src, dst, extra) =>
    `${pad(pkts, 8)} ${pad(bytes, 10)} ${target.padEnd(10)} 0    --  *      *       ${src.padEnd(20)} ${dst.padEnd(20)}${extra ? ' ' + extra : ''}\n`;
  let out = `Chain ${chain} (1 references)\n    pkts      bytes target     prot opt in     out     source               destination         \n`;
  for (const [mac, c] of authenticated(state)) {
    const packets = (bytes) => Math.ceil(bytes / 1400);
    if (chain === 'ndsINC') {
      out += row(packets(c.download), c.download, 'MARK', '0.0.0.0/0', c.ip, 'MARK or 0x30000');
      out += row(packets(c.download), c.download, 'ACCEPT', '0.0.0.0/0', c.ip, '');
    } else {
      out += row(packets(c.upload), c.upload, 'MARK', c.ip, '0.0.0.0/0', `MAC ${mac} MARK or 0x30000`);
    }
  }
  return finish('iptables', argv, 0, out);
}

function nft(argv) {
  const state = readState();
  const chain = argv[argv.length - 1];
  if (state.firewall !== 'nft' || argv[0] !== 'list' || !['ndsINC', 'ndsOUT'].includes(chain)) {
    return finish('nft', argv, 1, '', `Error: No such file or directory\n${argv.join(' ')}\n`);
  }
  const mark = 'meta mark set meta mark | 0x00030000';
  let out = `table ${argv[2]} ${argv[3]} {\n\tchain ${chain} {\n`;
  for (const [mac, c] of authenticated(state).reverse()) {
    const packets = (bytes) => Math.ceil(bytes / 1400);
    out +=
      chain === 'ndsINC'
        ? `\t\tip daddr ${c.ip} counter packets ${packets(c.download)} bytes ${c.download} ${mark}\n`
        : `\t\tip saddr ${c.ip} ether saddr ${mac} counter packets ${packets(c.upload)} bytes ${c.upload} ${mark}\n`;
  }
  if (chain === 'ndsINC') out += '\t\toifname "veth-gw-lan" counter packets 0 bytes 0 jump ndsDLR\n';
  out += '\t}\n}\n';
  return finish('nft', argv, 0, out);
}

module.exports.main = function main(tool) {
  const argv = process.argv.slice(2);
  if (!statePath) {
    process.stderr.write('FAKE_NDSCTL_STATE is not set\n');
    process.exitCode = 99;
    return;
  }
  // The test's cleanup kills fakes still running (a hanging ndsctl, or one orphaned by a SIGKILLed
  // engine) by these files, so none writes into a directory being removed.
  const pidPath = `${statePath}.pid.${process.pid}`;
  fs.writeFileSync(pidPath, '');
  process.on('exit', () => {
    try {
      fs.unlinkSync(pidPath);
    } catch {}
  });
  ({ ndsctl, iptables, nft })[tool](argv);
};

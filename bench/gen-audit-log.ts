// Deterministic (seeded) generator of a realistic audit.log, as auditd writes it to disk (no EOE records).
//
//   node bench/gen-audit-log.ts [--lines 1000000] [--seed 1] [--out bench/.out/audit-1000000-s1.log]
//
// Writes the log and, beside it, `<out>.truth.json` with the known truth (lines, records, events,
// denials, SELinux events, per-type counts) so benches and tests can check a parser's totals.
//
// Content: SYSCALL+EXECVE+CWD+PATH+PATH+PROCTITLE exec groups, open/connect groups (PATH, SOCKADDR),
// AVC groups with 1-4 AVC records (+SYSCALL+CWD+PATH+PROCTITLE), AVC-only packet denials, USER_AVC,
// USER_* / CRED_* PAM records, MAC_POLICY_LOAD / MAC_STATUS / MAC_CONFIG_CHANGE and SELINUX_ERR groups,
// about 3% of multi-record events interleaved with the next one, hex-encoded values (proctitle, args with
// spaces, comm/exe/name with spaces, sudo cmd), and a `node=` prefix on part of the events (each node has
// its own serial counter, so the same serial appears under different nodes).
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface GenOptions {
  lines: number;
  seed: number;
  out: string;
}

export interface GenTruth {
  generator: 'avcstream bench/gen-audit-log.ts v1';
  seed: number;
  lines: number;
  bytes: number;
  /** One record per line. */
  records: number;
  events: number;
  /** Events holding an AVC, USER_AVC, SELINUX_ERR, USER_SELINUX_ERR or MAC_* record. */
  selinuxEvents: number;
  /** AVC + USER_AVC records with `denied`. */
  denials: number;
  /** AVC + USER_AVC records with `granted`. */
  grants: number;
  /** Events whose records were interleaved with another event's. */
  interleavedEvents: number;
  /** Events carrying a `node=` prefix. */
  nodeEvents: number;
  recordTypes: Record<string, number>;
}

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The kernel's rule: a value with `"`, a byte < 0x21 or > 0x7e is logged as upper-case hex, else quoted. */
function enc(v: string): string {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 34 || c < 0x21 || c > 0x7e) return Buffer.from(v, 'utf8').toString('hex').toUpperCase();
  }
  return `"${v}"`;
}

function hexArgv(argv: string[]): string {
  return Buffer.from(argv.join('\0'), 'utf8').toString('hex').toUpperCase();
}

interface Proc {
  comm: string;
  exe: string;
  argv: string[];
  subj: string;
  cwd: string;
}

const USERS = [
  { name: 'alice', uid: 1000 },
  { name: 'bob', uid: 1001 },
  { name: 'carol', uid: 1002 },
  { name: 'deploy', uid: 1500 },
  { name: 'root', uid: 0 },
];

const UNCONFINED = 'unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023';
const EXECS: Proc[] = [
  {
    comm: 'ls',
    exe: '/usr/bin/ls',
    argv: ['ls', '--color=auto', '-la'],
    subj: UNCONFINED,
    cwd: '/home/alice',
  },
  { comm: 'cat', exe: '/usr/bin/cat', argv: ['cat', '/etc/os-release'], subj: UNCONFINED, cwd: '/root' },
  {
    comm: 'grep',
    exe: '/usr/bin/grep',
    argv: ['grep', '-r', 'needle in a haystack', '.'],
    subj: UNCONFINED,
    cwd: '/srv/app',
  },
  {
    comm: 'bash',
    exe: '/usr/bin/bash',
    argv: ['bash', '-c', 'echo "hello world" > /tmp/out'],
    subj: UNCONFINED,
    cwd: '/tmp',
  },
  {
    comm: 'python3',
    exe: '/usr/bin/python3.11',
    argv: ['python3', '/opt/app/worker.py', '--queue', 'jobs'],
    subj: 'system_u:system_r:unconfined_service_t:s0',
    cwd: '/opt/app',
  },
  {
    comm: 'systemctl',
    exe: '/usr/bin/systemctl',
    argv: ['systemctl', 'status', 'httpd.service'],
    subj: UNCONFINED,
    cwd: '/',
  },
  {
    comm: 'sshd',
    exe: '/usr/sbin/sshd',
    argv: ['sshd: alice [priv]'],
    subj: 'system_u:system_r:sshd_t:s0-s0:c0.c1023',
    cwd: '/',
  },
  {
    comm: 'crond',
    exe: '/usr/sbin/crond',
    argv: ['/usr/sbin/crond', '-n'],
    subj: 'system_u:system_r:crond_t:s0-s0:c0.c1023',
    cwd: '/',
  },
  {
    comm: 'my tool',
    exe: '/opt/my tools/bin/tool',
    argv: ['/opt/my tools/bin/tool', '--flag'],
    subj: UNCONFINED,
    cwd: '/opt/my tools',
  },
  {
    comm: 'rpm',
    exe: '/usr/bin/rpm',
    argv: ['rpm', '-qa'],
    subj: 'unconfined_u:unconfined_r:rpm_t:s0-s0:c0.c1023',
    cwd: '/root',
  },
];

interface DenialKind {
  comm: string;
  exe: string;
  scontext: string;
  tcontext: string;
  tclass: string;
  perms: string[][];
  /** Object fields after `for  pid=N comm=...` */
  obj: (r: () => number) => string;
  syscall: number;
  path?: string;
}

const DENIALS: DenialKind[] = [
  {
    comm: 'httpd',
    exe: '/usr/sbin/httpd',
    scontext: 'system_u:system_r:httpd_t:s0',
    tcontext: 'unconfined_u:object_r:user_home_t:s0',
    tclass: 'file',
    perms: [['read'], ['open'], ['getattr']],
    obj: (r) => `name="index.html" dev="dm-0" ino=${100000 + Math.floor(r() * 900000)}`,
    syscall: 257,
    path: '/home/alice/public_html/index.html',
  },
  {
    comm: 'httpd',
    exe: '/usr/sbin/httpd',
    scontext: 'system_u:system_r:httpd_t:s0',
    tcontext: 'system_u:object_r:postgresql_port_t:s0',
    tclass: 'tcp_socket',
    perms: [['name_connect']],
    obj: () => 'dest=5432',
    syscall: 42,
  },
  {
    comm: 'nginx',
    exe: '/usr/sbin/nginx',
    scontext: 'system_u:system_r:httpd_t:s0',
    tcontext: 'system_u:object_r:var_t:s0',
    tclass: 'dir',
    perms: [['search'], ['write', 'add_name'], ['create']],
    obj: (r) => `name="cache dir" dev="dm-0" ino=${200000 + Math.floor(r() * 100000)}`,
    syscall: 257,
    path: '/var/cache dir/nginx',
  },
  {
    comm: 'sshd',
    exe: '/usr/sbin/sshd',
    scontext: 'system_u:system_r:sshd_t:s0-s0:c0.c1023',
    tcontext: 'system_u:object_r:user_tmp_t:s0',
    tclass: 'sock_file',
    perms: [['write']],
    obj: () => 'name="agent.sock" dev="tmpfs" ino=4242',
    syscall: 42,
  },
  {
    comm: 'postgres',
    exe: '/usr/bin/postgres',
    scontext: 'system_u:system_r:postgresql_t:s0',
    tcontext: 'system_u:object_r:default_t:s0',
    tclass: 'file',
    perms: [['read', 'write'], ['open'], ['lock'], ['getattr']],
    obj: (r) => `path="/data/pg/base/${Math.floor(r() * 99999)}" dev="sdb1" ino=${Math.floor(r() * 1e6)}`,
    syscall: 257,
    path: '/data/pg/base/16384',
  },
  {
    comm: 'logrotate',
    exe: '/usr/sbin/logrotate',
    scontext: 'system_u:system_r:logrotate_t:s0-s0:c0.c1023',
    tcontext: 'system_u:object_r:admin_home_t:s0',
    tclass: 'dir',
    perms: [['read'], ['getattr']],
    obj: () => 'name="/" dev="dm-0" ino=128',
    syscall: 262,
  },
];

const PAM_SEQUENCE = [
  'USER_AUTH',
  'USER_ACCT',
  'CRED_ACQ',
  'USER_LOGIN',
  'USER_START',
  'CRED_REFR',
  'USER_END',
  'CRED_DISP',
];
const SELINUX_TYPES = new Set(['AVC', 'USER_AVC', 'SELINUX_ERR', 'USER_SELINUX_ERR']);

export function generateAuditLog(opts: GenOptions): GenTruth {
  const r = prng(opts.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

  const truth: GenTruth = {
    generator: 'avcstream bench/gen-audit-log.ts v1',
    seed: opts.seed,
    lines: 0,
    bytes: 0,
    records: 0,
    events: 0,
    selinuxEvents: 0,
    denials: 0,
    grants: 0,
    interleavedEvents: 0,
    nodeEvents: 0,
    recordTypes: {},
  };

  mkdirSync(dirname(opts.out), { recursive: true });
  const fd = openSync(opts.out, 'w');
  let buf: string[] = [];
  let bufLen = 0;
  const flush = () => {
    if (buf.length === 0) return;
    const data = Buffer.from(buf.join(''), 'utf8');
    writeSync(fd, data);
    truth.bytes += data.length;
    buf = [];
    bufLen = 0;
  };

  // Event time: start 2025-11-22T08:26:40Z and advance 0..2 ms per event.
  let ms = 1_763_800_000_000;
  const serials = new Map<string, number>();
  const nodes = ['', '', '', 'web-01', 'web-02', 'db-01.example.com'];

  // One event = a list of lines (without newline). Records are counted when written.
  const emitEvent = (lines: string[]) => {
    for (const l of lines) {
      buf.push(l, '\n');
      bufLen += l.length + 1;
    }
    if (bufLen > 4 << 20) flush();
  };

  const countEvent = (types: string[], node: string, denials: number, grants: number) => {
    truth.events++;
    truth.records += types.length;
    truth.lines += types.length;
    truth.denials += denials;
    truth.grants += grants;
    if (node) truth.nodeEvents++;
    let selinux = false;
    for (const t of types) {
      truth.recordTypes[t] = (truth.recordTypes[t] ?? 0) + 1;
      if (SELINUX_TYPES.has(t) || t.startsWith('MAC_')) selinux = true;
    }
    if (selinux) truth.selinuxEvents++;
  };

  const makeEvent = (): string[] => {
    ms += int(0, 2);
    const node = pick(nodes);
    const serial = (serials.get(node) ?? 1000 + nodes.indexOf(node) * 7) + 1;
    serials.set(node, serial);
    const stamp = `msg=audit(${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}:${serial}):`;
    const pre = node ? `node=${node} ` : '';
    const types: string[] = [];
    const lines: string[] = [];
    let denials = 0;
    let grants = 0;
    const rec = (type: string, body: string) => {
      types.push(type);
      lines.push(`${pre}type=${type} ${stamp} ${body}`);
    };
    const user = pick(USERS);
    const ses = user.uid === 0 && r() < 0.5 ? 4294967295 : int(1, 40);
    const auid = ses === 4294967295 ? 4294967295 : user.uid;
    const pid = int(300, 4_000_000);
    const ids = (uid: number) =>
      `ppid=${int(1, 300000)} pid=${pid} auid=${auid} uid=${uid} gid=${uid} euid=${uid} suid=${uid} fsuid=${uid} egid=${uid} sgid=${uid} fsgid=${uid}`;
    const syscall = (
      nr: number,
      exit: number,
      items: number,
      p: { comm: string; exe: string; subj: string },
    ) =>
      rec(
        'SYSCALL',
        `arch=c000003e syscall=${nr} success=${exit < 0 ? 'no' : 'yes'} exit=${exit} a0=${int(1, 0xffffff).toString(16)} a1=${int(0, 0xffffffff).toString(16)} a2=${int(0, 0x1ff).toString(16)} a3=0 items=${items} ${ids(user.uid)} tty=${ses === 4294967295 ? '(none)' : `pts${int(0, 9)}`} ses=${ses} comm=${enc(p.comm)} exe=${enc(p.exe)} subj=${p.subj} key=${r() < 0.7 ? '(null)' : enc(pick(['exec', 'identity', 'perm_mod', 'access']))}`,
      );
    const pathRec = (item: number, name: string, mode: string, obj: string, nametype = 'NORMAL') =>
      rec(
        'PATH',
        `item=${item} name=${enc(name)} inode=${int(100, 9_999_999)} dev=fd:0${int(0, 3)} mode=${mode} ouid=0 ogid=0 rdev=00:00 obj=${obj} nametype=${nametype} cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0`,
      );
    const proctitle = (argv: string[]) =>
      rec('PROCTITLE', `proctitle=${argv.length === 1 ? enc(argv[0]!) : hexArgv(argv)}`);

    const roll = r();
    if (roll < 0.4) {
      // exec
      const p = pick(EXECS);
      syscall(59, 0, 2, p);
      rec('EXECVE', `argc=${p.argv.length} ${p.argv.map((a, i) => `a${i}=${enc(a)}`).join(' ')}`);
      rec('CWD', `cwd=${enc(p.cwd)}`);
      pathRec(0, p.exe, '0100755', 'system_u:object_r:bin_t:s0');
      pathRec(1, '/lib64/ld-linux-x86-64.so.2', '0100755', 'system_u:object_r:ld_so_t:s0');
      proctitle(p.argv);
    } else if (roll < 0.55) {
      // open, sometimes failing
      const p = pick(EXECS);
      const fail = r() < 0.2;
      syscall(257, fail ? pick([-13, -2, -1]) : int(3, 40), 1, p);
      rec('CWD', `cwd=${enc(p.cwd)}`);
      pathRec(
        0,
        pick(['/etc/shadow', '/etc/passwd', '/var/log/messages', '/home/alice/My Documents/notes.txt']),
        pick(['0100640', '0100644', '0100600']),
        'system_u:object_r:etc_t:s0',
      );
      proctitle(p.argv);
    } else if (roll < 0.6) {
      // connect + SOCKADDR
      const p = pick(EXECS);
      syscall(42, pick([0, -115, -111]), 0, p);
      const fam = r();
      let saddr: string;
      if (fam < 0.6)
        saddr = `0200${int(1, 65535).toString(16).padStart(4, '0')}0a00${int(0, 255).toString(16).padStart(2, '0')}${int(1, 254).toString(16).padStart(2, '0')}0000000000000000`;
      else if (fam < 0.8)
        saddr = `0a00${int(1, 65535).toString(16).padStart(4, '0')}0000000020010db8000000000000000000000${int(1, 9)}00000000`;
      else saddr = `0100${Buffer.from('/run/systemd/journal/socket').toString('hex')}00`;
      rec('SOCKADDR', `saddr=${saddr.toUpperCase()}`);
      proctitle(p.argv);
    } else if (roll < 0.7) {
      // AVC group: several AVC records + SYSCALL (+CWD+PATH) + PROCTITLE
      const d = pick(DENIALS);
      const n = int(1, d.perms.length);
      const granted = r() < 0.05;
      for (let i = 0; i < n; i++) {
        rec(
          'AVC',
          `avc:  ${granted ? 'granted' : 'denied'}  { ${d.perms[i]!.join(' ')} } for  pid=${pid} comm=${enc(d.comm)} ${d.obj(r)} scontext=${d.scontext} tcontext=${d.tcontext} tclass=${d.tclass} permissive=${r() < 0.1 ? 1 : 0}`,
        );
        if (granted) grants++;
        else denials++;
      }
      syscall(d.syscall, granted ? 0 : -13, d.path ? 1 : 0, { comm: d.comm, exe: d.exe, subj: d.scontext });
      if (d.path) {
        rec('CWD', 'cwd="/"');
        pathRec(0, d.path, '0100644', d.tcontext);
      }
      proctitle([d.exe, '-DFOREGROUND']);
    } else if (roll < 0.72) {
      // AVC-only packet denial (no SYSCALL: completes only by time or at end of input)
      rec(
        'AVC',
        `avc:  denied  { recv } for  saddr=10.0.${int(0, 9)}.${int(1, 254)} src=${int(1024, 65535)} daddr=10.0.0.1 dest=22 netif=eth0 scontext=system_u:system_r:sshd_t:s0-s0:c0.c1023 tcontext=system_u:object_r:unlabeled_t:s0 tclass=packet permissive=1`,
      );
      denials++;
    } else if (roll < 0.75) {
      // USER_AVC from systemd / dbus
      const granted = r() < 0.1;
      rec(
        'USER_AVC',
        `pid=1 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:init_t:s0 msg='avc:  ${granted ? 'granted' : 'denied'}  { ${pick(['start', 'stop', 'status', 'reload'])} } for auid=${user.uid} uid=0 gid=0 path="/usr/lib/systemd/system/${pick(['httpd', 'foo', 'backup'])}.service" cmdline="/usr/bin/systemctl restart foo" function="mac_selinux_filter" scontext=${UNCONFINED} tcontext=system_u:object_r:systemd_unit_file_t:s0 tclass=service permissive=0 exe="/usr/lib/systemd/systemd" sauid=0 hostname=? addr=? terminal=?'`,
      );
      if (granted) grants++;
      else denials++;
    } else if (roll < 0.99) {
      // PAM / sudo user-space records: one record per event
      const t = r() < 0.1 ? 'USER_CMD' : pick(PAM_SEQUENCE);
      const host = `192.168.${int(0, 3)}.${int(1, 254)}`;
      const base = `pid=${pid} uid=0 auid=${auid} ses=${ses} subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 msg='`;
      let body: string;
      if (t === 'USER_CMD') {
        body = `cwd="/home/${user.name}" cmd=${hexArgv([pick(['systemctl restart httpd', 'cat /var/log/secure', 'setenforce 1'])])} exe="/usr/bin/sudo" terminal=pts/${int(0, 9)} res=success'`;
      } else if (t === 'USER_LOGIN') {
        body = `op=login id=${user.uid} exe="/usr/sbin/sshd" hostname=${host} addr=${host} terminal=/dev/pts/${int(0, 9)} res=${r() < 0.9 ? 'success' : 'failed'}'`;
      } else {
        const op =
          t === 'USER_AUTH'
            ? 'PAM:authentication'
            : t === 'USER_ACCT'
              ? 'PAM:accounting'
              : t.startsWith('CRED')
                ? 'PAM:setcred'
                : t === 'USER_START'
                  ? 'PAM:session_open'
                  : 'PAM:session_close';
        body = `op=${op} grantors=pam_unix,pam_localuser acct="${user.name}" exe="/usr/sbin/sshd" hostname=${host} addr=${host} terminal=ssh res=success'`;
      }
      rec(t, base + body);
    } else {
      // MAC_* and SELINUX_ERR groups
      const k = r();
      if (k < 0.3) {
        rec('MAC_POLICY_LOAD', `auid=4294967295 ses=4294967295 lsm=selinux res=1`);
        syscall(1, 3_500_000, 0, {
          comm: 'load_policy',
          exe: '/usr/sbin/load_policy',
          subj: 'system_u:system_r:load_policy_t:s0',
        });
        proctitle(['/usr/sbin/load_policy']);
      } else if (k < 0.55) {
        const on = r() < 0.5 ? 1 : 0;
        rec(
          'MAC_STATUS',
          `enforcing=${on} old_enforcing=${1 - on} auid=${user.uid} ses=${ses} enabled=1 old-enabled=1 lsm=selinux res=1`,
        );
        syscall(1, 1, 0, { comm: 'setenforce', exe: '/usr/sbin/setenforce', subj: UNCONFINED });
        proctitle(['setenforce', String(on)]);
      } else if (k < 0.85) {
        const b = pick([
          'httpd_can_network_connect',
          'httpd_can_network_connect_db',
          'httpd_read_user_content',
        ]);
        rec('MAC_CONFIG_CHANGE', `bool=${b} val=1 old_val=0 auid=${user.uid} ses=${ses}`);
        syscall(1, 2, 0, { comm: 'setsebool', exe: '/usr/sbin/setsebool', subj: UNCONFINED });
        proctitle(['setsebool', '-P', b, '1']);
      } else {
        rec(
          'SELINUX_ERR',
          `op=security_compute_sid invalid_context="system_u:system_r:foo_t:s0" scontext=system_u:system_r:init_t:s0 tcontext=system_u:object_r:foo_exec_t:s0 tclass=process`,
        );
        syscall(59, -22, 1, {
          comm: 'systemd',
          exe: '/usr/lib/systemd/systemd',
          subj: 'system_u:system_r:init_t:s0',
        });
        proctitle(['/usr/lib/systemd/systemd', '--switched-root', '--system']);
      }
    }
    countEvent(types, node, denials, grants);
    return lines;
  };

  let held: string[] | null = null;
  while (truth.lines < opts.lines) {
    const ev = makeEvent();
    if (held !== null && ev.length > 1) {
      // Interleave two events record by record: the held one started first.
      const mixed: string[] = [];
      for (let i = 0; i < Math.max(held.length, ev.length); i++) {
        if (i < held.length) mixed.push(held[i]!);
        if (i < ev.length) mixed.push(ev[i]!);
      }
      emitEvent(mixed);
      truth.interleavedEvents += 2;
      held = null;
    } else if (held === null && ev.length > 1 && r() < 0.03) {
      held = ev;
    } else {
      emitEvent(ev);
    }
  }
  if (held !== null) emitEvent(held);
  flush();
  closeSync(fd);
  writeFileSync(`${opts.out}.truth.json`, `${JSON.stringify(truth, null, 2)}\n`);
  return truth;
}

function parseArgs(argv: string[]): GenOptions {
  let lines = 1_000_000;
  let seed = 1;
  let out = '';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--lines' && v) {
      lines = Number(v);
      i++;
    } else if (a === '--seed' && v) {
      seed = Number(v);
      i++;
    } else if (a === '--out' && v) {
      out = v;
      i++;
    } else {
      throw new Error(
        `usage: gen-audit-log.ts [--lines N] [--seed S] [--out FILE] (bad argument ${JSON.stringify(a)})`,
      );
    }
  }
  if (!Number.isInteger(lines) || lines < 1 || !Number.isInteger(seed))
    throw new Error('--lines and --seed take integers');
  const here = dirname(fileURLToPath(import.meta.url));
  return { lines, seed, out: resolve(out || `${here}/.out/audit-${lines}-s${seed}.log`) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const truth = generateAuditLog(opts);
  process.stdout.write(
    `${JSON.stringify({ out: opts.out, ms: Date.now() - t0, ...truth, recordTypes: undefined })}\n`,
  );
}

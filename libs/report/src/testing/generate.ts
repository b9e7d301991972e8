// Seeded generator of audit.log text with known truth, for report tests (`@avcstream/report/testing`).
// Every record is written in the raw kernel/auditd format; nothing is copied from real hosts.

export interface GenerateOptions {
  seed: number;
  /** Events to write (default 400). */
  events?: number;
  /** Host names written as `node=`; an empty list writes no node prefix (default three hosts). */
  hosts?: string[];
  /** First event time, epoch seconds (default 1_763_800_000). */
  start?: number;
  /** Add events whose comm, exe and path carry HTML/script and control characters (default false). */
  hostile?: boolean;
  /** Add unparseable lines between events (default true). */
  malformed?: boolean;
}

export interface GeneratedTruth {
  statistics: {
    totalMessages: number;
    policyLoads: number;
    enforcementToggles: number;
    booleanChanges: number;
    allowMessages: number;
    deniedMessages: number;
    hosts: number;
    malformed: number;
    firstEvent: string | null;
    lastEvent: string | null;
    /** The generator writes no USER_MAC_CONFIG_CHANGE: always 0. */
    configChanges: number;
    /** No filter: always 0. */
    malformedUnfiltered: number;
  };
  policyLoads: Array<{ time: string; host: string; auid: string; type: 'MAC_POLICY_LOAD'; exe: string }>;
  enforcementToggles: Array<{ time: string; host: string; old: number; new: number; auid: string }>;
  booleanChanges: Array<{
    time: string;
    host: string;
    boolean: string;
    old: number;
    new: number;
    auid: string;
  }>;
  /** Granted AVC records in log order: host and permission. */
  allowListing: Array<{ time: string; host: string; perms: string[] }>;
  /** Denied records per signature key `stype|ttype|class|sorted perms joined by space`. */
  denyGroups: Record<string, { count: number; hosts: string[]; firstSeen: string; lastSeen: string }>;
  /** Figures `aureport` reports for the same file. */
  aureport: {
    /** `Number of AVC's`: events holding a kernel AVC record (granted or denied); USER_AVC excluded. */
    avcEvents: number;
    /** `Number of MAC events`: events holding MAC_POLICY_LOAD, MAC_STATUS or MAC_CONFIG_CHANGE. */
    macEvents: number;
  };
  /** Events written (not counting malformed lines). */
  events: number;
}

export interface Generated {
  text: string;
  truth: GeneratedTruth;
}

/** mulberry32: small, fast, good enough for fixtures. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex').toUpperCase();

interface DenialShape {
  scontext: string;
  tcontext: string;
  tclass: string;
  perms: string[];
  comm: string;
  exe: string;
  path: string | null;
  syscall: number;
}

const DENIALS: DenialShape[] = [
  {
    scontext: 'system_u:system_r:httpd_t:s0',
    tcontext: 'unconfined_u:object_r:user_home_t:s0',
    tclass: 'file',
    perms: ['read'],
    comm: 'httpd',
    exe: '/usr/sbin/httpd',
    path: '/home/alice/public_html/index.html',
    syscall: 257,
  },
  {
    scontext: 'system_u:system_r:httpd_t:s0',
    tcontext: 'unconfined_u:object_r:user_home_t:s0',
    tclass: 'dir',
    perms: ['getattr'],
    comm: 'httpd',
    exe: '/usr/sbin/httpd',
    path: '/home/alice/public_html',
    syscall: 262,
  },
  {
    scontext: 'system_u:system_r:httpd_t:s0',
    tcontext: 'system_u:object_r:unreserved_port_t:s0',
    tclass: 'tcp_socket',
    perms: ['name_connect'],
    comm: 'php-fpm',
    exe: '/usr/sbin/php-fpm',
    path: null,
    syscall: 42,
  },
  {
    scontext: 'system_u:system_r:sshd_t:s0-s0:c0.c1023',
    tcontext: 'system_u:object_r:shadow_t:s0',
    tclass: 'file',
    perms: ['open', 'read'],
    comm: 'sshd',
    exe: '/usr/sbin/sshd',
    path: '/etc/shadow',
    syscall: 257,
  },
  {
    scontext: 'system_u:system_r:ntpd_t:s0',
    tcontext: 'system_u:object_r:var_log_t:s0',
    tclass: 'file',
    perms: ['write'],
    comm: 'ntpd',
    exe: '/usr/sbin/ntpd',
    path: '/var/log/ntp.log',
    syscall: 1,
  },
  {
    scontext: 'system_u:system_r:postfix_smtpd_t:s0',
    tcontext: 'system_u:object_r:etc_t:s0',
    tclass: 'file',
    perms: ['write'],
    comm: 'smtpd',
    exe: '/usr/libexec/postfix/smtpd',
    path: '/etc/aliases.db',
    syscall: 257,
  },
  {
    scontext: 'unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023',
    tcontext: 'system_u:system_r:sshd_t:s0-s0:c0.c1023',
    tclass: 'process',
    perms: ['ptrace'],
    comm: 'strace',
    exe: '/usr/bin/strace',
    path: null,
    syscall: 101,
  },
];

const BOOLEANS = ['httpd_can_network_connect', 'httpd_read_user_content', 'ssh_sysadm_login', 'deny_ptrace'];

export function generateAuditLog(options: GenerateOptions): Generated {
  const rand = rng(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const hosts = options.hosts ?? ['web01', 'db01', 'bastion'];
  const total = options.events ?? 400;
  let sec = options.start ?? 1_763_800_000;
  const lines: string[] = [];
  const serials = new Map<string, number>();
  const enforcing = new Map<string, number>();
  const boolState = new Map<string, number>();
  const hostsWithSelinux = new Set<string>();

  const truth: GeneratedTruth = {
    statistics: {
      totalMessages: 0,
      policyLoads: 0,
      enforcementToggles: 0,
      booleanChanges: 0,
      allowMessages: 0,
      deniedMessages: 0,
      hosts: 0,
      malformed: 0,
      firstEvent: null,
      lastEvent: null,
      configChanges: 0,
      malformedUnfiltered: 0,
    },
    policyLoads: [],
    enforcementToggles: [],
    booleanChanges: [],
    allowListing: [],
    denyGroups: {},
    aureport: { avcEvents: 0, macEvents: 0 },
    events: 0,
  };
  const hostName = (h: string) => (h === '' ? 'localhost' : h);

  function selinuxSeen(host: string, time: string): void {
    truth.statistics.totalMessages++;
    hostsWithSelinux.add(host);
    truth.statistics.firstEvent ??= time;
    truth.statistics.lastEvent = time;
  }

  for (let i = 0; i < total; i++) {
    sec += 1 + Math.floor(rand() * 40);
    const msec = Math.floor(rand() * 1000);
    const host = hosts.length === 0 ? '' : pick(hosts);
    const serial = (serials.get(host) ?? 1000) + 1;
    serials.set(host, serial);
    const time = new Date(sec * 1000 + msec).toISOString();
    const head = (type: string) =>
      `${host === '' ? '' : `node=${host} `}type=${type} msg=audit(${sec}.${String(msec).padStart(3, '0')}:${serial}): `;
    const pid = 1000 + Math.floor(rand() * 30000);
    const syscall = (nr: number, ok: boolean, comm: string, exe: string, auid: string, subj: string) =>
      head('SYSCALL') +
      `arch=c000003e syscall=${nr} success=${ok ? 'yes' : 'no'} exit=${ok ? 0 : -13} a0=3 a1=7ffd2a1c a2=0 a3=0 ` +
      `items=${ok ? 0 : 1} ppid=1 pid=${pid} auid=${auid} uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 ` +
      `fsgid=0 tty=(none) ses=4 comm="${comm}" exe="${exe}" subj=${subj} key=(null)`;
    const proctitle = (argv: string) =>
      `${head('PROCTITLE')}proctitle=${argv.split(' ').map(hex).join('00')}`;
    const h = hostName(host);
    truth.events++;

    const r = rand();
    const hostileTurn = options.hostile === true && i % 50 === 7;
    if (hostileTurn || r < 0.5) {
      // Denied kernel AVC(s) with SYSCALL, PATH, PROCTITLE.
      const d = pick(DENIALS);
      let comm = `"${d.comm}"`;
      let exe = d.exe;
      let pathField = d.path === null ? '' : ` path="${d.path}"`;
      let pathValue = d.path;
      if (hostileTurn) {
        // comm as the kernel writes a plain value; exe and path hex-encoded as auditd does for specials.
        comm =
          i % 100 === 7
            ? '"<script>window.__pwned=1</script>"'
            : hex('</td><script>window.__pwned=2</script>');
        exe = `/tmp/x"><img src=x onerror="window.__pwned=3">`;
        pathValue = '/srv/a b/</td></tr></table><script>window.__pwned=4</script>\u001b[2J\u202etxt.exe';
        pathField = ` path=${hex(pathValue)}`;
      }
      const avcCount = rand() < 0.1 ? 2 : 1;
      for (let k = 0; k < avcCount; k++) {
        const perms = k === 0 ? d.perms : ['getattr'];
        lines.push(
          head('AVC') +
            `avc:  denied  { ${perms.join(' ')} } for  pid=${pid} comm=${comm}${pathField} dev="dm-0" ino=${4000 + i + k * 100000} ` +
            `scontext=${d.scontext} tcontext=${d.tcontext} tclass=${d.tclass} permissive=0`,
        );
        const stype = d.scontext.split(':')[2] as string;
        const ttype = d.tcontext.split(':')[2] as string;
        const key = `${stype}|${ttype}|${d.tclass}|${[...new Set(perms)].sort().join(' ')}`;
        const g = truth.denyGroups[key] ?? { count: 0, hosts: [], firstSeen: time, lastSeen: time };
        g.count++;
        g.lastSeen = time;
        if (!g.hosts.includes(h)) g.hosts.push(h);
        truth.denyGroups[key] = g;
        truth.statistics.deniedMessages++;
        selinuxSeen(h, time);
      }
      truth.aureport.avcEvents++;
      const exeField = hostileTurn ? hex(exe) : `"${exe}"`;
      lines.push(
        syscall(d.syscall, false, d.comm, d.exe, '4294967295', d.scontext).replace(
          `exe="${d.exe}"`,
          `exe=${exeField}`,
        ),
      );
      if (pathValue !== null) {
        const name =
          /^[\x21-\x7e]+$/.test(pathValue) && !pathValue.includes('"') ? `"${pathValue}"` : hex(pathValue);
        lines.push(
          head('PATH') +
            `item=0 name=${name} inode=${4000 + i} dev=fd:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 ` +
            `obj=${d.tcontext} nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0`,
        );
      }
      lines.push(proctitle(d.exe));
    } else if (r < 0.55) {
      // Granted AVC (setenforce / setbool style auditallow).
      const perm = pick(['setenforce', 'setbool', 'load_policy']);
      const ctx = 'unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023';
      lines.push(
        head('AVC') +
          `avc:  granted  { ${perm} } for  pid=${pid} comm="semanage" scontext=${ctx} ` +
          'tcontext=system_u:object_r:security_t:s0 tclass=security',
      );
      lines.push(syscall(1, true, 'semanage', '/usr/bin/python3.11', '1000', ctx));
      lines.push(proctitle('/usr/bin/semanage'));
      truth.statistics.allowMessages++;
      truth.aureport.avcEvents++;
      truth.allowListing.push({ time, host: h, perms: [perm] });
      selinuxSeen(h, time);
    } else if (r < 0.6) {
      // USER_AVC denial from systemd.
      const sctx = 'system_u:system_r:init_t:s0';
      lines.push(
        head('USER_AVC') +
          `pid=1 uid=0 auid=4294967295 ses=4294967295 subj=${sctx} msg='avc:  denied  { status } for auid=1000 ` +
          `uid=0 gid=0 cmdline="/usr/bin/systemctl status" scontext=unconfined_u:unconfined_r:unconfined_t:s0 ` +
          `tcontext=${sctx} tclass=system permissive=0 exe="/usr/lib/systemd/systemd" sauid=0 hostname=? addr=? terminal=?'`,
      );
      const key = 'unconfined_t|init_t|system|status';
      const g = truth.denyGroups[key] ?? { count: 0, hosts: [], firstSeen: time, lastSeen: time };
      g.count++;
      g.lastSeen = time;
      if (!g.hosts.includes(h)) g.hosts.push(h);
      truth.denyGroups[key] = g;
      truth.statistics.deniedMessages++;
      selinuxSeen(h, time);
    } else if (r < 0.63) {
      lines.push(`${head('MAC_POLICY_LOAD')}auid=0 ses=4 lsm=selinux res=1`);
      lines.push(
        syscall(1, true, 'load_policy', '/usr/sbin/load_policy', '0', 'system_u:system_r:load_policy_t:s0'),
      );
      lines.push(proctitle('/usr/sbin/load_policy'));
      truth.statistics.policyLoads++;
      truth.aureport.macEvents++;
      truth.policyLoads.push({
        time,
        host: h,
        auid: '0',
        type: 'MAC_POLICY_LOAD',
        exe: '/usr/sbin/load_policy',
      });
      selinuxSeen(h, time);
    } else if (r < 0.66) {
      const old = enforcing.get(h) ?? 1;
      const next = 1 - old;
      enforcing.set(h, next);
      lines.push(
        `${head('MAC_STATUS')}enforcing=${next} old_enforcing=${old} auid=1000 ses=4 enabled=1 old-enabled=1 lsm=selinux res=1`,
      );
      lines.push(
        syscall(
          1,
          true,
          'setenforce',
          '/usr/sbin/setenforce',
          '1000',
          'unconfined_u:unconfined_r:unconfined_t:s0',
        ),
      );
      lines.push(proctitle('setenforce 0'));
      truth.statistics.enforcementToggles++;
      truth.aureport.macEvents++;
      truth.enforcementToggles.push({ time, host: h, old, new: next, auid: '1000' });
      selinuxSeen(h, time);
    } else if (r < 0.69) {
      const b = pick(BOOLEANS);
      const bk = `${h}/${b}`;
      const old = boolState.get(bk) ?? 0;
      const next = 1 - old;
      boolState.set(bk, next);
      lines.push(`${head('MAC_CONFIG_CHANGE')}bool=${b} val=${next} old_val=${old} auid=1000 ses=4`);
      lines.push(
        syscall(
          1,
          true,
          'setsebool',
          '/usr/sbin/setsebool',
          '1000',
          'unconfined_u:unconfined_r:unconfined_t:s0',
        ),
      );
      lines.push(proctitle(`setsebool ${b} ${next}`));
      truth.statistics.booleanChanges++;
      truth.aureport.macEvents++;
      truth.booleanChanges.push({ time, host: h, boolean: b, old, new: next, auid: '1000' });
      selinuxSeen(h, time);
    } else if (r < 0.71) {
      lines.push(
        head('SELINUX_ERR') +
          'op=security_compute_sid invalid_context="system_u:system_r:bogus_t:s0" ' +
          'scontext=system_u:system_r:init_t:s0 tcontext=system_u:object_r:bin_t:s0 tclass=process',
      );
      lines.push(
        syscall(
          59,
          false,
          'systemd',
          '/usr/lib/systemd/systemd',
          '4294967295',
          'system_u:system_r:init_t:s0',
        ),
      );
      lines.push(proctitle('/usr/lib/systemd/systemd'));
      selinuxSeen(h, time);
    } else {
      // Non-SELinux noise: an execve.
      const cmd = pick(['/usr/bin/ls', '/usr/bin/cat', '/usr/bin/id']);
      lines.push(syscall(59, true, cmd.slice(9), cmd, '1000', 'unconfined_u:unconfined_r:unconfined_t:s0'));
      lines.push(`${head('EXECVE')}argc=1 a0="${cmd.slice(9)}"`);
      lines.push(`${head('CWD')}cwd="/root"`);
      lines.push(
        `${head('PATH')}item=0 name="${cmd}" inode=77 dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 ` +
          'obj=system_u:object_r:bin_t:s0 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0',
      );
      lines.push(proctitle(cmd));
    }
    if (options.malformed !== false && rand() < 0.02) {
      lines.push(
        pick(['this is not an audit record', 'type=AVC msg=audit(17638', 'garbage\u0001\u0002 line']),
      );
      truth.statistics.malformed++;
    }
  }
  truth.statistics.hosts = hostsWithSelinux.size;
  return { text: `${lines.join('\n')}\n`, truth };
}

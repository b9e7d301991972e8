import { describe, expect, it } from 'vitest';
import { createExplainer } from './explain.ts';
import { DEBIAN_POLICY, debianPolicy, patchedPolicy, runDebian } from './test-policies.ts';
import type { Explanation, Fix } from './types.ts';

const kinds = (e: Explanation) => e.fixes.map((f) => f.kind);
const texts = (fixes: readonly Fix[]) => fixes.map((f) => f.text);

describe.runIf(runDebian)('label and port advice (Debian reference policy)', { timeout: 120_000 }, () => {
  const policy = debianPolicy();
  const explainer = createExplainer(policy);
  const bind = {
    scontext: 'system_u:system_r:httpd_t:s0',
    tcontext: 'system_u:object_r:reserved_port_t:s0',
    tclass: 'tcp_socket',
    perms: ['name_bind'],
  };

  describe('restorecon when the default label of the path (file_contexts) allows the access', () => {
    const www = { type: 'httpd_sys_content_t', spec: '/var/www(/.*)?' };
    const read = {
      scontext: 'system_u:system_r:httpd_t:s0',
      tclass: 'file',
      perms: ['getattr', 'open', 'read'],
    };

    it('puts restorecon first on a TE denial (a file moved from a Samba share into /var/www) and no other label', () => {
      const e = explainer.explain({
        ...read,
        tcontext: 'system_u:object_r:samba_share_t:s0',
        defaultLabel: www,
      });
      expect(e.verdict).toBe('TE_MISSING');
      expect(e.fixes).toEqual([
        { kind: 'restorecon', text: "restorecon -v '<path>'", verified: true },
        { kind: 'allow', text: 'allow httpd_t samba_share_t:file { getattr open read };', verified: true },
      ]);
      const line = e.evidence.find((l) => l.includes('file_contexts')) as string;
      expect(line).toContain('labelled samba_share_t');
      expect(line).toContain('httpd_sys_content_t (spec "/var/www(/.*)?")');
      expect(line).toContain('usually the right fix');
      // Without the default label: no restorecon (the object may be where samba_share_t belongs).
      const plain = explainer.explain({ ...read, tcontext: 'system_u:object_r:samba_share_t:s0' });
      expect(kinds(plain)).toEqual(['allow']);
    });

    it('puts restorecon before the boolean on a BOOLEAN denial, verdict and booleans unchanged', () => {
      const e = explainer.explain({
        ...read,
        tcontext: 'unconfined_u:object_r:user_home_t:s0',
        defaultLabel: www,
      });
      expect(e.verdict).toBe('BOOLEAN');
      expect(e.booleans.map((b) => b.name)).toContain('httpd_read_user_content');
      expect(e.fixes[0]).toEqual({ kind: 'restorecon', text: "restorecon -v '<path>'", verified: true });
      expect(
        kinds(e)
          .slice(1)
          .every((k) => k === 'setsebool'),
      ).toBe(true);
    });

    it('replaces the generic-label advice: the default label is known, semanage fcontext is not needed', () => {
      const e = explainer.explain({ ...read, tcontext: 'system_u:object_r:default_t:s0', defaultLabel: www });
      expect(kinds(e)).toEqual(['restorecon', 'allow']);
      expect(e.evidence.join('\n')).not.toContain('semanage');
    });

    it('says so, and keeps the other advice, when the label is already the default or the default does not allow it', () => {
      const same = explainer.explain({
        ...read,
        tcontext: 'system_u:object_r:default_t:s0',
        defaultLabel: { type: 'default_t', spec: '/.*' },
      });
      expect(kinds(same)[0]).toBe('semanage');
      expect(same.evidence.join('\n')).toContain(
        'its label is the default, so restorecon alone would not change it',
      );
      const notEither = explainer.explain({
        ...read,
        tcontext: 'system_u:object_r:default_t:s0',
        defaultLabel: { type: 'shadow_t', spec: '/etc/shadow.*' },
      });
      // The generic-label advice stands: semanage fcontext first, restorecon after it.
      expect(kinds(notEither)[0]).toBe('semanage');
      expect(notEither.evidence.join('\n')).toContain('restorecon alone would not fix this');
      const unknown = explainer.explain({
        ...read,
        tcontext: 'system_u:object_r:default_t:s0',
        defaultLabel: { type: 'no_such_t', spec: '/x' },
      });
      expect(unknown.evidence.join('\n')).toContain('which this policy does not define');
      // Not a file class: file_contexts does not label sockets' peers.
      const sock = explainer.explain({
        ...bind,
        port: 81,
        defaultLabel: www,
      });
      expect(kinds(sock)).not.toContain('restorecon');
    });

    it('says nothing for create, relabelto or relabelfrom: their target is not an existing label', () => {
      for (const perms of [['create'], ['relabelto'], ['relabelfrom', 'getattr']]) {
        const e = explainer.explain({
          ...read,
          perms,
          tcontext: 'system_u:object_r:samba_share_t:s0',
          defaultLabel: www,
        });
        expect(kinds(e), perms.join(' ')).not.toContain('restorecon');
        expect(e.evidence.join('\n')).not.toContain('file_contexts');
      }
    });

    it('gives no restorecon on a filesystem without per-file labels (noxattrfs: NFS, FUSE...)', () => {
      const e = explainer.explain({ ...read, tcontext: 'system_u:object_r:nfs_t:s0', defaultLabel: www });
      expect(kinds(e)).not.toContain('restorecon');
      expect(e.evidence.join('\n')).toContain('nfs_t labels a whole filesystem without per-file labels');
    });

    it("gives no restorecon to a container domain: its path is in the container's mount namespace", () => {
      // httpd_sys_script_t (a CGI script) reading a file moved from a Samba share: restorecon on the host...
      const cgi = { ...read, scontext: 'system_u:system_r:httpd_sys_script_t:s0' };
      const moved = { ...cgi, tcontext: 'system_u:object_r:samba_share_t:s0', defaultLabel: www };
      expect(kinds(explainer.explain(moved))[0]).toBe('restorecon');
      // ...but not once its domain is a container's: the policy's httpd_script_domains attribute renamed to
      // container-selinux's older svirt_sandbox_domain (same length), and policykit_domain to
      // container_domain.
      const sandboxed = createExplainer(
        patchedPolicy(DEBIAN_POLICY, 'httpd_script_domains', 'svirt_sandbox_domain'),
      );
      const e = sandboxed.explain(moved);
      expect(e.verdict).toBe('TE_MISSING');
      expect(kinds(e)).toEqual(['allow']);
      const line = e.evidence.find((l) => l.includes('container')) as string;
      expect(line).toContain('httpd_sys_script_t is a container domain (attribute svirt_sandbox_domain)');
      expect(line).toContain('no restorecon is offered');
      expect(sandboxed.explain({ ...read, tcontext: moved.tcontext, defaultLabel: www }).fixes[0]?.kind).toBe(
        'restorecon',
      );
      // polkit's authentication agent reading a file moved from a Samba share into /usr.
      const agent = {
        ...read,
        scontext: 'system_u:system_r:policykit_auth_t:s0',
        tcontext: 'system_u:object_r:samba_share_t:s0',
        defaultLabel: { type: 'usr_t', spec: '/usr/.*' },
      };
      expect(kinds(explainer.explain(agent))[0]).toBe('restorecon');
      const contained = createExplainer(patchedPolicy(DEBIAN_POLICY, 'policykit_domain', 'container_domain'));
      const c = contained.explain(agent);
      expect(kinds(c)).toEqual(['allow']);
      expect(c.evidence.join('\n')).toContain(
        'policykit_auth_t is a container domain (attribute container_domain)',
      );
    });

    it('forces (-F) a customizable type, which restorecon otherwise keeps, and says why', () => {
      const e = explainer.explain({
        ...read,
        tcontext: 'system_u:object_r:samba_share_t:s0',
        defaultLabel: { ...www, customizable: true },
      });
      expect(e.fixes[0]).toEqual({ kind: 'restorecon', text: "restorecon -F -v '<path>'", verified: true });
      expect(e.evidence.join('\n')).toContain('samba_share_t is a customizable type');
    });

    it('memoizes per default label', () => {
      const a = explainer.explain({
        ...read,
        tcontext: 'system_u:object_r:samba_share_t:s0',
        defaultLabel: www,
      });
      const b = explainer.explain({
        ...read,
        tcontext: 'system_u:object_r:samba_share_t:s0',
        defaultLabel: { type: 'samba_share_t', spec: '/srv/samba(/.*)?' },
      });
      expect(kinds(a)[0]).toBe('restorecon');
      expect(kinds(b)).toEqual(['allow']);
    });
  });

  it('offers semanage port for the port types the domain may bind, before the allow rule', () => {
    const e = explainer.explain({ ...bind, port: 81 });
    expect(e.verdict).toBe('TE_MISSING');
    expect(e.fixes).toEqual([
      { kind: 'semanage', text: 'semanage port -a -t http_port_t -p tcp 81', verified: true },
      { kind: 'semanage', text: 'semanage port -a -t http_cache_port_t -p tcp 81', verified: true },
      { kind: 'allow', text: 'allow httpd_t reserved_port_t:tcp_socket name_bind;', verified: true },
    ]);
    const line = e.evidence.find((l) => l.includes('semanage port'));
    expect(line).toContain('http_port_t, http_cache_port_t');
    expect(line).toContain('usually the right fix');
    expect(line).toContain('generic port type');
  });

  it('modifies (-m) a port that has its own record in the policy: semanage port -a would say "already defined"', () => {
    // portcon tcp 10023 postgrey_port_t: httpd_t may not bind it; http_cache_port_t and http_port_t it may.
    const e = explainer.explain({
      ...bind,
      tcontext: 'system_u:object_r:postgrey_port_t:s0',
      port: 10023,
    });
    expect(e.verdict).toBe('TE_MISSING');
    expect(e.fixes).toEqual([
      { kind: 'semanage', text: 'semanage port -m -t http_port_t -p tcp 10023', verified: true },
      { kind: 'semanage', text: 'semanage port -m -t http_cache_port_t -p tcp 10023', verified: true },
      { kind: 'allow', text: 'allow httpd_t postgrey_port_t:tcp_socket name_bind;', verified: true },
    ]);
    const line = e.evidence.find((l) => l.includes('semanage port')) as string;
    expect(line).toContain('relabelling moves the port away from what uses postgrey_port_t');
    expect(line).toContain('10023/tcp has its own record in this policy');
    expect(line).not.toContain('instead of -a');
    // tcp 10081 is only inside amanda_port_t 10080-10083: a new, narrower record, so -a (and no hint).
    const ranged = explainer.explain({
      ...bind,
      tcontext: 'system_u:object_r:amanda_port_t:s0',
      port: 10081,
    });
    expect(texts(ranged.fixes)).toEqual([
      'semanage port -a -t http_port_t -p tcp 10081',
      'semanage port -a -t http_cache_port_t -p tcp 10081',
      'allow httpd_t amanda_port_t:tcp_socket name_bind;',
    ]);
    const rangedLine = ranged.evidence.find((l) => l.includes('semanage port')) as string;
    expect(rangedLine).toContain('(relabelling moves the port away from what uses amanda_port_t).');
  });

  it('keeps -a and the hint about -m when the port is unknown, whatever the type', () => {
    const e = explainer.explain({ ...bind, tcontext: 'system_u:object_r:postgrey_port_t:s0', port: null });
    expect(texts(e.fixes)[0]).toBe('semanage port -a -t http_port_t -p tcp <port>');
    const line = e.evidence.find((l) => l.includes('semanage port')) as string;
    expect(line).toContain('if semanage says it is already defined, use -m instead of -a');
  });

  it('writes a <port> placeholder, unverified, when the port is unknown or invalid', () => {
    for (const port of [undefined, null, 70000, -1, 8.5]) {
      const e = explainer.explain({ ...bind, port });
      expect(e.fixes[0]).toEqual({
        kind: 'semanage',
        text: 'semanage port -a -t http_port_t -p tcp <port>',
        verified: false,
      });
      expect(e.evidence.some((l) => l.includes('<port>'))).toBe(true);
    }
  });

  it('keys its memo on the port only when it is set', () => {
    const a = explainer.explain({ ...bind, port: 81 });
    const b = explainer.explain({ ...bind, port: 8081 });
    expect(texts(a.fixes)[0]).toMatch(/ 81$/);
    expect(texts(b.fixes)[0]).toMatch(/ 8081$/);
    expect(explainer.explain(bind)).toBe(explainer.explain({ ...bind, port: null }));
  });

  it('uses the protocol of the socket class and caps the list with a count of the others', () => {
    const e = explainer.explain({
      scontext: 'system_u:system_r:named_t:s0',
      tcontext: 'system_u:object_r:reserved_port_t:s0',
      tclass: 'udp_socket',
      perms: ['name_bind'],
      port: 99,
    });
    expect(['TE_MISSING', 'DONTAUDIT']).toContain(e.verdict);
    const ports = e.fixes.filter((f) => f.kind === 'semanage');
    expect(ports.length).toBeGreaterThan(0);
    expect(ports.length).toBeLessThanOrEqual(3);
    for (const f of ports) expect(f.text).toMatch(/^semanage port -a -t \w+ -p udp 99$/);
    expect(kinds(e).at(-1)).toBe('allow');
  });

  it('says nothing about a service port type when no port type allows the access', () => {
    const e = explainer.explain({
      scontext: 'user_u:user_r:user_ssh_agent_t:s0',
      tcontext: 'system_u:object_r:distccd_port_t:s0-s0:c0.c1023',
      tclass: 'udp_socket',
      perms: ['name_bind'],
    });
    expect(e.verdict).toBe('TE_MISSING');
    expect(e.evidence.some((l) => l.includes('semanage'))).toBe(false);
    expect(kinds(e)).toEqual(['allow']);
  });

  it('gives no port advice for other permissions or non-socket classes', () => {
    const e = explainer.explain({ ...bind, perms: ['node_bind'], port: 81 });
    expect(kinds(e)).not.toContain('semanage');
  });

  it('offers semanage fcontext and restorecon for a generic file label, types of the domain first', () => {
    const e = explainer.explain({
      scontext: 'system_u:system_r:httpd_t:s0',
      tcontext: 'system_u:object_r:default_t:s0',
      tclass: 'file',
      perms: ['read'],
    });
    expect(e.verdict).toBe('TE_MISSING');
    const fc = e.fixes.filter((f) => f.kind === 'semanage');
    expect(fc.length).toBe(3);
    for (const f of fc) {
      expect(f.text).toMatch(/^semanage fcontext -a -t httpd_\w+ '<path>'$/);
      expect(f.verified).toBe(true);
    }
    expect(kinds(e)).toEqual(['semanage', 'semanage', 'semanage', 'restorecon', 'allow']);
    expect(e.fixes[3]).toEqual({ kind: 'restorecon', text: "restorecon -v '<path>'", verified: true });
    const line = e.evidence.find((l) => l.includes('generic'));
    expect(line).toContain('default_t');
    expect(line).toMatch(/and \d+ other/);
    // Each candidate is one the policy lets httpd_t read.
    for (const f of fc) {
      const type = f.text.split(' ')[4] as string;
      const v = explainer.explain({
        scontext: 'system_u:system_r:httpd_t:s0',
        tcontext: `system_u:object_r:${type}:s0`,
        tclass: 'file',
        perms: ['read'],
      });
      expect(v.verdict).toBe('ALLOWED');
    }
  });

  it("ranks the domain's own types before another service's type of the label's kind (udev_t dir getattr on tmp_t)", () => {
    const udev = (type: string) =>
      explainer.explain({
        scontext: 'system_u:system_r:udev_t:s0',
        tcontext: `system_u:object_r:${type}:s0`,
        tclass: 'dir',
        perms: ['getattr'],
      });
    // This policy has no udev_tmp_t and no type_transition of udev_t from tmp_t; of its *_tmp_t types the
    // engine lets udev_t getattr only on bootloader_tmp_t, another service's, which comes after udev_t's
    // own types (the domain's prefix, then the kind of the label).
    expect(udev('udev_tmp_t').verdict).toBe('INVALID_CONTEXT');
    expect(udev('bootloader_tmp_t').verdict).toBe('ALLOWED');
    const e = udev('tmp_t');
    expect(e.verdict).toBe('DONTAUDIT'); // the policy dontaudits it; the advice is the same
    const fc = texts(e.fixes.filter((f) => f.kind === 'semanage'));
    expect(fc).toEqual([
      "semanage fcontext -a -t udev_runtime_t '<path>'",
      "semanage fcontext -a -t udev_rules_t '<path>'",
      "semanage fcontext -a -t bootloader_tmp_t '<path>'",
    ]);
    expect(e.evidence.some((l) => l.includes('on udev_runtime_t, udev_rules_t, bootloader_tmp_t and'))).toBe(
      true,
    );
  });

  it('says so when no file type allows the access (samba_share: smbd_t dir append)', () => {
    const e = explainer.explain({
      scontext: 'root:system_r:smbd_t:s0',
      tcontext: 'root:object_r:default_t:s0',
      tclass: 'dir',
      perms: ['append'],
    });
    expect(e.verdict).toBe('TE_MISSING');
    expect(kinds(e)).toEqual(['allow']);
    expect(
      e.evidence.some((l) => l.includes('default_t is a generic label') && l.includes('no file type')),
    ).toBe(true);
  });

  it('gives no label advice on a type that is not generic', () => {
    const e = explainer.explain({
      scontext: 'system_u:system_r:smbd_t:s0',
      tcontext: 'system_u:object_r:ssh_home_t:s0',
      tclass: 'file',
      perms: ['read'],
    });
    expect(kinds(e)).not.toContain('restorecon');
    expect(kinds(e)).not.toContain('semanage');
  });

  describe("ranks the service's usual types first (what an administrator would label the object with)", () => {
    // The denials the ranking of relabel.ts (rankCandidates) was chosen on: [source type, target type,
    // class, perms, the acceptable types, 1 when the first type offered must be one of them, 3 when one of
    // the 3 shown must]. 31 are right first and all 35 in the 3 shown (the former order, kind then prefix
    // then name: 16 and 26). Port 99: the port advice also comes with BOOLEAN verdicts (sshd_t, squid_t).
    const cases: Array<[string, string, string, string[], string[], 1 | 3]> = [
      ['httpd_t', 'default_t', 'file', ['read'], ['httpd_sys_content_t'], 1],
      ['httpd_t', 'default_t', 'dir', ['getattr', 'open', 'read', 'search'], ['httpd_sys_content_t'], 1],
      ['httpd_t', 'default_t', 'lnk_file', ['read'], ['httpd_sys_content_t'], 1],
      // type_transition httpd_t var_t:dir httpd_cache_t: what httpd_t itself creates under var_t.
      ['httpd_t', 'var_t', 'file', ['write'], ['httpd_cache_t', 'httpd_var_lib_t'], 1],
      // httpd_bad_labels.log: not httpd_exec_t, the entrypoint of httpd_t itself.
      ['httpd_t', 'var_t', 'file', ['execute_no_trans'], ['bin_t'], 1],
      ['httpd_t', 'tmp_t', 'file', ['write'], ['httpd_tmp_t'], 1],
      // Zone files or the configuration: either is a good answer (named_zone_t comes first).
      ['named_t', 'default_t', 'file', ['read'], ['named_zone_t', 'named_conf_t'], 1],
      ['named_t', 'default_t', 'dir', ['read', 'search'], ['named_zone_t', 'named_conf_t'], 1],
      ['named_t', 'var_t', 'file', ['write'], ['named_cache_t'], 1],
      ['mysqld_t', 'default_t', 'dir', ['add_name', 'write'], ['mysqld_db_t'], 1],
      // Nothing in the policy tells a relocated database from a log or pid file under /var.
      ['mysqld_t', 'var_t', 'file', ['open', 'read', 'write'], ['mysqld_db_t'], 3],
      ['postgresql_t', 'default_t', 'dir', ['add_name', 'write'], ['postgresql_db_t'], 3],
      ['postgresql_t', 'var_t', 'file', ['write'], ['postgresql_db_t'], 1],
      ['postfix_master_t', 'default_t', 'file', ['read'], ['postfix_etc_t'], 1],
      ['postfix_master_t', 'etc_t', 'file', ['write'], ['postfix_etc_t'], 1],
      ['squid_t', 'default_t', 'file', ['read'], ['squid_conf_t'], 1],
      ['squid_t', 'var_t', 'file', ['write'], ['squid_cache_t', 'squid_log_t'], 1],
      ['dovecot_t', 'default_t', 'file', ['read'], ['dovecot_etc_t'], 3],
      ['dovecot_t', 'var_t', 'dir', ['add_name', 'write'], ['dovecot_var_lib_t'], 1],
      ['sshd_t', 'default_t', 'file', ['read'], ['sshd_key_t'], 1],
      ['sshd_t', 'tmp_t', 'file', ['write'], ['sshd_tmp_t'], 1],
      ['crond_t', 'etc_t', 'file', ['execute'], ['bin_t', 'shell_exec_t'], 1],
      // type_transition ntpd_t var_t:file ntp_drift_t, although the name is not ntpd_*.
      ['ntpd_t', 'var_t', 'file', ['write'], ['ntp_drift_t'], 1],
      ['cupsd_t', 'etc_t', 'file', ['write'], ['cupsd_rw_etc_t'], 1],
      ['chronyd_t', 'var_t', 'file', ['write'], ['chronyd_var_lib_t'], 1],
      ['dhcpd_t', 'var_t', 'file', ['write'], ['dhcpd_state_t'], 3],
      ['slapd_t', 'var_t', 'file', ['write'], ['slapd_db_t'], 1],
      ['httpd_t', 'reserved_port_t', 'tcp_socket', ['name_bind'], ['http_port_t'], 1],
      ['sshd_t', 'unreserved_port_t', 'tcp_socket', ['name_bind'], ['ssh_port_t'], 1],
      ['named_t', 'reserved_port_t', 'udp_socket', ['name_bind'], ['dns_port_t'], 1],
      ['postfix_master_t', 'reserved_port_t', 'tcp_socket', ['name_bind'], ['smtp_port_t'], 1],
      ['mysqld_t', 'unreserved_port_t', 'tcp_socket', ['name_bind'], ['mysqld_port_t'], 1],
      ['ntpd_t', 'reserved_port_t', 'udp_socket', ['name_bind'], ['ntp_port_t'], 1],
      ['dovecot_t', 'reserved_port_t', 'tcp_socket', ['name_bind'], ['pop_port_t'], 1],
      ['squid_t', 'reserved_port_t', 'tcp_socket', ['name_bind'], ['squid_port_t'], 1],
    ];
    for (const [source, target, tclass, perms, ok, rank] of cases) {
      it(`${source} ${target}:${tclass} ${perms.join(' ')}: ${ok.join(' or ')}${rank === 1 ? ' first' : ' shown'}`, () => {
        const e = explainer.explain({
          scontext: `system_u:system_r:${source}:s0`,
          tcontext: `system_u:object_r:${target}:s0`,
          tclass,
          perms,
          port: 99,
        });
        const offered = e.fixes
          .filter((f) => f.kind === 'semanage')
          .map((f) => f.text.split(' ')[4] as string);
        expect(offered.length).toBeGreaterThan(0);
        expect(
          offered.slice(0, rank).some((t) => ok.includes(t)),
          offered.join(', '),
        ).toBe(true);
      });
    }

    it('offers the entrypoint of the domain itself last (httpd_bad_labels.log: httpd_exec_t)', () => {
      const e = explainer.explain({
        scontext: 'system_u:system_r:httpd_t:s0',
        tcontext: 'system_u:object_r:var_t:s0',
        tclass: 'file',
        perms: ['execute_no_trans'],
      });
      expect(texts(e.fixes.filter((f) => f.kind === 'semanage'))).toEqual([
        "semanage fcontext -a -t bin_t '<path>'",
        "semanage fcontext -a -t shell_exec_t '<path>'",
        "semanage fcontext -a -t lib_t '<path>'",
      ]);
      expect(e.evidence.some((l) => l.includes('on bin_t, shell_exec_t, lib_t and 1 other.'))).toBe(true);
    });
  });

  describe('a BOOLEAN port denial on a generic port type: the port label first, the booleans unchanged', () => {
    const sshd = {
      scontext: 'system_u:system_r:sshd_t:s0',
      tcontext: 'system_u:object_r:unreserved_port_t:s0',
      tclass: 'tcp_socket',
      perms: ['name_bind'],
    };

    it('sshd_t name_bind on tcp 2222: semanage port -a -t ssh_port_t before setsebool sshd_port_forwarding', () => {
      const e = explainer.explain({ ...sshd, port: 2222 });
      expect(e.verdict).toBe('BOOLEAN');
      expect(e.booleans.map((b) => [b.name, b.current, b.blastRadius])).toEqual([
        ['sshd_port_forwarding', false, { rules: 2, triples: 233 }],
      ]);
      expect(e.fixes).toEqual([
        { kind: 'semanage', text: 'semanage port -a -t ssh_port_t -p tcp 2222', verified: true },
        { kind: 'semanage', text: 'semanage port -a -t xserver_port_t -p tcp 2222', verified: true },
        { kind: 'setsebool', text: 'setsebool -P sshd_port_forwarding 1', verified: true },
      ]);
      // The boolean's own evidence stays; the port lines come after it and say why the label is narrower.
      expect(e.evidence[0]).toBe('The boolean sshd_port_forwarding is off; turning it on allows name_bind.');
      const port = e.evidence.find((l) => l.startsWith('Port 2222/tcp')) as string;
      expect(port).toContain('sshd_t is allowed name_bind on ports of type ssh_port_t, xserver_port_t');
      expect(port).toContain('rather than turning on a boolean');
      expect(e.evidence).toContain(
        'The port label is the narrower fix: semanage port changes the type of port 2222/tcp alone, while sshd_port_forwarding enables 2 allow rules over 233 (source, target, class) triples.',
      );
    });

    it('httpd_t name_connect to tcp 9999: no port label it reaches only through a broad attribute; the booleans', () => {
      // httpd_t may connect to dns_port_t only as a member of nsswitch_domain (359 domains): labelling a
      // web backend's port dns_port_t would open it to all of them. It is not httpd_t's own port type.
      const e = explainer.explain({
        ...sshd,
        scontext: 'system_u:system_r:httpd_t:s0',
        perms: ['name_connect'],
        port: 9999,
      });
      expect(e.verdict).toBe('BOOLEAN');
      expect(e.booleans.map((b) => b.name)).toEqual(['httpd_can_network_connect', 'allow_ypbind']);
      expect(kinds(e)).toEqual(['setsebool', 'setsebool']);
      expect(e.evidence.join('\n')).not.toContain('dns_port_t');
      expect(e.evidence.join('\n')).not.toContain('narrower fix');
    });

    it('keeps the placeholder and -a with the port unknown', () => {
      const e = explainer.explain(sshd);
      expect(e.verdict).toBe('BOOLEAN');
      expect(e.fixes[0]).toEqual({
        kind: 'semanage',
        text: 'semanage port -a -t ssh_port_t -p tcp <port>',
        verified: false,
      });
      expect(e.evidence.some((l) => l.includes('changes the type of port <port>/tcp alone'))).toBe(true);
    });

    it("offers no relabelling of a service's port: the boolean made for it is the fix (httpd_t to mysqld_port_t)", () => {
      const e = explainer.explain({
        ...sshd,
        scontext: 'system_u:system_r:httpd_t:s0',
        tcontext: 'system_u:object_r:mysqld_port_t:s0',
        perms: ['name_connect'],
        port: 3306,
      });
      expect(e.verdict).toBe('BOOLEAN');
      expect(kinds(e)).toEqual(['setsebool', 'setsebool']);
      expect(e.evidence.some((l) => l.includes('semanage'))).toBe(false);
    });
  });

  it('gives no label advice on home labels: they are labelled for their use (httpd_t lnk_file read on user_home_t)', () => {
    for (const type of ['user_home_t', 'user_home_dir_t', 'admin_home_t', 'home_root_t']) {
      const e = explainer.explain({
        scontext: 'system_u:system_r:httpd_t:s0',
        tcontext: `unconfined_u:object_r:${type}:s0`,
        tclass: 'lnk_file',
        perms: ['read'],
      });
      expect(kinds(e), type).not.toContain('semanage');
      expect(kinds(e), type).not.toContain('restorecon');
      expect(
        e.evidence.some((l) => l.includes('generic')),
        type,
      ).toBe(false);
    }
  });

  it("says once what '<path>' stands for, where the fcontext commands are offered", () => {
    const e = explainer.explain({
      scontext: 'system_u:system_r:httpd_t:s0',
      tcontext: 'system_u:object_r:default_t:s0',
      tclass: 'file',
      perms: ['read'],
    });
    const lines = e.evidence.filter((l) => l.includes("'<path>'"));
    expect(lines).toEqual([
      "'<path>' stands for the object's path (the record's path=, or the name in its event's PATH record of the same inode; name= holds only the last component): fill it in yourself; it is never pasted from the record, because audit text is untrusted.",
    ]);
  });

  it('never offers a semanage command naming a type that is not an identifier', () => {
    const evil = 'http;id\n__t';
    const crafted = createExplainer(patchedPolicy(DEBIAN_POLICY, 'http_port_t', evil));
    const e = crafted.explain({ ...bind, port: 81 });
    expect(e.fixes.some((f) => f.kind === 'semanage')).toBe(false);
    expect(e.fixes.some((f) => f.kind === 'note' && f.text.includes('not a valid policy identifier'))).toBe(
      true,
    );
    expect(kinds(e).at(-1)).toBe('allow');
    for (const line of e.evidence) expect(line).not.toContain('\n');
  });
});

// `avcstream policy info FILE` (seinfo statistics) and `avcstream policy query FILE -s T -t T -c C`
// (sesearch -A with indirect attribute matching).
import { parseArgs } from 'node:util';
import { escapeText } from '@avcstream/audit';
import { parseBooleanValue } from '@avcstream/selinux-access';
import {
  formatPolicyInfo,
  type Policy,
  policyInfo,
  queryRules,
  type RuleKind,
  readPolicy,
} from '@avcstream/selinux-policy';
import type { CliIo } from '../cli.ts';
import { hostPolicyPath, PolicyTooLargeError, readPolicyFile } from '../policy-file.ts';

const USAGE = `Usage:
  avcstream policy info [FILE] [--json]
      the statistics seinfo prints (classes, permissions, types, rules, object contexts...)
  avcstream policy query [FILE] [-s TYPE] [-t TYPE] [-c CLASS] [-p PERMS] [--bool NAME=VALUE]... [--json]
      [--allow] [--auditallow] [--dontaudit]
      allow (and allowxperm), auditallow and dontaudit rules that apply, attributes matched indirectly
      like sesearch -A -s -t -c; conditional rules show their expression, branch and whether they are
      enabled under the policy defaults overridden by --bool. Without a kind flag: allow rules (like -A).

FILE defaults to the host's policy, as seinfo and sesearch use the current one: /sys/fs/selinux/policy,
else /etc/selinux/TYPE/policy/policy.N named by /etc/selinux/config.

Exit status: 0 on success, 64 on a usage error, 65 for a malformed or too large policy or an unknown name,
66 when FILE cannot be opened.
`;

const EX_USAGE = 64;
const EX_DATAERR = 65;
const EX_NOINPUT = 66;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function errorCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
}

function load(path: string, io: CliIo): Policy | number {
  try {
    return readPolicy(readPolicyFile(path));
  } catch (e) {
    if (e instanceof PolicyTooLargeError) {
      io.stderr.write('avcstream policy: policy file too large\n');
      return EX_DATAERR;
    }
    const code = errorCode(e);
    if (code.startsWith('AVC_ERR_')) {
      io.stderr.write(`avcstream policy: ${code}: ${message(e)}\n`);
      return EX_DATAERR;
    }
    io.stderr.write(`avcstream policy: cannot open: ${message(e)}\n`);
    return EX_NOINPUT;
  }
}

/** A usage error: one line naming the problem, then the usage, on standard error. */
function usageError(io: CliIo, problem: string): number {
  io.stderr.write(`avcstream policy: ${problem}\n\n${USAGE}`);
  return EX_USAGE;
}

export async function policy(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '-h' || sub === '--help' || sub === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (sub === undefined) return usageError(io, 'missing subcommand: info or query');
  let values: {
    source?: string;
    target?: string;
    class?: string;
    perms?: string;
    bool?: string[];
    json?: boolean;
    allow?: boolean;
    auditallow?: boolean;
    dontaudit?: boolean;
    help?: boolean;
  };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        source: { type: 'string', short: 's' },
        target: { type: 'string', short: 't' },
        class: { type: 'string', short: 'c' },
        perms: { type: 'string', short: 'p' },
        bool: { type: 'string', short: 'b', multiple: true },
        json: { type: 'boolean' },
        allow: { type: 'boolean', short: 'A' },
        auditallow: { type: 'boolean' },
        dontaudit: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    // The message quotes the user's own text: escaped, so it stays one visible line.
    return usageError(io, escapeText(message(e)));
  }
  if (sub !== 'info' && sub !== 'query') {
    return usageError(io, `unknown subcommand "${escapeText(sub)}": info or query`);
  }
  if (values.help === true) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length > 1) return usageError(io, `expected at most one FILE, got ${positionals.length}`);
  const queryOnly = [
    values.source,
    values.target,
    values.class,
    values.perms,
    values.bool,
    values.allow,
    values.auditallow,
    values.dontaudit,
  ];
  if (sub === 'info' && queryOnly.some((v) => v !== undefined)) {
    return usageError(io, '-s, -t, -c, -p, --bool and the rule kinds apply to query only');
  }
  const wanted: [string, boolean][] = [];
  for (const b of values.bool ?? []) {
    const eq = b.indexOf('=');
    const v = eq < 0 ? null : parseBooleanValue(b.slice(eq + 1));
    if (v === null) return usageError(io, '--bool expects NAME=VALUE (0/1/true/false/on/off)');
    wanted.push([b.slice(0, eq), v]);
  }
  let path = positionals[0];
  if (path === undefined) {
    const found = hostPolicyPath(io.hostRoot);
    if (found === null) {
      return usageError(
        io,
        'no FILE given, and this host has no policy (/sys/fs/selinux/policy, or one named by /etc/selinux/config)',
      );
    }
    path = found;
  }
  const p = load(path, io);
  if (typeof p === 'number') return p;

  if (sub === 'info') {
    const info = policyInfo(p);
    // Text goes to a terminal: the path is escaped (the rest is numbers and keywords).
    io.stdout.write(values.json ? `${JSON.stringify(info)}\n` : formatPolicyInfo(info, escapeText(path)));
    return 0;
  }

  const booleans: Record<string, boolean> = {};
  for (const [name, v] of wanted) {
    if (!p.boolByName.has(name)) {
      io.stderr.write(`avcstream policy: unknown boolean ${JSON.stringify(name.slice(0, 128))}\n`);
      return EX_DATAERR;
    }
    booleans[name] = v;
  }
  const kinds: RuleKind[] = [];
  if (values.allow) kinds.push('allow', 'allowxperm');
  if (values.auditallow) kinds.push('auditallow', 'auditallowxperm');
  if (values.dontaudit) kinds.push('dontaudit', 'dontauditxperm');
  if (kinds.length === 0) kinds.push('allow', 'allowxperm');
  try {
    const rules = queryRules(p, {
      source: values.source,
      target: values.target,
      tclass: values.class,
      perms: values.perms?.split(',').filter((x) => x !== ''),
      booleans,
      kinds,
    });
    let out = '';
    for (const r of rules) {
      if (values.json) out += `${JSON.stringify(r)}\n`;
      // Names are bytes from the policy file (a crafted one can hold escape sequences): escaped in text.
      else out += `${escapeText(r.text)}${r.conditional && !r.conditional.enabled ? ' # disabled' : ''}\n`;
    }
    io.stdout.write(out);
  } catch (e) {
    if (errorCode(e).startsWith('AVC_ERR_')) {
      io.stderr.write(`avcstream policy: ${escapeText(message(e))}\n`);
      return EX_DATAERR;
    }
    throw e;
  }
  return 0;
}

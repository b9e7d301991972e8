// Stand-in for `avcstream parse` used to develop the bench (`npm run bench:parse -- --stub`): groups lines
// by their `msg=audit(...)` stamp and node, writes one NDJSON object per event, totals on stderr (with
// --count, on stdout only, with `selected` under --selinux-only, as avcstream parse does). No field
// parsing, no interpretation: a floor for what the real parser costs, not a competitor.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

const args = process.argv.slice(2);
const count = args.includes('--count');
const selinuxOnly = args.includes('--selinux-only');
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  process.stderr.write('usage: stub-parse.ts [--selinux-only] [--count] FILE\n');
  process.exit(2);
}

interface Ev {
  key: string;
  lines: string[];
  selinux: boolean;
}
const open = new Map<string, Ev>();
let lines = 0;
let events = 0;
let emitted = 0;
const out: string[] = [];
const emit = (ev: Ev) => {
  events++;
  if (selinuxOnly && !ev.selinux) return;
  emitted++;
  if (!count) out.push(JSON.stringify({ key: ev.key, records: ev.lines }), '\n');
  if (out.length > 2000) process.stdout.write(out.splice(0).join(''));
};
const rl = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
for await (const line of rl) {
  lines++;
  const a = line.indexOf('msg=audit(');
  if (a < 0) continue;
  const b = line.indexOf(')', a);
  const node = line.startsWith('node=') ? line.slice(5, line.indexOf(' ')) : '';
  const key = `${node}|${line.slice(a + 10, b)}`;
  let ev = open.get(key);
  if (!ev) {
    ev = { key, lines: [], selinux: false };
    open.set(key, ev);
  }
  ev.lines.push(line);
  if (/type=(AVC|USER_AVC|SELINUX_ERR|USER_SELINUX_ERR|MAC_)/.test(line)) ev.selinux = true;
  if (line.includes('type=PROCTITLE') || !line.includes('type=SYSCALL')) {
    if (line.includes('type=PROCTITLE') || line.includes('type=USER_') || line.includes('type=CRED_')) {
      open.delete(key);
      emit(ev);
    }
  }
}
for (const ev of open.values()) emit(ev);
process.stdout.write(out.join(''));
const totals = JSON.stringify({
  lines,
  records: lines,
  events,
  malformed: 0,
  evicted: 0,
  partial: 0,
  ...(selinuxOnly ? { selected: emitted } : {}),
});
if (count) process.stdout.write(`${totals}\n`);
else process.stderr.write(`${totals}\n`);

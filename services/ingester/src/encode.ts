import type { AuditEvent, ParseError } from '@avcstream/audit';
import {
  type DeadLetterMessage,
  encodeDeadLetterMessage,
  encodeEventMessage,
  type EventMessage,
  makeDeadLetter,
  type PolicyRef,
} from '@avcstream/contracts';

export interface OutMessage {
  topic: 'events' | 'deadletter';
  key: string;
  value: Buffer;
}

export interface FileContext {
  path: string;
  dev: number;
  ino: number;
  fp: string;
  fpLen: number;
  /** File offset of the decoder's stream offset 0. */
  base: number;
}

/** An event as an `avcstream.events.v1` message; an event that breaks the contract becomes a dead letter. */
export function encodeEvent(
  event: AuditEvent,
  ctx: {
    host: string;
    ingesterId: string;
    file: FileContext;
    offset: number;
    policy: PolicyRef | null;
    now: Date;
    validate: 'full' | 'envelope';
  },
): OutMessage {
  const host = event.node ?? ctx.host;
  const msg: EventMessage = {
    schema: 'avcstream.events.v1',
    host,
    ingesterId: ctx.ingesterId,
    source: {
      path: ctx.file.path,
      dev: ctx.file.dev,
      ino: ctx.file.ino,
      fp: ctx.file.fp,
      fpLen: ctx.file.fpLen,
      offset: ctx.offset,
    },
    policy: ctx.policy,
    event,
    publishedAt: ctx.now.toISOString(),
  };
  const enc = encodeEventMessage(msg, { validate: ctx.validate });
  if (enc.ok) return { topic: 'events', key: host, value: enc.value };
  const raw = Buffer.from(JSON.stringify(event));
  return deadLetter(
    makeDeadLetter({
      component: 'ingester',
      host,
      code: 'AVC_ERR_INGESTER_EVENT_INVALID',
      message: `${enc.error.code}: ${enc.error.message}`,
      raw,
      source: {
        kind: 'file',
        path: ctx.file.path,
        dev: ctx.file.dev,
        ino: ctx.file.ino,
        offset: ctx.offset,
        line: event.records[0]?.line ?? 0,
      },
      at: ctx.now,
    }),
  );
}

/** A malformed line as an `avcstream.deadletter.v1` message with its raw bytes and file position. */
export function encodeParseError(err: ParseError, ctx: { host: string; file: FileContext; now: Date }): OutMessage {
  return deadLetter(
    makeDeadLetter({
      component: 'ingester',
      host: ctx.host,
      code: err.code ?? 'AVC_ERR_AUDIT_PARSE',
      message: err.message,
      // The line's bytes as written (the decoder sets them); `raw` is their UTF-8 reading.
      raw: err.bytes ?? Buffer.from(err.raw, 'utf8'),
      // An over-long line: `bytes` is its head; the dead letter says the whole length (truncated: true).
      rawBytes: err.lineBytes,
      source: {
        kind: 'file',
        path: ctx.file.path,
        dev: ctx.file.dev,
        ino: ctx.file.ino,
        offset: ctx.file.base + (err.offset ?? 0),
        line: err.line,
      },
      at: ctx.now,
    }),
  );
}

function deadLetter(msg: DeadLetterMessage): OutMessage {
  const enc = encodeDeadLetterMessage(msg);
  if (!enc.ok) {
    // Only a programmer error can get here (makeDeadLetter bounds everything).
    throw new Error(`dead letter does not validate: ${enc.error.message}`);
  }
  return { topic: 'deadletter', key: msg.host ?? '', value: enc.value };
}

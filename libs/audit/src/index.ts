// Public surface of @avcstream/audit: audit.log bytes -> records -> grouped, interpreted events.
export { parseContext } from './context.ts';
export { escapeText } from './escape.ts';
export type { AuditDecoder, AuditDecoderOptions, DecodeResult, DecodeStats } from './decoder.ts';
export { createAuditDecoder, parseAuditText } from './decoder.ts';
export {
  avcPortOf,
  eventToJson,
  ioctlCommandOf,
  isAppArmorAvc,
  isMalformedAvc,
  isSelinuxEvent,
} from './event.ts';
export { avcObjectPath, type ObjectPathRecord } from './object-path.ts';
export type { ParseOptions } from './parse-line.ts';
export { PARSE_ERROR_CODES, parseLine, slashDateOrder } from './parse-line.ts';
export type { Reassembler, ReassemblerOptions, ReassemblerStats } from './reassembler.ts';
export { createReassembler, isoTime } from './reassembler.ts';
export type { AuditEvent, AuditRecord, AvcInfo, ParseError, SecurityContext } from './types.ts';
export type { NdjsonWriter } from './ndjson.ts';
export { createNdjsonWriter } from './ndjson.ts';

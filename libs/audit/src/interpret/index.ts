// Interpretation at the source: tables and decoders for audit record fields. Pure, synchronous, no I/O.
export { archName, syscallName } from './arch.ts';
export { capabilityName, decodeCapabilities } from './caps.ts';
export { errnoName } from './errno.ts';
export type { InterpretOptions } from './interpret.ts';
export {
  execveArgv,
  FIELD_KINDS,
  fieldKind,
  interpretField,
  interpretRecord,
  splitArgv,
  UNSET,
} from './interpret.ts';
export type { FileMode, FileType } from './mode.ts';
export { describeMode } from './mode.ts';
export type {
  Sockaddr,
  SockaddrInet,
  SockaddrInet6,
  SockaddrNetlink,
  SockaddrOther,
  SockaddrUnix,
} from './sockaddr.ts';
export { decodeSockaddr, formatIpv6 } from './sockaddr.ts';

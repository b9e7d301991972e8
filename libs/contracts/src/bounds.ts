/** Size bounds applied to every contract. A message or document over a bound is invalid (dead-lettered). */
export const BOUNDS = {
  /** Largest serialized Kafka message accepted by `decode*` (bytes). */
  maxMessageBytes: 1024 * 1024,
  /** Largest policy chunk payload (raw bytes before base64). */
  maxPolicyChunkBytes: 512 * 1024,
  /** Largest whole policy binary accepted (bytes). */
  maxPolicyBytes: 64 * 1024 * 1024,
  /** Largest file_contexts set accepted, as its serialized bundle (bytes; Debian's and Fedora's: 0.3-1 MB). */
  maxFileContextsBytes: 32 * 1024 * 1024,
  maxHostChars: 255,
  maxIdChars: 128,
  maxPathChars: 4096,
  maxRecordsPerEvent: 1024,
  maxFieldsPerRecord: 1024,
  maxFieldKeyChars: 128,
  maxFieldValueChars: 65536,
  maxContextChars: 1024,
  maxPerms: 64,
  maxNameChars: 256,
  maxBooleans: 4096,
  maxReasonChars: 2048,
  maxRawBytes: 256 * 1024,
  maxTextChars: 65536,
  maxFixes: 32,
  maxSuggestions: 64,
} as const;

export const TOPICS = {
  events: 'avcstream.events.v1',
  policy: 'avcstream.policy.v1',
  deadletter: 'avcstream.deadletter.v1',
} as const;

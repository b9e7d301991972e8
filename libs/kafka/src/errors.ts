import { AvcError } from '@avcstream/pipeline';

/** Wraps a kafkajs error into an AvcError keeping kafkajs' retriable flag; kafkajs types never escape. */
export function kafkaError(
  code: string,
  message: string,
  cause: unknown,
  details: Record<string, unknown> = {},
): AvcError {
  const c = cause as { retriable?: unknown; name?: unknown; type?: unknown } | undefined;
  const retriable = typeof c?.retriable === 'boolean' ? c.retriable : true;
  const name = typeof c?.name === 'string' ? c.name : undefined;
  const type = typeof c?.type === 'string' ? c.type : undefined;
  return new AvcError(code, message, {
    retriable,
    cause,
    details: { ...details, ...(name ? { kafkaError: name } : {}), ...(type ? { kafkaErrorType: type } : {}) },
  });
}

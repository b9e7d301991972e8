let counter = 0;

/**
 * A name no other test (in this or a concurrent run) uses, valid as a Kafka topic, consumer group and
 * Elasticsearch index: lower case `[a-z0-9._-]`, at most 200 characters.
 */
export function uniqueName(prefix: string): string {
  counter++;
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-_.]+/, '') || 't';
  const rand = Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0');
  const suffix = `${process.pid.toString(36)}-${Date.now().toString(36)}-${counter.toString(36)}-${rand}`;
  return `${clean.slice(0, 200 - suffix.length - 1)}-${suffix}`;
}

import { startServices, stopServices } from '@avcstream/testkit';

/**
 * Vitest global setup of the integration tests: one real Kafka and one real Elasticsearch for the whole run
 * (KAFKA_BROKERS/ELASTICSEARCH_URL, else testcontainers, else deploy/local). Under CI a failure fails the run.
 * The services are published in process.env, which the test workers inherit.
 */
export default async function setup(): Promise<() => Promise<void>> {
  await startServices();
  return async () => {
    await stopServices();
  };
}

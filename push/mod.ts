/**
 * Pushing to a Pushgateway, mirroring client_golang's `push` package: for batch jobs
 * that end before Prometheus could scrape them.
 *
 * @example
 * ```ts
 * import { newGauge } from "./prometheus/mod.ts";
 * import { newPusher } from "./push/mod.ts";
 * const completion = newGauge({ name: "db_backup_last_completion_timestamp_seconds", help: "Last completed backup." });
 * completion.setToCurrentTime();
 * await newPusher("http://pushgateway:9091", "db_backup").collector(completion).push();
 * ```
 * @module
 */
export { type FetchLike, newPusher, Pusher } from "./push.ts";

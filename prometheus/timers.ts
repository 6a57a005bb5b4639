/**
 * Limits of the runtimes' timers that deadlines have to respect.
 * @module
 */

/**
 * The longest delay a timer holds: 2^31-1 ms, about 24.8 days. Deno fires a longer
 * `AbortSignal.timeout` at once, and both runtimes throw beyond 2^53 ms, so a deadline
 * further off than this counts as none.
 */
export const maxTimerMs = 2 ** 31 - 1;

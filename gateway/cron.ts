import { CronExpressionParser } from 'cron-parser';
import type { Logger } from '../lib/log.ts';
import type { Invoker } from './invoker.ts';
import type { RegisteredFunction } from './registry.ts';

/**
 * Fires the `schedule` of cron functions when hop runs without OpenFaaS (whose
 * cron-connector does it in production). Schedules are read in the gateway's
 * time zone (Asia/Ho_Chi_Minh unless TZ sets another). A run that is still
 * going when the next one is due is not started twice.
 */
export class CronScheduler {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #running = new Set<string>();
  readonly #invoker: Invoker;
  readonly #log: Logger;
  readonly #timeZone: string;
  #stopped = false;

  constructor(invoker: Invoker, log: Logger, timeZone = process.env.TZ || 'Asia/Ho_Chi_Minh') {
    this.#invoker = invoker;
    this.#log = log;
    this.#timeZone = timeZone;
  }

  start(functions: RegisteredFunction[]): void {
    for (const fn of functions) {
      if (fn.schedule) this.#schedule(fn.name, fn.schedule);
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Runs a cron function now; the scheduler calls this, and so can tests. */
  async fire(name: string): Promise<void> {
    if (this.#running.has(name)) {
      this.#log.warn({ fn: name }, 'cron run skipped: the previous run is still going');
      return;
    }
    this.#running.add(name);
    try {
      const result = await this.#invoker.invoke(name, { method: 'POST', path: '/', query: {}, headers: {}, body: {}, params: {}, principal: { kind: 'anonymous' } });
      if (result.status >= 400) this.#log.warn({ fn: name, status: result.status }, 'cron function returned an error');
    } catch (error) {
      this.#log.error({ err: error, fn: name }, 'cron function failed');
    } finally {
      this.#running.delete(name);
    }
  }

  #schedule(name: string, expression: string): void {
    if (this.#stopped) return;
    const next = CronExpressionParser.parse(expression, { tz: this.#timeZone }).next().toDate();
    const delay = Math.max(0, next.getTime() - Date.now());
    const timer = setTimeout(() => {
      void this.fire(name);
      this.#schedule(name, expression);
    }, delay);
    timer.unref();
    this.#timers.set(name, timer);
  }
}

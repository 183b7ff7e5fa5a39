/**
 * A reminder dispatcher in its own process, for the test that kills one with
 * SIGKILL mid-backlog (lib/domain/reminders.test.ts). Reads the database URL,
 * the fixed time and the batch size from DISPATCH_* variables.
 */
import { openDatabase } from '../../lib/adapters/db/database.ts';
import { dispatchDueReminders } from '../../lib/domain/reminders.ts';

const handle = await openDatabase({ kind: 'postgres', url: process.env.DISPATCH_DATABASE_URL!, poolSize: 2 });
const now = new Date(process.env.DISPATCH_NOW!);
await dispatchDueReminders(handle.db, () => now, {
  source: '/hop/functions/reminder-dispatch',
  batchSize: Number(process.env.DISPATCH_BATCH_SIZE ?? '25'),
});
await handle.close();

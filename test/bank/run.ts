/**
 * `npm run test:bank`: the full bank test (about 3 minutes), or another profile.
 *
 *   BANK_SEED=123 npm run test:bank                 reproduce a run's schedule of operations and faults
 *   npm run test:bank -- --profile short            the version inside `npm test`
 *   npm run test:bank -- --workload-s 60            a shorter or longer workload
 *   BANK_KEEP=1 npm run test:bank                   keep the work folder (database, service.log)
 *
 * Exits 1 when a check fails; the seed is printed first and in the summary.
 */
import { full_profile, runBank, seedFromEnv, short_profile, summarize } from './bank.js';
import type { BankProfile } from './bank.js';

function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const at = args.indexOf(`--${name}`);
  return at === -1 ? undefined : args[at + 1];
}

const profiles: Record<string, BankProfile> = { full: full_profile, short: short_profile };
const profile_name = option('profile') ?? process.env.BANK_PROFILE ?? 'full';
const chosen = profiles[profile_name];
if (chosen === undefined) {
  process.stderr.write(`unknown profile ${profile_name}; use ${Object.keys(profiles).join(' or ')}\n`);
  process.exit(2);
}
const workload_s = option('workload-s');
const profile: BankProfile = workload_s === undefined ? chosen : { ...chosen, workload_ms: Number(workload_s) * 1000 };
const seed = seedFromEnv();
const started = new Date();
const report = await runBank({
  seed, profile, keep_work_dir: process.env.BANK_KEEP === '1', service_root: option('service-root'),
  log: (line) => process.stdout.write(`[${((Date.now() - started.getTime()) / 1000).toFixed(1).padStart(6)} s] ${line}\n`),
});
process.stdout.write(`${summarize(report)}\n`);
process.exit(report.violations.length === 0 ? 0 : 1);

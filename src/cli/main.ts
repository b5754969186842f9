// Entry point of bin/tollkeeper.js and `npm start`; the CLI itself is in run.ts.
import { main } from './run.ts';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// A verb that failed half-way through starting (port in use, …) may leave timers behind: do not hang.
if (code !== 0) setTimeout(() => process.exit(code), 200).unref();

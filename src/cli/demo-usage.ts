// Apart from demo-verb.ts so that `tollkeeper --help` and the other verbs do not load the demo.
export const DEMO_USAGE = `Usage: tollkeeper demo [--customers N] [--port P] [--duration S] [--plain] [--log-level LEVEL]

Runs everything on loopback, without root or network: a test mint, tollkeeper with a simulated
gate, and N customers (default 4) who pay over real HTTP from their own 127.0.0.x address, use
data at a few hundred kB/s, top up sometimes, run out, and come back.
  --port P          TollGate HTTP API port on 127.0.0.1 (default: any free port)
  --duration S      stop after S seconds (default: run until Ctrl-C)
  --plain           print a line per state change instead of redrawing in place
  --log-level L     trace|debug|info|warn|error|silent (default warn; pretty, on stderr)`;

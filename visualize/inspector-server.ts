// Run on the operator's laptop: `npx tsx visualize/inspector-server.ts [port]`.
// It relays the gateway's inspection events to Stately's inspector page (which needs internet).
// It listens on every interface of the laptop; reach it from the gateway through an SSH tunnel:
//   ssh -R 8080:127.0.0.1:8080 root@gateway   then serve with --inspect ws://127.0.0.1:8080
import { createInspectorServer } from '@statelyai/inspect/server';

const port = Number(process.argv[2] ?? 8080);
const server = createInspectorServer({ port, autoOpen: false });
console.log(`Stately inspector relay on port ${port}: open http://localhost:${port} in a browser`);
process.once('SIGINT', () => {
  server.stop();
  process.exit(0);
});

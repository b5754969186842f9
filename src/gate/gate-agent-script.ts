import { AGENT_HELLO, shellWord } from './agent-protocol.ts';

/**
 * The agent tollkeeper starts on the router as the ssh session's remote command: POSIX `sh` using
 * only what OpenWrt's busybox has (read, eval, set, printf, mktemp, dd, wc, cat, rm). It answers
 * the frames of agent-protocol.ts one request at a time:
 * - the command line is made the positional parameters by `eval "set -- …"`: every word in it is
 *   single-quoted, so nothing in an argument is expanded, and `"$NL"` is the agent's own newline;
 * - the command runs as `( exec "$@" )`: a program from PATH, never a shell builtin such as eval;
 * - its input is copied first to a file, so a command that stops reading early cannot leave
 *   request bytes in the stream, and a request without input gets an empty file, never the session
 *   itself. `dd bs=R count=1` makes one read of at most the R bytes still missing, so it never takes
 *   a byte of the next frame; a pipe may hand over fewer, so it repeats until the file holds them
 *   all (a read that brings nothing is the session's end);
 * - stdout and stderr go to files, whose sizes are sent before their bytes.
 * The temporary directory goes with the agent, which ends when the session's input ends.
 */
export const GATE_AGENT_SCRIPT = `NL='
'
d=$(mktemp -d /tmp/tollkeeper-agent.XXXXXX) || exit 70
trap 'rm -rf "$d"' EXIT
trap 'exit 129' HUP INT TERM PIPE
printf '${AGENT_HELLO}\\n'
while read -r id len; do
  case $id in ''|*[!0-9]*) exit 65;; esac
  case $len in ''|*[!0-9]*) exit 65;; esac
  IFS= read -r line || exit 65
  eval "set -- $line"
  : >"$d/i"
  got=0
  while [ "$got" -lt "$len" ]; do
    dd bs=$((len - got)) count=1 2>/dev/null >>"$d/i"
    was=$got
    got=$(($(wc -c <"$d/i")))
    [ "$got" -gt "$was" ] || exit 65
  done
  ( exec "$@" ) <"$d/i" >"$d/o" 2>"$d/e"
  rc=$?
  set -- $(wc -c "$d/o" "$d/e")
  printf 'TKR %s %s %s %s\\n' "$id" "$rc" "$1" "$3"
  cat "$d/o" "$d/e"
done
`;

/**
 * The ssh remote command that starts the agent: `exec sh -c '<script>' tollkeeper-agent`, every word
 * quoted for the remote login shell. `shell` is the argv of the shell to run it (`['sh']` on a
 * router; tests use `['busybox', 'sh']`, with `env PATH=…` before it to find fakes).
 */
export function agentRemoteCommand(shell: readonly string[] = ['sh']): string {
  if (shell.length === 0) throw new RangeError('the agent shell argv is empty');
  return ['exec', ...shell.map(shellWord), '-c', shellWord(GATE_AGENT_SCRIPT), 'tollkeeper-agent'].join(' ');
}
